// Starts the BTP qualification provider simulator: a real HTTP server (Hono on node:http) that the hub can forward to.
import { getRequestListener } from '@hono/node-server';
import { createBtpApp, fixedBytes } from './app.ts';
import { BtpStore } from './store.ts';
import { BtpWorkflow } from './workflow.ts';
import { serveLocal } from '../shared/local-server.ts';

export interface BtpSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Where the hub publishes its keys (GET /.well-known/jwks.json); needed when requireHubSignature is set. */
  hubJwksUrl?: string;
  /** Refuse (401) any request without a valid Tabadol-Hub-Signature. */
  requireHubSignature?: boolean;
  /** When set, the forward signature's `iss` must equal it. */
  hubId?: string;
  /** Serve the integration API (adapters/btp-qualification/app.ts) with this bearer token; needs hubJwksUrl. */
  integrationToken?: string;
  /** The platform's subsystem id: the hub's pushes must be addressed to it (default MA/GOV/METLE/qualification-btp). */
  subsystem?: string;
}

export interface BtpSimulator {
  url: string;
  /** The platform's companies (edit them, or see what the hub pushed). */
  store: BtpStore;
  /** Its review workflow: `step()` is one unit of the staff's work (the demo's activity). */
  workflow: BtpWorkflow;
  close(): Promise<void>;
}

const fixedHeaders = { 'content-type': 'application/json', 'content-length': String(fixedBytes.byteLength) };

export async function startBtpSimulator(options: BtpSimulatorOptions = {}): Promise<BtpSimulator> {
  const host = options.host ?? '127.0.0.1';
  if (options.requireHubSignature && !options.hubJwksUrl) throw new Error('requireHubSignature needs hubJwksUrl: the hub keys to verify against');
  if (options.integrationToken && !options.hubJwksUrl) throw new Error('integrationToken needs hubJwksUrl: the hub keys its pushes are checked against');
  const store = new BtpStore();
  const workflow = new BtpWorkflow(store);
  const hubId = options.hubId ? { hubId: options.hubId } : {};
  const app = createBtpApp({
    store,
    workflow,
    ...(options.requireHubSignature && options.hubJwksUrl ? { hubSignature: { jwksUrl: options.hubJwksUrl, ...hubId } } : {}),
    ...(options.integrationToken && options.hubJwksUrl
      ? { integration: { token: options.integrationToken, hubDelivery: { jwksUrl: options.hubJwksUrl, ...hubId, audience: options.subsystem ?? 'MA/GOV/METLE/qualification-btp' } } }
      : {}),
  });
  const honoListener = getRequestListener(app.fetch);
  const fastFixed = !options.requireHubSignature;

  const listening = await serveLocal(
    (req, res) => {
      // Benchmarks measure the hub, so the fixed answer skips even Hono's request wrapping when no signature is checked.
      if (fastFixed && req.method === 'GET' && req.url === '/bench/fixed') {
        res.writeHead(200, fixedHeaders);
        res.end(fixedBytes);
        return;
      }
      void honoListener(req, res);
    },
    { host, ...(options.port !== undefined ? { port: options.port } : {}) },
  );
  listening.server.keepAliveTimeout = 65_000;
  const url = listening.url;

  return {
    url,
    store,
    workflow,
    close: listening.close,
  };
}
