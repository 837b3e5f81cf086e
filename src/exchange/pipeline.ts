// The exchange pipeline: verify the headers ▶ read the body ▶ convention ▶ replay+quota ▶ validate ▶ forward ▶
// validate ▶ minimise ▶ sign ▶ log. Every answer, refusals included, is signed by the hub and written to the message log.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConventionRegistry } from '../conventions/registry.ts';
import type { ActiveConvention } from '../conventions/store.ts';
import { isValidAt, type ConventionOperation } from '../conventions/model.ts';
import type { HubKeyring } from '../identity/hub-keys.ts';
import { isId } from '../identity/ids.ts';
import { ClientGoneError } from '../http/client-gone.ts';
import { problemCodes, problemTypePrefix, type ProblemFieldError } from '../http/problem.ts';
import type { MessageLog } from '../log/message-log.ts';
import { ProviderUnavailableError, type ProviderResponse } from './bindings.ts';
import type { HubDirectory } from './directory.ts';
import { findDuplicateKey } from './duplicate-keys.ts';
import { exceedsJsonBudget, strictUtf8 } from '../http/json-budget.ts';
import { ProviderTimeoutError, type Forwarder } from './forward.ts';
import type { ExchangeLimiter } from './limits.ts';
import { compileMinimiser, type Minimiser } from './minimise.ts';
import { compileServiceOpenApi, type CompiledService, type MatchedOperation } from './openapi-service.ts';
import { Refusal } from './refusal.ts';
import { authenticateRequest, checkRequestClaims, forwardTyp, responseTyp, sha256Base64url, type AuthenticatedRequest, type VerifiedRequest } from './request-signature.ts';
import { extractSubjects, subjectHmac } from './subjects.ts';
import { concernedSubjects } from './referential-subjects.ts';
import type { MetaServices } from './meta.ts';
import type { ExchangeRecord } from '../observability/metrics.ts';

export interface ExchangeDeps {
  hubId: string;
  keyring: HubKeyring;
  directory: HubDirectory;
  conventions: ConventionRegistry;
  limiter: ExchangeLimiter;
  forwarder: Forwarder;
  log: MessageLog;
  logger: Logger;
  meta: MetaServices;
  now?: () => number;
  /** Told of every exchange once it is answered (the operator's metrics). */
  recordExchange?: (exchange: ExchangeRecord) => void;
}

/** The request as the HTTP layer hands it over. */
export interface IncomingExchange {
  method: string;
  /** Path plus ?query exactly as received (percent-encoding preserved). */
  target: string;
  header(name: string): string | undefined;
  /** Every request header, lower-case names, for forwarding. */
  headers(): Record<string, string>;
  /**
   * Reads the body, bounded by the body limit and timeout; called at most once, and only after checks 1 to 6, so
   * that an unsigned or badly signed request's body is never read. Throws ClientGoneError when the client went away.
   */
  readBody(): Promise<BodyOutcome>;
}

export type BodyOutcome = { kind: 'read'; body: Uint8Array } | { kind: 'too-large'; limit: number } | { kind: 'timeout'; seconds: number };

const noBody = new Uint8Array(0);

export interface ExchangeAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and the hub's own never reach the provider.
const notForwarded = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect', 'authorization', 'cookie', 'x-request-id']);
// What a provider's answer may carry back to the consumer; the rest (cookies, server banners, hop-by-hop) stays behind.
const passedBack = ['content-type', 'content-language', 'cache-control', 'etag', 'last-modified', 'retry-after', 'location', 'vary'];

const prefix = '/x/v1/';
const metaPrefix = '/meta/v1/';

interface ServiceRuntime {
  compiled: CompiledService;
  minimisers: Map<string, Minimiser>;
}

export class ExchangePipeline {
  private readonly services = new Map<string, ServiceRuntime>();
  private readonly now: () => number;

  constructor(private readonly deps: ExchangeDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Compiles the contracts and minimisers of these conventions ahead of their first call, one per turn of the event
   * loop: compiling a contract takes 200 to 500 ms of synchronous work (Ajv), which every request would otherwise
   * wait for on the first exchange under a new convention. Called after each registry load; already-compiled ones
   * cost a map lookup. A contract that fails to compile is left for the call to report.
   */
  async prepare(conventions: readonly ActiveConvention[]): Promise<void> {
    for (const convention of conventions) {
      await new Promise((resolve) => setImmediate(resolve));
      try {
        this.runtimeFor(convention);
      } catch (err) {
        this.deps.logger.warn({ convention: `${convention.id} v${convention.version}`, err: { message: (err as Error).message } }, 'convention contract did not compile ahead of its first call');
      }
    }
  }

  /** Compiled once per OpenAPI digest (conventions of one service share it). */
  private runtimeFor(convention: ActiveConvention): ServiceRuntime {
    const key = `${convention.openapiDigest}\n${convention.id}\n${convention.version}`;
    let runtime = this.services.get(key);
    if (!runtime) {
      const shared = [...this.services.entries()].find(([k]) => k.startsWith(`${convention.openapiDigest}\n`))?.[1].compiled;
      const compiled = shared ?? compileServiceOpenApi(convention.openapi);
      const minimisers = new Map<string, Minimiser>();
      for (const op of convention.convention.operations) minimisers.set(op.operationId, compileMinimiser(op.fields));
      runtime = { compiled, minimisers };
      this.services.set(key, runtime);
    }
    return runtime;
  }

  async handle(request: IncomingExchange): Promise<ExchangeAnswer> {
    const started = this.now();
    const startedHr = performance.now();
    const requestSignature = request.header('tabadol-signature');
    // Empty in the log while the body was not read (refused before it).
    let requestDigest = '';
    let body: Uint8Array = noBody;
    let authenticated: AuthenticatedRequest | undefined;
    let verified: VerifiedRequest | undefined;
    let fresh: string | undefined;
    // Once the signature verified (check 4), every answer carries the request's jti (when it is a UUID) and its
    // client as aud; before, a fresh id.
    const requestIdNow = (): string => verified?.claims.jti ?? authenticated?.jti ?? (fresh ??= randomUUID());
    let convention: ActiveConvention | undefined;
    let operation: MatchedOperation | undefined;
    let serviceId: string | undefined;
    let providerMs: number | undefined;
    let subjects: Array<{ type: string; hmac: string; location: string }> = [];
    let logBodies = false;
    let conventionOperation: ConventionOperation | undefined;
    let quotaUsed: number | undefined;
    let answer: { status: number; headers: Record<string, string>; body: Uint8Array | string; problem?: string };

    try {
      const isMeta = request.target.startsWith(metaPrefix);
      // 1 to 6 on the headers alone.
      authenticated = authenticateRequest({ signature: requestSignature, clientHeader: request.header('tabadol-client') }, { directory: this.deps.directory });
      verified = checkRequestClaims(authenticated, { method: request.method, target: request.target, purposeHeader: request.header('tabadol-purpose') }, { hubId: this.deps.hubId, nowSeconds: started / 1000 });
      const caller = verified;
      // Only now the body: its size and time bounded, refused with the caller and its jti named.
      const read = await request.readBody();
      if (read.kind === 'too-large') {
        throw new Refusal('payload-too-large', `the request body is larger than ${read.limit} bytes`, [{ location: 'body', message: `larger than ${read.limit} bytes` }]);
      }
      if (read.kind === 'timeout') {
        throw new Refusal('request-timeout', `the request body did not arrive within ${read.seconds} s`, [{ location: 'body', message: `incomplete after ${read.seconds} s` }]);
      }
      body = read.body;
      requestDigest = sha256Base64url(body);
      const bodyDigestMatches = caller.claims.bdh === requestDigest;

      if (isMeta) {
        // Metaservices: signed like any call, no convention needed (but still one jti, once).
        const verdict = await this.deps.limiter.check(caller.claims.jti, undefined);
        if (verdict.replayed) throw new Refusal('replayed-request', `jti ${caller.claims.jti} was already used`);
        if (!bodyDigestMatches) throw new Refusal('body-digest-mismatch', 'bdh does not match the body received', [{ location: 'signature.bdh', message: 'digest mismatch' }]);
        serviceId = 'meta';
        const meta = await this.deps.meta.answer(request.method, request.target, caller.client);
        answer = { status: meta.status, headers: meta.headers, body: meta.body };
      } else {
        const route = parseTarget(request.target);
        serviceId = route.serviceId;
        const [provider, service] = splitService(route.serviceId);

        // 8 to 12 are decided locally now and reported after 7 (which needs the shared store), in protocol order.
        let pending: Refusal | undefined;
        if (!bodyDigestMatches) pending = new Refusal('body-digest-mismatch', 'bdh does not match the digest of the body received', [{ location: 'signature.bdh', message: 'digest mismatch' }]);
        convention = this.deps.conventions.find(caller.client, provider, service);
        if (!pending) {
          if (!convention) {
            pending = new Refusal('no-convention', `no active convention lets ${caller.client} call ${route.serviceId}`);
          } else {
            const runtime = this.runtimeFor(convention);
            operation = runtime.compiled.match(request.method, route.path);
            conventionOperation = operation ? convention.convention.operations.find((o) => o.operationId === operation?.operationId) : undefined;
            if (!operation || !conventionOperation) {
              pending = new Refusal(
                'operation-not-allowed',
                operation
                  ? `operation ${operation.operationId} (${operation.method} ${operation.pathTemplate}) is not in convention ${convention.id} v${convention.version}`
                  : `${request.method} ${route.path} is not an operation of ${route.serviceId}`,
              );
            } else if (!convention.convention.purposes.some((p) => p.code === caller.claims.pur)) {
              pending = new Refusal('purpose-not-allowed', `purpose ${caller.claims.pur} is not in convention ${convention.id} v${convention.version}`, [
                { location: 'header.tabadol-purpose', message: `allowed: ${convention.convention.purposes.map((p) => p.code).join(', ')}` },
              ]);
            } else if (!isValidAt(convention.convention, new Date(started))) {
              pending = new Refusal('convention-not-valid', `convention ${convention.id} v${convention.version} is valid from ${convention.convention.validFrom} until ${convention.convention.validUntil}`);
            }
          }
        }
        // 7 and 13 in one round trip; a refused request never consumes quota.
        const quota = !pending && convention ? { key: `${convention.id}:${convention.version}`, ...convention.convention.quota } : undefined;
        const verdict = await this.deps.limiter.check(caller.claims.jti, quota, started);
        quotaUsed = verdict.quotaUsed;
        if (verdict.replayed) throw new Refusal('replayed-request', `jti ${caller.claims.jti} was already used in the last 600 s`);
        if (pending) throw pending;
        if (!convention || !operation || !conventionOperation) throw new Error('unreachable: checks passed without a convention');
        if (verdict.quotaExceeded) {
          throw new Refusal('quota-exceeded', `quota of ${convention.convention.quota.count} calls per ${convention.convention.quota.windowSeconds} s reached`, [], {
            'retry-after': String(verdict.retryAfterSeconds ?? convention.convention.quota.windowSeconds),
          });
        }
        logBodies = convention.convention.logBodies;

        // 14. Parameters and body against the service's OpenAPI.
        const query = new URLSearchParams(route.query);
        const contentType = request.header('content-type');
        let parsedBody: unknown;
        if (body.length > 0) {
          if (contentType && /[/+]json\b/i.test(contentType)) {
            const text = strictUtf8(body);
            if (text === undefined) throw new Refusal('request-invalid', 'the body is not UTF-8', [{ location: 'body', message: 'not UTF-8 (RFC 8259 §8.1)' }]);
            const overBudget = exceedsJsonBudget(text);
            if (overBudget) throw new Refusal('request-invalid', `body: ${overBudget.message}`, [overBudget]);
            try {
              parsedBody = JSON.parse(text);
            } catch {
              throw new Refusal('request-invalid', 'the body is not valid JSON', [{ location: 'body', message: 'not valid JSON' }]);
            }
            // The provider receives these bytes, not parsedBody: a repeated key could mean another value to it.
            const duplicate = findDuplicateKey(text);
            if (duplicate !== undefined) throw new Refusal('request-invalid', `${duplicate}: the key appears twice in one object`, [{ location: duplicate, message: 'duplicate key' }]);
          } else {
            parsedBody = Buffer.from(body).toString('utf8');
          }
        }
        const requestErrors = operation.validateRequest({ pathParams: operation.pathParams, query, headers: (n) => request.header(n), contentType, body: parsedBody });
        if (requestErrors.length > 0) throw new Refusal('request-invalid', requestErrors.map((e) => `${e.location}: ${e.message}`).join('; '), requestErrors);

        // 15. Forward, signed by the hub so that the provider can check the call came through it.
        const binding = this.deps.directory.binding(route.serviceId);
        if (!binding) throw new Refusal('provider-unavailable', `${route.serviceId} has no binding on this hub`);
        const pathAndQuery = `${route.path}${route.query ? `?${route.query}` : ''}`;
        const forwardedPath = binding.kind === 'http' ? `${new URL(binding.baseUrl).pathname.replace(/\/$/, '')}${pathAndQuery}` : pathAndQuery;
        const hubSignature = this.deps.keyring.signCompactSync(
          { iss: this.deps.hubId, sub: caller.client, pur: caller.claims.pur, jti: caller.claims.jti, htm: request.method, htu: forwardedPath, iat: Math.floor(started / 1000) },
          forwardTyp,
        );
        const forwardHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers())) {
          if (!notForwarded.has(name) && !name.startsWith('tabadol-')) forwardHeaders[name] = value;
        }
        const providerStarted = performance.now();
        let provided: ProviderResponse;
        try {
          provided = await this.deps.forwarder.forward(
            binding,
            { serviceId: route.serviceId, operationId: operation.operationId, method: request.method, pathAndQuery, headers: forwardHeaders, body, client: caller.client, purpose: caller.claims.pur, requestId: caller.claims.jti },
            { 'tabadol-client': caller.client, 'tabadol-purpose': caller.claims.pur, 'tabadol-request-id': caller.claims.jti, 'tabadol-hub-signature': hubSignature },
          );
        } catch (err) {
          if (err instanceof ProviderTimeoutError) throw new Refusal('provider-timeout', err.message);
          if (err instanceof ProviderUnavailableError) {
            // The cause stays in the hub's log, under the id the client receives; the answer says what failed.
            if (err.cause !== undefined) this.deps.logger.warn({ requestId: caller.claims.jti, service: route.serviceId, err: describe(err.cause) }, 'provider unavailable');
            throw new Refusal('provider-unavailable', `${err.message} (request ${caller.claims.jti}); the operators can find the cause in the hub's log`);
          }
          throw err;
        } finally {
          providerMs = performance.now() - providerStarted;
        }

        const headers: Record<string, string> = {};
        for (const name of passedBack) {
          const value = provided.headers[name];
          if (value !== undefined) headers[name] = value;
        }
        let answerBody: Uint8Array | string = provided.body;
        let responseForSubjects: unknown;
        if (provided.status >= 200 && provided.status < 300) {
          // 16. The answer against the OpenAPI, then cut to the convention's fields.
          const providerType = provided.headers['content-type'];
          let parsed: unknown;
          const isJson = providerType !== undefined && /[/+]json\b/i.test(providerType);
          if (isJson && provided.json !== undefined) {
            // An in-process adapter's own value (see ProviderResponse.json): the body is its serialisation.
            parsed = provided.json;
          } else if (isJson && provided.body.length > 0) {
            try {
              parsed = JSON.parse(Buffer.from(provided.body).toString('utf8'));
            } catch {
              throw new Refusal('provider-response-invalid', 'the provider answered invalid JSON', [{ location: 'response', message: 'not valid JSON' }]);
            }
          }
          const responseErrors = operation.validateResponse(provided.status, providerType, parsed);
          if (responseErrors.length > 0) {
            throw new Refusal('provider-response-invalid', `the provider's answer does not match its OpenAPI: ${responseErrors.map((e) => `${e.location}: ${e.message}`).join('; ')}`, responseErrors);
          }
          if (isJson && parsed !== undefined) {
            const minimised = this.runtimeFor(convention).minimisers.get(operation.operationId)?.(parsed) ?? parsed;
            // Subjects come from the provider's full answer: the exchange concerned them even where a field was cut.
            responseForSubjects = parsed;
            if (minimised !== parsed) answerBody = JSON.stringify(minimised);
          }
        }
        const declared = extractSubjects(conventionOperation.subjects, { pathParams: operation.pathParams, query, responseBody: responseForSubjects });
        const concerned = concernedSubjects(declared, route.serviceId, { operationId: operation.operationId, pathParams: operation.pathParams, requestBody: body, requestContentType: contentType, responseBody: responseForSubjects });
        subjects = concerned.map((s) => ({
          type: s.type,
          hmac: subjectHmac(this.deps.keyring.subjectKey, s.type, s.value),
          location: s.location,
        }));
        answer = { status: provided.status, headers, body: answerBody };
      }
    } catch (err) {
      // Nobody is left to answer: nothing to sign or log as an exchange (the HTTP layer logs it).
      if (err instanceof ClientGoneError) throw err;
      const refusal = err instanceof Refusal ? err : toRefusal(err, this.deps.logger, requestIdNow());
      if (operation && conventionOperation) {
        // A refused attempt at a subject's data is still an access attempt the subject may see: record what the path
        // and query name (the response, if any, was not delivered).
        const attempted = conventionOperation.subjects.filter((s) => s.in !== 'response');
        const declared = extractSubjects(attempted, { pathParams: operation.pathParams, query: new URLSearchParams(request.target.split('?')[1] ?? ''), responseBody: undefined });
        subjects = concernedSubjects(declared, serviceId ?? '', { operationId: operation.operationId, pathParams: operation.pathParams }).map((s) => ({
          type: s.type,
          hmac: subjectHmac(this.deps.keyring.subjectKey, s.type, s.value),
          location: s.location,
        }));
      }
      answer = {
        status: problemCodes[refusal.code].status,
        headers: { 'content-type': 'application/problem+json', ...refusal.headers },
        body: JSON.stringify(refusal.toBody(requestIdNow())),
        problem: refusal.code,
      };
    }

    const requestId = requestIdNow();
    const audience = verified?.client ?? authenticated?.client;
    const responseDigest = sha256Base64url(answer.body);
    const responseSignature = this.deps.keyring.signCompactSync(
      {
        iss: this.deps.hubId,
        ...(audience ? { aud: audience } : {}),
        jti: requestId,
        ...(requestSignature ? { rqh: sha256Base64url(requestSignature) } : {}),
        sts: answer.status,
        bdh: responseDigest,
        iat: Math.floor(this.now() / 1000),
      },
      responseTyp,
    );

    let logSeq: string | undefined;
    try {
      logSeq = await this.deps.log.append({
        at: new Date(started),
        requestId,
        client: audience ?? null,
        service: serviceId ?? null,
        operation: operation?.operationId ?? null,
        purpose: verified?.claims.pur ?? null,
        conventionId: convention?.id ?? null,
        conventionVersion: convention?.version ?? null,
        status: answer.status,
        problem: answer.problem ?? null,
        durationMs: performance.now() - startedHr,
        providerMs: providerMs ?? null,
        requestDigest,
        responseDigest,
        requestSignature: requestSignature && requestSignature.length <= 8192 ? requestSignature : null,
        responseSignature,
        requestBody: logBodies ? Buffer.from(body).toString('utf8') : null,
        responseBody: logBodies ? (typeof answer.body === 'string' ? answer.body : Buffer.from(answer.body).toString('utf8')) : null,
        subjects,
      });
    } catch (err) {
      this.deps.logger.error({ requestId, err: { name: (err as Error).name, message: (err as Error).message } }, 'message log write failed');
    }
    this.deps.recordExchange?.({
      // Label values stay bounded: a service only when the directory binds it, a consumer only once its signature verified.
      service: serviceId !== undefined && (serviceId === 'meta' || this.deps.directory.binding(serviceId)) ? serviceId : null,
      consumer: verified?.client ?? null,
      convention: convention ? { id: convention.id, quota: convention.convention.quota.count, used: quotaUsed } : null,
      status: logSeq === undefined ? 503 : answer.status,
      problem: logSeq === undefined ? 'database-unavailable' : (answer.problem ?? null),
      seconds: (performance.now() - startedHr) / 1000,
      providerSeconds: providerMs === undefined ? null : providerMs / 1000,
    });
    if (logSeq === undefined) {
      // No answer leaves the hub unlogged: a data answer that could not be recorded is withheld.
      const body = JSON.stringify({ type: `${problemTypePrefix}database-unavailable`, title: problemCodes['database-unavailable'].title, status: 503, detail: 'the exchange could not be recorded in the message log; nothing was answered', requestId });
      const signature = this.deps.keyring.signCompactSync(
        { iss: this.deps.hubId, ...(audience ? { aud: audience } : {}), jti: requestId, ...(requestSignature ? { rqh: sha256Base64url(requestSignature) } : {}), sts: 503, bdh: sha256Base64url(body), iat: Math.floor(this.now() / 1000) },
        responseTyp,
      );
      return { status: 503, headers: { 'content-type': 'application/problem+json', 'tabadol-request-id': requestId, 'tabadol-signature': signature }, body };
    }
    return {
      status: answer.status,
      headers: { ...answer.headers, 'tabadol-request-id': requestId, 'tabadol-log-id': logSeq, 'tabadol-signature': responseSignature },
      body: answer.body,
    };
  }
}

function toRefusal(err: unknown, logger: Logger, requestId: string): Refusal {
  const name = (err as Error).name;
  if (name === 'DatabaseUnavailableError') return new Refusal('database-unavailable', 'the database cannot be reached; try again shortly');
  if (name === 'QueueUnavailableError') return new Refusal('queue-unavailable', 'the replay and quota store cannot be reached; try again shortly');
  logger.error({ requestId, err: { ...describe(err), stack: (err as Error).stack } }, 'exchange failed');
  return new Refusal('internal', `an internal error occurred (request ${requestId}); quote the requestId to the operators`);
}

function describe(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: typeof err, message: String(err) };
}

export interface ParsedTarget {
  serviceId: string;
  /** Path within the service, raw (still percent-encoded). */
  path: string;
  query: string;
}

/** /x/v1/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/{SERVICE}/{path}?{query} */
export function parseTarget(target: string): ParsedTarget {
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  const segments = rawPath.slice(prefix.length).split('/');
  const serviceId = segments.slice(0, 5).join('/');
  if (segments.length < 5 || !isId(serviceId, 'service')) {
    const errors: ProblemFieldError[] = [{ location: 'path', message: 'expected /x/v1/{INSTANCE}/{CLASS}/{CODE}/{SUBSYSTEM}/{SERVICE}/..., each part [A-Za-z0-9._-]{1,64}' }];
    throw new Refusal('request-invalid', `${JSON.stringify(serviceId)} is not a service id`, errors);
  }
  const rest = segments.slice(5).join('/');
  return { serviceId, path: `/${rest}`, query };
}

export function splitService(serviceId: string): [provider: string, service: string] {
  const parts = serviceId.split('/');
  return [parts.slice(0, 4).join('/'), parts[4] ?? ''];
}
