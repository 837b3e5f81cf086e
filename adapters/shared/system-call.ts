// How a sync adapter calls its system's JSON API: the bearer token of its stored configuration, no redirect followed,
// a deadline, the answer read up to a bound, and one error type that says whether a refusal is for good (the delivery
// handler dead-letters it) or worth retrying (the cursor stays, the next pull asks again).
import { AnswerTooLargeError, readBounded } from './bounded-body.ts';

/** The part of an adapter's configuration a call needs. */
export interface SystemEndpoint {
  baseUrl: string;
  token: string;
  /** Per call; absent: defaultTimeoutMs. */
  timeoutMs?: number;
}

export class SystemCallError extends Error {
  constructor(
    /** The system's HTTP status; null when it gave no usable answer (unreachable, timed out, not JSON, too large). */
    readonly status: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'SystemCallError';
  }

  /** A refusal of the system's (4xx but 408 and 429) is for good; anything else is retried. */
  get permanent(): boolean {
    return this.status !== null && this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

export const defaultTimeoutMs = 30_000;
/** The largest page the adapters ask for is 1,000 records of a few hundred bytes each. */
export const defaultMaxAnswerBytes = 8 * 1024 * 1024;

export type SystemCall = (config: SystemEndpoint, path: string, signal: AbortSignal, body?: unknown) => Promise<unknown>;

/**
 * A call function for one system, named in its errors (`the appointment system answered 503 to GET /sync/schools`).
 * GET without a body, POST with a JSON body. The path's query string is left out of the messages (it may hold cursors).
 */
export function systemCaller(systemName: string, options: { maxBytes?: number } = {}): SystemCall {
  const maxBytes = options.maxBytes ?? defaultMaxAnswerBytes;
  return async (config, path, signal, body) => {
    const method = body === undefined ? 'GET' : 'POST';
    const where = `${method} ${path.split('?')[0]}`;
    let answer: Response;
    try {
      answer = await fetch(new URL(path, config.baseUrl), {
        method,
        headers: { authorization: `Bearer ${config.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs ?? defaultTimeoutMs)]),
        redirect: 'error',
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new SystemCallError(null, `${systemName} did not answer ${where}: ${(err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable'}`);
    }
    if (!answer.ok) {
      await answer.body?.cancel().catch(() => undefined);
      throw new SystemCallError(answer.status, `${systemName} answered ${answer.status} to ${where}`);
    }
    let bytes: Buffer;
    try {
      bytes = await readBounded(answer, maxBytes);
    } catch (err) {
      if (err instanceof AnswerTooLargeError) throw new SystemCallError(null, `${systemName} answered ${where} with more than ${maxBytes} bytes`);
      if (signal.aborted) throw err;
      throw new SystemCallError(null, `${systemName} broke off its answer to ${where}`);
    }
    if (answer.status === 204) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      // An HTML maintenance page with a 200 is not an answer: nothing taken in, retried.
      throw new SystemCallError(null, `${systemName} answered ${where} with a body that is not JSON`);
    }
  };
}

/** An adapter's health from one cheap call: ok when it answers, else what went wrong. */
export function probeHealth<C>(probe: (config: C, signal: AbortSignal) => Promise<unknown>) {
  return async (ctx: { config: C; signal: AbortSignal }): Promise<{ ok: true } | { ok: false; detail: string }> => {
    try {
      await probe(ctx.config, ctx.signal);
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  };
}
