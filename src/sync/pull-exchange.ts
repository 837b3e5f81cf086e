// A pull read as an exchange: the subscriber's signed GET is checked as the exchange checks a call (docs/protocol.md §3,
// checks 1 to 8: signature, client, key, claims, clock, replay, an empty body), then granted and read (pull.ts); every
// answer, refusals included, is signed by the hub (typ tabadol-response+jwt, as an exchange answer) and written to the
// message log, with the subjects of the records it hands out. An answer that cannot be logged is withheld.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { toProblem } from '../http/error-mapping.ts';
import { ProblemError, problemBody, type ProblemCode } from '../http/problem.ts';
import type { HubServices } from '../hub/services.ts';
import { authenticateRequest, checkRequestClaims, responseTyp, sha256Base64url, type AuthenticatedRequest, type VerifiedRequest } from '../exchange/request-signature.ts';
import { referentialSubjects } from '../exchange/referential-subjects.ts';
import { subjectHmac } from '../exchange/subjects.ts';
import type { Queryable } from '../storage/db.ts';
import type { FeedWatch } from './feed-watch.ts';
import { grantPull, pullChanges, type PullGrant, type PullQuery } from './pull.ts';
import { minimiseChanges, pushedChange, type PushedChange } from './push.ts';
import { referentialsProvider, subscriptionOperation } from './subscriptions.ts';

/** What a subscriber reads: a page of its changes, minimised to its convention, and where to read next. */
export interface PullAnswerBody {
  subscription: string;
  referential: string;
  purpose: string;
  /** The position read after (acknowledged by this read). */
  after: number;
  /** Read next with after=next. */
  next: number;
  /** More changes are there now: read again at once. */
  more: boolean;
  state: 'active' | 'paused';
  changes: PushedChange[];
}

export interface PullRequest {
  subscriptionId: string;
  /** Path plus ?query exactly as received: the signature's htu. */
  target: string;
  header(name: string): string | undefined;
  /** The query, already checked (undefined when `invalid` says what is wrong with it). */
  query: PullQuery | undefined;
  /** The refusal of a malformed path or query, answered once the signature is checked. */
  invalid?: ProblemError;
  /** Aborted when the subscriber goes away: the wait ends. */
  signal?: AbortSignal;
}

export interface PullAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface PullEndpointDeps {
  hubId: string;
  db: Queryable;
  hub: Pick<HubServices, 'keyring' | 'directory' | 'conventions' | 'limiter' | 'log'>;
  watch: FeedWatch;
  logger: Logger;
  /** True while the process drains on shutdown: a waiting read answers at once. */
  draining?: () => boolean;
}

/** What one read has established so far; its log row is written from it. */
interface PullState {
  started: number;
  startedHr: number;
  requestSignature: string | undefined;
  authenticated?: AuthenticatedRequest;
  verified?: VerifiedRequest;
  grant?: PullGrant;
  freshId?: string;
  subjects: Array<{ type: string; hmac: string; location: string }>;
}

const emptyBodyDigest = sha256Base64url('');

export class PullEndpoint {
  constructor(private readonly deps: PullEndpointDeps) {}

  async handle(request: PullRequest): Promise<PullAnswer> {
    const state: PullState = { started: Date.now(), startedHr: performance.now(), requestSignature: request.header('tabadol-signature'), subjects: [] };
    let answer: { status: number; body: string; problem?: ProblemCode };
    try {
      answer = { status: 200, body: JSON.stringify(await this.read(state, request)) };
    } catch (err) {
      answer = this.refuse(state, err);
    }
    return this.deliver(state, answer);
  }

  /** Checks 1 to 8 on the request, the grant, then the read. */
  private async read(state: PullState, request: PullRequest): Promise<PullAnswerBody> {
    const { hub } = this.deps;
    state.authenticated = authenticateRequest({ signature: state.requestSignature, clientHeader: request.header('tabadol-client') }, { directory: hub.directory });
    const caller = (state.verified = checkRequestClaims(state.authenticated, { method: 'GET', target: request.target, purposeHeader: request.header('tabadol-purpose') }, { hubId: this.deps.hubId, nowSeconds: state.started / 1000 }));
    if ((await hub.limiter.check(caller.claims.jti, undefined, state.started)).replayed) throw new ProblemError('replayed-request', `jti ${caller.claims.jti} was already used in the last 600 s`);
    // A read has no body: its digest is that of nothing (the body, if any was sent, is never read).
    if (caller.claims.bdh !== emptyBodyDigest) throw new ProblemError('body-digest-mismatch', 'a read carries no body: bdh must be the digest of the empty body', { errors: [{ location: 'signature.bdh', message: `must be ${emptyBodyDigest}` }] });
    if (request.invalid || !request.query) throw request.invalid ?? new ProblemError('request-invalid', 'the query could not be read');
    const findConvention = (consumer: string, provider: string, service: string) => hub.conventions.find(consumer, provider, service);
    const grant = (state.grant = await grantPull({ db: this.deps.db, findConvention }, request.subscriptionId, { client: caller.client, purpose: caller.claims.pur }));
    const page = await pullChanges({ db: this.deps.db, findConvention, watch: this.deps.watch }, grant, request.query, { signal: request.signal, stop: this.deps.draining });
    const { subscription, convention } = grant;
    const full = page.changes.map((change) => pushedChange(subscription.id, change));
    const serviceId = `${referentialsProvider}/${subscription.referential}`;
    const subjects = referentialSubjects(serviceId, { operationId: subscriptionOperation, pathParams: {}, responseBody: { changes: full } }) ?? [];
    state.subjects = subjects.map((s) => ({ type: s.type, hmac: subjectHmac(hub.keyring.subjectKey, s.type, s.value), location: s.location }));
    return {
      subscription: subscription.id,
      referential: subscription.referential,
      purpose: subscription.purpose,
      after: page.after,
      next: page.next,
      more: page.more,
      state: page.state,
      changes: minimiseChanges(convention.convention, full),
    };
  }

  private refuse(state: PullState, err: unknown): { status: number; body: string; problem: ProblemCode } {
    const requestId = this.requestId(state);
    const problem = toProblem(err, { requestId, queue: 'the replay store' });
    if (problem.code === 'internal' && !(err instanceof ProblemError)) this.deps.logger.error({ requestId, err: { name: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack } }, 'pull read failed');
    return { status: problem.status, body: JSON.stringify(problem.toBody(requestId)), problem: problem.code };
  }

  private requestId(state: PullState): string {
    return state.verified?.claims.jti ?? state.authenticated?.jti ?? (state.freshId ??= randomUUID());
  }

  /** The hub's signature over an answer, as the exchange signs its own (docs/protocol.md §4). */
  private sign(state: PullState, status: number, body: string): { signature: string; bodyDigest: string } {
    const audience = state.verified?.client ?? state.authenticated?.client;
    const bodyDigest = sha256Base64url(body);
    const signature = this.deps.hub.keyring.signCompactSync(
      {
        iss: this.deps.hubId,
        ...(audience ? { aud: audience } : {}),
        jti: this.requestId(state),
        ...(state.requestSignature ? { rqh: sha256Base64url(state.requestSignature) } : {}),
        sts: status,
        bdh: bodyDigest,
        iat: Math.floor(Date.now() / 1000),
      },
      responseTyp,
    );
    return { signature, bodyDigest };
  }

  /** Sign, log, answer; withheld (503) when the log cannot record it. */
  private async deliver(state: PullState, answer: { status: number; body: string; problem?: ProblemCode }): Promise<PullAnswer> {
    const requestId = this.requestId(state);
    const contentType = answer.status === 200 ? 'application/json' : 'application/problem+json';
    const signed = this.sign(state, answer.status, answer.body);
    const logSeq = await this.log(state, answer, signed);
    if (logSeq === undefined) {
      const body = JSON.stringify(problemBody('database-unavailable', 'the read could not be recorded in the message log; nothing was answered', { requestId }));
      return { status: 503, headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'tabadol-request-id': requestId, 'tabadol-signature': this.sign(state, 503, body).signature }, body };
    }
    return { status: answer.status, headers: { 'content-type': contentType, 'cache-control': 'no-store', 'tabadol-request-id': requestId, 'tabadol-log-id': logSeq, 'tabadol-signature': signed.signature }, body: answer.body };
  }

  private async log(state: PullState, answer: { status: number; problem?: ProblemCode }, signed: { signature: string; bodyDigest: string }): Promise<string | undefined> {
    const requestId = this.requestId(state);
    const sub = state.grant?.subscription;
    const convention = state.grant?.convention;
    try {
      return await this.deps.hub.log.append({
        at: new Date(state.started),
        requestId,
        client: state.verified?.client ?? state.authenticated?.client ?? null,
        service: sub ? `${referentialsProvider}/${sub.referential}` : null,
        operation: 'pull',
        purpose: state.verified?.claims.pur ?? null,
        conventionId: convention?.id ?? null,
        conventionVersion: convention?.version ?? null,
        status: answer.status,
        problem: answer.problem ?? null,
        durationMs: performance.now() - state.startedHr,
        requestDigest: state.verified ? emptyBodyDigest : '',
        responseDigest: signed.bodyDigest,
        requestSignature: state.requestSignature && state.requestSignature.length <= 8192 ? state.requestSignature : null,
        responseSignature: signed.signature,
        subjects: state.subjects,
      });
    } catch (err) {
      this.deps.logger.error({ requestId, err: { name: (err as Error).name, message: (err as Error).message } }, 'message log write failed');
      return undefined;
    }
  }
}
