// A push: one batch of a subscription's deliveries, minimised to its convention's fields, signed by the hub, and sent
// to the subscriber's URL (or handed to its adapter in process). Answers are read bounded; nothing is followed.
import { createHash } from 'node:crypto';
import { Pool, errors as undiciErrors } from 'undici';
import type { Convention } from '../conventions/model.ts';
import type { HubKeyring } from '../identity/hub-keys.ts';
import { compileMinimiser, type Minimiser } from '../exchange/minimise.ts';
import { deliveryId } from './dead-letters.ts';
import type { ClaimedDelivery, FailedSend } from './deliveries.ts';
import { subscriptionOperation } from './subscriptions.ts';

/** The JWS type of a pushed batch (docs/protocol.md §12). */
export const deliveryTyp = 'tabadol-delivery+jwt';

/** One change as the subscriber receives it. `id` is its idempotency key. */
export interface PushedChange {
  id: string;
  seq: number;
  type: string;
  goldenId: string;
  version: number;
  at: string;
  record?: { goldenId: string; version: number; status: string | null; mergedInto: string | null; attributes: Record<string, unknown> | null };
}

export interface PushBody {
  subscription: string;
  referential: string;
  purpose: string;
  deliveries: PushedChange[];
}

export interface SignedPush {
  /** The batch's id (webhook-id): the subscription and the positions it spans. */
  id: string;
  body: string;
  /** The full changes (before minimisation), for the subjects the message log records. */
  full: PushedChange[];
  headers: Record<string, string>;
  signature: string;
  bodyDigest: string;
}

// Delivery metadata is not personal data and the subscriber needs it to deduplicate and order: always kept.
const metadataFields = ['id', 'seq', 'type', 'goldenId', 'version', 'at'].map((f) => `changes.${f}`);
const minimisers = new WeakMap<Convention, Minimiser>();

/** The minimiser of a subscription's convention: its listChanges fields, read as paths into `{ changes: [...] }`. */
function minimiserOf(convention: Convention): Minimiser {
  let m = minimisers.get(convention);
  if (!m) {
    const fields = convention.operations.find((o) => o.operationId === subscriptionOperation)?.fields;
    m = compileMinimiser(fields ? [...new Set([...fields, ...metadataFields])] : undefined);
    minimisers.set(convention, m);
  }
  return m;
}

/** A change as every mode hands it to the subscriber (push, pull, file): the record as it was at that version. */
export function pushedChange(subscriptionId: string, d: Pick<ClaimedDelivery, 'position' | 'goldenId' | 'version' | 'type' | 'changeAt' | 'record'>): PushedChange {
  return {
    id: deliveryId(subscriptionId, d.position),
    seq: d.position,
    type: d.type,
    goldenId: d.goldenId,
    version: d.version,
    at: d.changeAt.toISOString(),
    record: { goldenId: d.goldenId, version: d.version, status: d.record.status, mergedInto: d.record.mergedInto, attributes: d.record.attributes },
  };
}

/** The changes cut to the convention's listChanges fields (the delivery metadata always stays). */
export function minimiseChanges(convention: Convention, full: readonly PushedChange[]): PushedChange[] {
  const minimised = minimiserOf(convention)({ changes: full }) as { changes?: PushedChange[] } | null;
  return minimised?.changes ?? [];
}

export function sha256Base64url(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}

/** Builds and signs one batch. */
export function signPush(
  keyring: Pick<HubKeyring, 'hubId' | 'signCompactSync'>,
  subscription: { id: string; subscriber: string; referential: string; purpose: string },
  convention: Convention,
  deliveries: readonly ClaimedDelivery[],
  now = Date.now(),
): SignedPush {
  const full = deliveries.map((d) => pushedChange(subscription.id, d));
  const body: PushBody = { subscription: subscription.id, referential: subscription.referential, purpose: subscription.purpose, deliveries: minimiseChanges(convention, full) };
  const text = JSON.stringify(body);
  const first = deliveries[0]?.position ?? 0;
  const last = deliveries.at(-1)?.position ?? first;
  const id = `${subscription.id}.${first}-${last}`;
  const bodyDigest = sha256Base64url(text);
  const iat = Math.floor(now / 1000);
  const signature = keyring.signCompactSync({ iss: keyring.hubId, aud: subscription.subscriber, jti: id, sub: subscription.id, bdh: bodyDigest, iat }, deliveryTyp);
  return {
    id,
    body: text,
    full,
    signature,
    bodyDigest,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(iat),
      'tabadol-signature': signature,
    },
  };
}

/** A batch as an in-process handler receives it: the subscription's identity and its minimised changes. */
export interface HandedPush {
  subscription: string;
  subscriber: string;
  referential: string;
  purpose: string;
  deliveries: PushedChange[];
}

/** Delivered to an adapter in process (`adapter:<name>` targets). Throw PermanentDeliveryError for a change it refuses for good. */
export type DeliveryHandler = (push: HandedPush, signal: AbortSignal) => Promise<void>;

/** An adapter's refusal that retrying cannot fix: the deliveries go to the dead letters at once. */
export class PermanentDeliveryError extends Error {
  override name = 'PermanentDeliveryError';
}

export type SendResult = { ok: true; status: number; ms: number } | ({ ok: false; ms: number } & FailedSend);

/** 408, 425, 429 and 5xx are worth retrying; any other 4xx is the subscriber refusing the change itself. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

const maxAnswerBytes = 64 * 1024;

/** Sends pushes over HTTP: a pool per origin (connection reuse), bounded time and answer, no redirects. */
export class PushSender {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: { timeoutMs: number; handlers: ReadonlyMap<string, DeliveryHandler> }) {}

  async send(target: string, push: SignedPush, meta: { subscription: string; subscriber: string; referential: string; purpose: string }): Promise<SendResult> {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    if (target.startsWith('adapter:')) return this.toAdapter(target.slice('adapter:'.length), push, meta, ms);
    const url = new URL(target);
    try {
      const answer = await this.pool(url.origin).request({
        method: 'POST',
        path: `${url.pathname}${url.search}`,
        headers: push.headers,
        body: push.body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      let size = 0;
      for await (const chunk of answer.body) {
        size += (chunk as Buffer).length;
        if (size > maxAnswerBytes) {
          answer.body.destroy();
          break;
        }
      }
      if (answer.statusCode >= 200 && answer.statusCode < 300) return { ok: true, status: answer.statusCode, ms: ms() };
      return { ok: false, ms: ms(), status: answer.statusCode, error: `the subscriber answered ${answer.statusCode}`, permanent: !isRetryableStatus(answer.statusCode) };
    } catch (err) {
      const timedOut = err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError;
      const error = timedOut ? `the subscriber did not answer within ${this.options.timeoutMs} ms` : `the subscriber could not be reached: ${(err as NodeJS.ErrnoException).code ?? (err as Error).name}`;
      return { ok: false, ms: ms(), status: null, error, permanent: false };
    }
  }

  private async toAdapter(name: string, push: SignedPush, meta: { subscription: string; subscriber: string; referential: string; purpose: string }, ms: () => number): Promise<SendResult> {
    const handler = this.options.handlers.get(name);
    if (!handler) return { ok: false, ms: ms(), status: null, error: `no adapter ${name} is loaded in this hub`, permanent: false };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    try {
      const body = JSON.parse(push.body) as PushBody;
      await Promise.race([
        handler({ ...meta, deliveries: body.deliveries }, controller.signal),
        new Promise((_, reject) => controller.signal.addEventListener('abort', () => reject(new Error(`the adapter did not finish within ${this.options.timeoutMs} ms`)))),
      ]);
      return { ok: true, status: 200, ms: ms() };
    } catch (err) {
      return { ok: false, ms: ms(), status: null, error: `adapter ${name}: ${(err as Error).message}`.slice(0, 500), permanent: err instanceof PermanentDeliveryError };
    } finally {
      clearTimeout(timer);
    }
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: 16, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: Math.min(5000, this.options.timeoutMs) });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}
