// Forwards an exchange to its provider: undici pools per origin (connection reuse), timeouts, no redirects followed.
import { Pool, errors as undiciErrors } from 'undici';
import { ProviderUnavailableError, type AdapterBindings, type ProviderRequest, type ProviderResponse, type ServiceBinding } from './bindings.ts';

export class ProviderTimeoutError extends Error {
  override name = 'ProviderTimeoutError';
}

/** Largest provider answer the hub reads; beyond it the provider is treated as faulty. */
const maxResponseBytes = 10 * 1024 * 1024;

/** A binding's origin and base path ('' for '/'), parsed once per base URL rather than once per exchange. */
const bases = new Map<string, { origin: string; pathname: string }>();

export function baseOf(baseUrl: string): { origin: string; pathname: string } {
  let base = bases.get(baseUrl);
  if (!base) {
    const url = new URL(baseUrl);
    base = { origin: url.origin, pathname: url.pathname === '/' ? '' : url.pathname };
    // Bindings are few; a registry that changed them all many times over just starts again.
    if (bases.size >= 1024) bases.clear();
    bases.set(baseUrl, base);
  }
  return base;
}

export class Forwarder {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly adapters: AdapterBindings) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      // undici never follows redirects unless told to: a 3xx from a provider goes back to the consumer as is.
      pool = new Pool(origin, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: 5000 });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async forward(binding: ServiceBinding, request: ProviderRequest, extraHeaders: Record<string, string>): Promise<ProviderResponse> {
    if (binding.kind === 'adapter') return this.viaAdapter(binding, request, extraHeaders);
    const base = baseOf(binding.baseUrl);
    const path = `${base.pathname}${request.pathAndQuery}`;
    try {
      const response = await this.pool(base.origin).request({
        method: request.method as 'GET',
        path,
        headers: { ...request.headers, ...extraHeaders },
        body: request.body.length > 0 ? Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength) : null,
        headersTimeout: binding.timeoutMs,
        bodyTimeout: binding.timeoutMs,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > maxResponseBytes) {
          response.body.destroy();
          throw new ProviderUnavailableError(`the provider's answer is larger than ${maxResponseBytes} bytes`);
        }
        chunks.push(buf);
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      return { status: response.statusCode, headers, body: chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks) };
    } catch (err) {
      if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
        throw new ProviderTimeoutError(`the provider did not answer within ${binding.timeoutMs} ms`);
      }
      if (err instanceof ProviderUnavailableError) throw err;
      // The code names the failure in plain words (ECONNREFUSED…); the message, which may say more, stays in the log.
      const code = (err as { code?: unknown }).code;
      throw new ProviderUnavailableError(`the provider cannot be reached${typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? ` (${code})` : ''}`, { cause: err });
    }
  }

  private async viaAdapter(binding: Extract<ServiceBinding, { kind: 'adapter' }>, request: ProviderRequest, extraHeaders: Record<string, string>): Promise<ProviderResponse> {
    const adapter = this.adapters.get(binding.adapter);
    if (!adapter) throw new ProviderUnavailableError(`adapter binding ${binding.adapter} is not loaded in this hub process`);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        adapter.handle({ ...request, headers: { ...request.headers, ...extraHeaders } }, controller.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            controller.abort();
            reject(new ProviderTimeoutError(`the adapter did not answer within ${binding.timeoutMs} ms`));
          }, binding.timeoutMs);
        }),
      ]);
    } catch (err) {
      if (err instanceof ProviderTimeoutError || err instanceof ProviderUnavailableError) throw err;
      // Never the adapter's own message in the answer (it may be a database's text): the cause goes to the log.
      throw new ProviderUnavailableError("the service's adapter failed", { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}
