// The exchange pipeline, one named step per protocol check: verify the headers ▶ read the body ▶ decide 8 to 12 ▶
// replay+quota ▶ validate the request ▶ forward ▶ check and minimise the answer ▶ sign ▶ log. Every answer, refusals
// included, is signed by the hub and written to the message log. The checks that need no hub state: exchange-checks.ts.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConventionRegistry } from '../conventions/registry.ts';
import type { ActiveConvention } from '../conventions/store.ts';
import type { ConventionOperation } from '../conventions/model.ts';
import type { HubKeyring } from '../identity/hub-keys.ts';
import { ClientGoneError } from '../http/client-gone.ts';
import { toProblem } from '../http/error-mapping.ts';
import { ProblemError, problemBody, type ProblemCode } from '../http/problem.ts';
import type { MessageLog } from '../message-log/message-log.ts';
import { ProviderUnavailableError, type ProviderResponse } from './bindings.ts';
import type { HubDirectory } from './directory.ts';
import { bodyOf, checkPurpose, checkValidity, forwardedHeaders, operationRefusal, parseRequestBody, parseTarget, passedBackHeaders, splitService, validateAnswer, type BodyOutcome, type ParsedTarget } from './exchange-checks.ts';
import { baseOf, ProviderTimeoutError, type Forwarder } from './forward.ts';
import { ForwardSigner } from './forward-proof.ts';
import type { ExchangeLimiter, LimitVerdict } from './limits.ts';
import { compileMinimiser, type Minimiser } from './minimise.ts';
import { compileServiceOpenApi, type CompiledService, type MatchedOperation } from './openapi-service.ts';
import { authenticateRequest, checkRequestClaims, responseTyp, sha256Base64url, type AuthenticatedRequest, type VerifiedRequest } from './request-signature.ts';
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

export type { BodyOutcome };

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

const noBody = new Uint8Array(0);

export interface ExchangeAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

const metaPrefix = '/meta/v1/';

interface ServiceRuntime {
  compiled: CompiledService;
  minimisers: Map<string, Minimiser>;
}

export class ExchangePipeline {
  private readonly services = new Map<string, ServiceRuntime>();
  /** The same runtimes by the registry's convention objects (a reload makes new ones; the old ones are then collected). */
  private readonly byConvention = new WeakMap<ActiveConvention, ServiceRuntime>();
  private readonly now: () => number;

  private readonly forwardSigner: ForwardSigner;

  constructor(private readonly deps: ExchangeDeps) {
    this.now = deps.now ?? Date.now;
    this.forwardSigner = new ForwardSigner(deps.keyring.subjectKey, (payload, typ) => deps.keyring.signCompactSync(payload, typ));
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
    // Every exchange asks twice (its operation, its minimiser): the registry's object answers without building the key.
    const known = this.byConvention.get(convention);
    if (known) return known;
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
    this.byConvention.set(convention, runtime);
    return runtime;
  }

  /** One exchange, step by step in protocol order (docs/protocol.md §3); every answer is signed and logged. */
  async handle(request: IncomingExchange): Promise<ExchangeAnswer> {
    const exchange: Exchange = { request, started: this.now(), startedHr: performance.now(), requestSignature: request.header('tabadol-signature'), body: noBody, requestDigest: '', logBodies: false, subjects: [] };
    let answer: Answer;
    try {
      const caller = this.verify(exchange);
      await this.readBody(exchange, caller);
      answer = request.target.startsWith(metaPrefix) ? await this.answerMeta(exchange, caller) : await this.exchange(exchange, caller);
    } catch (err) {
      // Nobody is left to answer: nothing to sign or log as an exchange (the HTTP layer logs it).
      if (err instanceof ClientGoneError) throw err;
      answer = this.refuse(exchange, err);
    }
    return this.deliver(exchange, answer);
  }

  /** Checks 1 to 6, on the headers alone: the signature, its client and key, its claims, the clock. */
  private verify(exchange: Exchange): VerifiedRequest {
    const { request } = exchange;
    exchange.authenticated = authenticateRequest({ signature: exchange.requestSignature, clientHeader: request.header('tabadol-client') }, { directory: this.deps.directory });
    exchange.verified = checkRequestClaims(
      exchange.authenticated,
      { method: request.method, target: request.target, purposeHeader: request.header('tabadol-purpose') },
      { hubId: this.deps.hubId, nowSeconds: exchange.started / 1000 },
    );
    return exchange.verified;
  }

  /** Only once 1 to 6 passed, the body: its size and time bounded, refused with the caller and its jti named. */
  private async readBody(exchange: Exchange, caller: VerifiedRequest): Promise<void> {
    exchange.body = bodyOf(await exchange.request.readBody());
    exchange.requestDigest = sha256Base64url(exchange.body);
    exchange.bodyDigestMatches = caller.claims.bdh === exchange.requestDigest;
  }

  /** Metaservices: signed like any call, no convention needed (but still one jti, once). */
  private async answerMeta(exchange: Exchange, caller: VerifiedRequest): Promise<Answer> {
    const verdict = await this.deps.limiter.check(caller.claims.jti, undefined);
    if (verdict.replayed) throw new ProblemError('replayed-request', `jti ${caller.claims.jti} was already used`);
    if (!exchange.bodyDigestMatches) throw new ProblemError('body-digest-mismatch', 'bdh does not match the body received', { errors: [{ location: 'signature.bdh', message: 'digest mismatch' }] });
    exchange.serviceId = 'meta';
    const meta = await this.deps.meta.answer(exchange.request.method, exchange.request.target, caller.client);
    return { status: meta.status, headers: meta.headers, body: meta.body };
  }

  /** An exchange with a provider: checks 7 to 16, then the provider's answer as the convention lets it through. */
  private async exchange(exchange: Exchange, caller: VerifiedRequest): Promise<Answer> {
    const route = parseTarget(exchange.request.target);
    exchange.serviceId = route.serviceId;
    // 8 to 12 are decided locally now and reported after 7 (which needs the shared store), in protocol order.
    const pending = this.decideLocally(exchange, caller, route);
    const verdict = await this.checkReplayAndQuota(exchange, caller, pending);
    const { convention, operation, conventionOperation } = exchange;
    if (!convention || !operation || !conventionOperation) throw new Error('unreachable: checks passed without a convention');
    if (verdict.quotaExceeded) {
      throw new ProblemError('quota-exceeded', `quota of ${convention.convention.quota.count} calls per ${convention.convention.quota.windowSeconds} s reached`, {
        headers: { 'retry-after': String(verdict.retryAfterSeconds ?? convention.convention.quota.windowSeconds) },
      });
    }
    exchange.logBodies = convention.convention.logBodies;
    const query = new URLSearchParams(route.query);
    const contentType = exchange.request.header('content-type');
    this.validateRequest(exchange, operation, query, contentType);
    const provided = await this.forward(exchange, caller, route, operation);
    const answered = this.checkAnswer(convention, operation, provided);
    exchange.subjects = this.subjectsOf(exchange, query, { contentType, responseBody: answered.responseForSubjects });
    return { status: provided.status, headers: answered.headers, body: answered.body };
  }

  /**
   * Checks 8 to 12, which need no shared store: the body digest, the convention, the operation, the purpose, the
   * validity dates. Returns the first refusal, to be answered only once check 7 passed.
   */
  private decideLocally(exchange: Exchange, caller: VerifiedRequest, route: ParsedTarget): ProblemError | undefined {
    const [provider, service] = splitService(route.serviceId);
    // Found even when the digest is refused, so that the log names the convention the call was made under.
    exchange.convention = this.deps.conventions.find(caller.client, provider, service);
    if (!exchange.bodyDigestMatches) return new ProblemError('body-digest-mismatch', 'bdh does not match the digest of the body received', { errors: [{ location: 'signature.bdh', message: 'digest mismatch' }] });
    const convention = exchange.convention;
    if (!convention) return new ProblemError('no-convention', `no active convention lets ${caller.client} call ${route.serviceId}`);
    const operation = (exchange.operation = this.runtimeFor(convention).compiled.match(exchange.request.method, route.path));
    exchange.conventionOperation = operation ? convention.convention.operations.find((o) => o.operationId === operation.operationId) : undefined;
    if (!operation || !exchange.conventionOperation) return operationRefusal(convention, operation, exchange.request.method, route);
    return checkPurpose(convention, caller.claims.pur) ?? checkValidity(convention, new Date(exchange.started));
  }

  /** Checks 7 and 13 in one round trip; a refused request never consumes quota. Refusals decided before come after 7. */
  private async checkReplayAndQuota(exchange: Exchange, caller: VerifiedRequest, pending: ProblemError | undefined): Promise<LimitVerdict> {
    const { convention } = exchange;
    const quota = !pending && convention ? { key: `${convention.id}:${convention.version}`, ...convention.convention.quota } : undefined;
    const verdict = await this.deps.limiter.check(caller.claims.jti, quota, exchange.started);
    exchange.quotaUsed = verdict.quotaUsed;
    if (verdict.replayed) throw new ProblemError('replayed-request', `jti ${caller.claims.jti} was already used in the last 600 s`);
    if (pending) throw pending;
    return verdict;
  }

  /** 14. Parameters and body against the service's OpenAPI. */
  private validateRequest(exchange: Exchange, operation: MatchedOperation, query: URLSearchParams, contentType: string | undefined): void {
    const body = parseRequestBody(exchange.body, contentType);
    const requestErrors = operation.validateRequest({ pathParams: operation.pathParams, query, headers: (n) => exchange.request.header(n), contentType, body });
    if (requestErrors.length > 0) throw new ProblemError('request-invalid', requestErrors.map((e) => `${e.location}: ${e.message}`).join('; '), { errors: requestErrors });
  }

  /** 15. Forward, signed by the hub so that the provider can check the call came through it. */
  private async forward(exchange: Exchange, caller: VerifiedRequest, route: ParsedTarget, operation: MatchedOperation): Promise<ProviderResponse> {
    const { request } = exchange;
    const binding = this.deps.directory.binding(route.serviceId);
    if (!binding) throw new ProblemError('provider-unavailable', `${route.serviceId} has no binding on this hub`);
    const pathAndQuery = `${route.path}${route.query ? `?${route.query}` : ''}`;
    const forwardedPath = binding.kind === 'http' ? `${baseOf(binding.baseUrl).pathname.replace(/\/$/, '')}${pathAndQuery}` : pathAndQuery;
    const hubSignature = this.forwardSigner.sign(route.serviceId, binding.kind === 'http' ? binding.forwardProof : undefined, {
      iss: this.deps.hubId, sub: caller.client, pur: caller.claims.pur, jti: caller.claims.jti, htm: request.method, htu: forwardedPath, iat: Math.floor(exchange.started / 1000),
    });
    const providerStarted = performance.now();
    try {
      return await this.deps.forwarder.forward(
        binding,
        { serviceId: route.serviceId, operationId: operation.operationId, pathParams: operation.pathParams, method: request.method, pathAndQuery, headers: forwardedHeaders(request.headers()), body: exchange.body, client: caller.client, purpose: caller.claims.pur, requestId: caller.claims.jti },
        { 'tabadol-client': caller.client, 'tabadol-purpose': caller.claims.pur, 'tabadol-request-id': caller.claims.jti, 'tabadol-hub-signature': hubSignature },
      );
    } catch (err) {
      if (err instanceof ProviderTimeoutError) throw new ProblemError('provider-timeout', err.message);
      if (err instanceof ProviderUnavailableError) {
        // The cause stays in the hub's log, under the id the client receives; the answer says what failed.
        if (err.cause !== undefined) this.deps.logger.warn({ requestId: caller.claims.jti, service: route.serviceId, err: describe(err.cause) }, 'provider unavailable');
        throw new ProblemError('provider-unavailable', `${err.message} (request ${caller.claims.jti}); the operators can find the cause in the hub's log`);
      }
      throw err;
    } finally {
      exchange.providerMs = performance.now() - providerStarted;
    }
  }

  /** 16. A successful answer against the OpenAPI, then cut to the convention's fields; the headers that may pass back. */
  private checkAnswer(convention: ActiveConvention, operation: MatchedOperation, provided: ProviderResponse): { headers: Record<string, string>; body: Uint8Array | string; responseForSubjects: unknown } {
    const headers = passedBackHeaders(provided.headers);
    if (provided.status < 200 || provided.status >= 300) return { headers, body: provided.body, responseForSubjects: undefined };
    const parsed = validateAnswer(operation, provided);
    if (parsed === undefined) return { headers, body: provided.body, responseForSubjects: undefined };
    const minimised = this.runtimeFor(convention).minimisers.get(operation.operationId)?.(parsed) ?? parsed;
    // Subjects come from the provider's full answer: the exchange concerned them even where a field was cut.
    return { headers, body: minimised !== parsed ? JSON.stringify(minimised) : provided.body, responseForSubjects: parsed };
  }

  /**
   * The subjects the exchange concerned, as the log keeps them (type, keyed HMAC, location). Without `answered`, a
   * refused attempt: still an access the subject may see, recorded from what the path and query name (no answer was
   * delivered, so nothing from it).
   */
  private subjectsOf(exchange: Exchange, query: URLSearchParams, answered?: { contentType: string | undefined; responseBody: unknown }): LoggedSubject[] {
    const { operation, conventionOperation } = exchange;
    if (!operation || !conventionOperation) return [];
    const locations = answered ? conventionOperation.subjects : conventionOperation.subjects.filter((s) => s.in !== 'response');
    const declared = extractSubjects(locations, { pathParams: operation.pathParams, query, responseBody: answered?.responseBody });
    const concerned = concernedSubjects(
      declared,
      exchange.serviceId ?? '',
      answered
        ? { operationId: operation.operationId, pathParams: operation.pathParams, requestBody: exchange.body, requestContentType: answered.contentType, responseBody: answered.responseBody }
        : { operationId: operation.operationId, pathParams: operation.pathParams },
    );
    return concerned.map((s) => ({ type: s.type, hmac: subjectHmac(this.deps.keyring.subjectKey, s.type, s.value), location: s.location }));
  }

  /** A refusal at any step, or an unexpected fault, as the problem+json answer to sign and log. */
  private refuse(exchange: Exchange, err: unknown): Answer {
    const requestId = this.requestId(exchange);
    const problem = toProblem(err, { requestId, queue: 'the replay and quota store' });
    if (problem.code === 'internal' && !(err instanceof ProblemError)) {
      this.deps.logger.error({ requestId, err: { ...describe(err), stack: (err as Error).stack } }, 'exchange failed');
    }
    exchange.subjects = this.subjectsOf(exchange, new URLSearchParams(exchange.request.target.split('?')[1] ?? ''));
    return {
      status: problem.status,
      headers: { 'content-type': 'application/problem+json', ...problem.options.headers },
      body: JSON.stringify(problem.toBody(requestId)),
      problem: problem.code,
    };
  }

  /**
   * Once the signature verified (check 4), every answer carries the request's jti (when it is a UUID) and its client
   * as aud; before, a fresh id.
   */
  private requestId(exchange: Exchange): string {
    return exchange.verified?.claims.jti ?? exchange.authenticated?.jti ?? (exchange.freshId ??= randomUUID());
  }

  /** The hub's signature over an answer: to whom, for which request, with which status and body. */
  private signAnswer(exchange: Exchange, status: number, body: Uint8Array | string): { signature: string; bodyDigest: string } {
    const audience = exchange.verified?.client ?? exchange.authenticated?.client;
    const bodyDigest = sha256Base64url(body);
    const signature = this.deps.keyring.signCompactSync(
      {
        iss: this.deps.hubId,
        ...(audience ? { aud: audience } : {}),
        jti: this.requestId(exchange),
        ...(exchange.requestSignature ? { rqh: sha256Base64url(exchange.requestSignature) } : {}),
        sts: status,
        bdh: bodyDigest,
        iat: Math.floor(this.now() / 1000),
      },
      responseTyp,
    );
    return { signature, bodyDigest };
  }

  /** Sign, log, count, answer. No answer leaves the hub unlogged: one that could not be recorded is withheld. */
  private async deliver(exchange: Exchange, answer: Answer): Promise<ExchangeAnswer> {
    const requestId = this.requestId(exchange);
    const signed = this.signAnswer(exchange, answer.status, answer.body);
    const logSeq = await this.log(exchange, answer, signed);
    this.count(exchange, answer, logSeq);
    if (logSeq === undefined) {
      const body = JSON.stringify(problemBody('database-unavailable', 'the exchange could not be recorded in the message log; nothing was answered', { requestId }));
      const withheld = this.signAnswer(exchange, 503, body);
      return { status: 503, headers: { 'content-type': 'application/problem+json', 'tabadol-request-id': requestId, 'tabadol-signature': withheld.signature }, body };
    }
    return {
      status: answer.status,
      headers: { ...answer.headers, 'tabadol-request-id': requestId, 'tabadol-log-id': logSeq, 'tabadol-signature': signed.signature },
      body: answer.body,
    };
  }

  /** The exchange's row in the message log; its sequence number, or undefined when the write failed. */
  private async log(exchange: Exchange, answer: Answer, signed: { signature: string; bodyDigest: string }): Promise<string | undefined> {
    const requestId = this.requestId(exchange);
    const { convention, requestSignature } = exchange;
    try {
      return await this.deps.log.append({
        at: new Date(exchange.started),
        requestId,
        client: exchange.verified?.client ?? exchange.authenticated?.client ?? null,
        service: exchange.serviceId ?? null,
        operation: exchange.operation?.operationId ?? null,
        purpose: exchange.verified?.claims.pur ?? null,
        conventionId: convention?.id ?? null,
        conventionVersion: convention?.version ?? null,
        status: answer.status,
        problem: answer.problem ?? null,
        durationMs: performance.now() - exchange.startedHr,
        providerMs: exchange.providerMs ?? null,
        requestDigest: exchange.requestDigest,
        responseDigest: signed.bodyDigest,
        requestSignature: requestSignature && requestSignature.length <= 8192 ? requestSignature : null,
        responseSignature: signed.signature,
        requestBody: exchange.logBodies ? Buffer.from(exchange.body).toString('utf8') : null,
        responseBody: exchange.logBodies ? (typeof answer.body === 'string' ? answer.body : Buffer.from(answer.body).toString('utf8')) : null,
        subjects: exchange.subjects,
      });
    } catch (err) {
      this.deps.logger.error({ requestId, err: { name: (err as Error).name, message: (err as Error).message } }, 'message log write failed');
      return undefined;
    }
  }

  /** Tells the operator's metrics of the exchange, as answered. */
  private count(exchange: Exchange, answer: Answer, logSeq: string | undefined): void {
    const { serviceId, convention, providerMs } = exchange;
    this.deps.recordExchange?.({
      // Label values stay bounded: a service only when the directory binds it, a consumer only once its signature verified.
      service: serviceId !== undefined && (serviceId === 'meta' || this.deps.directory.binding(serviceId)) ? serviceId : null,
      consumer: exchange.verified?.client ?? null,
      convention: convention ? { id: convention.id, quota: convention.convention.quota.count, used: exchange.quotaUsed } : null,
      status: logSeq === undefined ? 503 : answer.status,
      problem: logSeq === undefined ? 'database-unavailable' : (answer.problem ?? null),
      seconds: (performance.now() - exchange.startedHr) / 1000,
      providerSeconds: providerMs === undefined ? null : providerMs / 1000,
    });
  }
}

/** What one exchange has established so far, filled in step by step; its log row and metrics are read from it. */
interface Exchange {
  readonly request: IncomingExchange;
  readonly started: number;
  readonly startedHr: number;
  readonly requestSignature: string | undefined;
  authenticated?: AuthenticatedRequest;
  verified?: VerifiedRequest;
  freshId?: string;
  body: Uint8Array;
  /** Empty in the log while the body was not read (refused before it). */
  requestDigest: string;
  bodyDigestMatches?: boolean;
  serviceId?: string;
  convention?: ActiveConvention;
  operation?: MatchedOperation;
  conventionOperation?: ConventionOperation;
  quotaUsed?: number;
  providerMs?: number;
  logBodies: boolean;
  subjects: LoggedSubject[];
}

interface LoggedSubject {
  type: string;
  hmac: string;
  location: string;
}

/** An answer before the hub signs it; `problem` is the refusal's code, for the log. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
  problem?: ProblemCode;
}

function describe(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: typeof err, message: String(err) };
}
