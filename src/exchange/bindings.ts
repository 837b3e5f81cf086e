// How the hub reaches a provider service: a base URL (REST over HTTP) or an adapter binding implemented in code
// (legacy SOAP/XML systems, the hub's own services). Each hub holds its own AdapterBindings; src/ never imports adapters.
import { problemBody, problemCodes, type ProblemCode, type ProblemFieldError } from '../http/problem.ts';
import type { Db, Queryable } from '../storage/db.ts';
import type { ForwardProof } from './forward-proof.ts';

export interface ProviderRequest {
  serviceId: string;
  /** The contract's operation the hub's router matched: an adapter binding dispatches on it, never on the path. */
  operationId: string;
  /** That operation's path parameters, percent-decoded once by the router (`{ice}` → `ice`). */
  pathParams: Readonly<Record<string, string>>;
  method: string;
  /** Path within the service plus `?query`, as the consumer sent it. */
  pathAndQuery: string;
  /** Request headers to pass on (hop-by-hop and hub headers already removed), lower-case names. */
  headers: Record<string, string>;
  body: Uint8Array;
  client: string;
  purpose: string;
  requestId: string;
}

export interface ProviderResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /**
   * For an adapter that built a JSON body from a value: that value, which JSON.parse of `body` would give (plain JSON
   * data: no undefined, Date, NaN or toJSON; the body may space it differently). The hub then validates and minimises
   * it without decoding and parsing the body again (a batch answer is megabytes). Never set from data that the body
   * does not say.
   */
  json?: unknown;
}

/** A problem answered by an in-process adapter: the status its code says, the body bounded like every problem (problemBody). */
export function adapterProblem(code: ProblemCode, detail: string, errors: readonly ProblemFieldError[] = [], errorsOmitted = 0): ProviderResponse {
  const body = problemBody(code, detail, { errors, errorsOmitted });
  return { status: problemCodes[code].status, headers: { 'content-type': 'application/problem+json' }, body: Buffer.from(JSON.stringify(body)) };
}

/** What an adapter implements to serve a service through the hub. Throw ProviderUnavailableError when its system is down. */
export interface AdapterBinding {
  handle(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse>;
}

export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

/** `forwardProof`: absent, the hub signs what it forwards with its ES256 key; set, with this binding's HS256 key (docs/protocol.md §5). */
export type ServiceBinding = { kind: 'http'; baseUrl: string; timeoutMs: number; forwardProof?: ForwardProof } | { kind: 'adapter'; adapter: string; timeoutMs: number };

/** One hub's adapter bindings, by the name service_bindings.adapter gives: its parts', its own services', and what plug-ins add at start. */
export class AdapterBindings {
  private readonly bindings: Map<string, AdapterBinding>;

  constructor(initial: Readonly<Record<string, AdapterBinding>> = {}) {
    this.bindings = new Map(Object.entries(initial));
  }

  register(name: string, binding: AdapterBinding): void {
    this.bindings.set(name, binding);
  }

  get(name: string): AdapterBinding | undefined {
    return this.bindings.get(name);
  }
}

export async function loadBindings(db: Queryable): Promise<Map<string, ServiceBinding>> {
  const { rows } = await db.query<{ service_id: string; kind: 'http' | 'adapter'; base_url: string | null; adapter: string | null; timeout_ms: number; forward_proof: string; forward_key_id: string | null }>(
    'SELECT service_id, kind, base_url, adapter, timeout_ms, forward_proof, forward_key_id FROM service_bindings',
  );
  const bindings = new Map<string, ServiceBinding>();
  for (const r of rows) {
    if (r.kind === 'http' && r.base_url) {
      const forwardProof: ForwardProof | undefined = r.forward_proof === 'hs256' && r.forward_key_id ? { alg: 'HS256', keyId: r.forward_key_id } : undefined;
      bindings.set(r.service_id, { kind: 'http', baseUrl: r.base_url.replace(/\/+$/, ''), timeoutMs: r.timeout_ms, ...(forwardProof ? { forwardProof } : {}) });
    }
    if (r.kind === 'adapter' && r.adapter) bindings.set(r.service_id, { kind: 'adapter', adapter: r.adapter, timeoutMs: r.timeout_ms });
  }
  return bindings;
}

/** Sets a service's binding (admin API, CLI, demo loader); other hub processes pick it up on their next registry poll. */
export async function bindService(db: Db, input: { serviceId: string; binding: ServiceBinding; actor: string }): Promise<void> {
  const { binding } = input;
  if (binding.kind === 'http') {
    const url = new URL(binding.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('a binding URL must be http:// or https://');
    if (url.search || url.hash) throw new Error('a binding URL must not have a query or fragment');
  }
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO service_bindings (service_id, kind, base_url, adapter, timeout_ms, forward_proof, forward_key_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (service_id) DO UPDATE SET kind = EXCLUDED.kind, base_url = EXCLUDED.base_url, adapter = EXCLUDED.adapter,
         timeout_ms = EXCLUDED.timeout_ms, forward_proof = EXCLUDED.forward_proof, forward_key_id = EXCLUDED.forward_key_id, updated_at = now()`,
      [
        input.serviceId, binding.kind, binding.kind === 'http' ? binding.baseUrl : null, binding.kind === 'adapter' ? binding.adapter : null, binding.timeoutMs,
        binding.kind === 'http' && binding.forwardProof ? 'hs256' : 'es256', binding.kind === 'http' ? (binding.forwardProof?.keyId ?? null) : null,
      ],
    );
    await tx.query('INSERT INTO admin_audit (actor, action, target, detail) VALUES ($1, $2, $3, $4)', [input.actor, 'service.bind', input.serviceId, binding]);
    await tx.query('UPDATE registry_version SET version = version + 1 WHERE id = 1');
  });
}
