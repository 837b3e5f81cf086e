// The one mapping from what code throws to the problem the hub answers: used by the app's onError and by the exchange
// pipeline alike. Statuses follow one rule (docs/protocol.md, "Problems": 400 or 422).
import { HTTPException } from 'hono/http-exception';
import { AdminInputError } from '../admin/errors.ts';
import { ConventionRefusedError } from '../conventions/store.ts';
import { MemberError } from '../identity/members.ts';
import { LogPurgeError } from '../message-log/purge.ts';
import { QueueUnavailableError } from '../queue/queue.ts';
import { StewardshipError } from '../golden/engine-types.ts';
import { DatabaseUnavailableError } from '../storage/db.ts';
import { ProblemError, type ProblemCode } from './problem.ts';

export interface ProblemWording {
  /** Named in the internal error's detail, so that the client can quote it (the exchange's answers carry it). */
  requestId?: string;
  /** What the queue is to the caller: the exchange's is its replay and quota store. */
  queue?: string;
}

// A field of the request at fault on its own: 400. A well-formed request refused by a domain rule: 422.
const memberCodes = { invalid: 'request-invalid', 'not-found': 'not-found', conflict: 'conflict' } as const satisfies Record<MemberError['reason'], ProblemCode>;
const conventionCodes = { invalid: 'unprocessable', 'not-found': 'not-found', conflict: 'conflict' } as const satisfies Record<ConventionRefusedError['reason'], ProblemCode>;
const stewardshipCodes = { 'not-found': 'not-found', conflict: 'conflict', invalid: 'unprocessable' } as const satisfies Record<StewardshipError['code'], ProblemCode>;

/** Where a convention problem lies among the three files sent, so that the caller knows which one to fix. */
function conventionProblemLocation(problem: string): string {
  if (/^(signature \d|missing the |not signed|the JWS|the \.jws)/.test(problem)) return 'body.jws';
  if (/OpenAPI/.test(problem)) return 'body.openapi';
  return 'body.yaml';
}

/**
 * Anything thrown → the problem to answer. Domain refusals keep their field; an unknown error becomes a 500 whose
 * detail reveals nothing internal (the caller logs the error itself).
 */
export function toProblem(err: unknown, wording: ProblemWording = {}): ProblemError {
  if (err instanceof ProblemError) return err;
  if (err instanceof DatabaseUnavailableError) return new ProblemError('database-unavailable', 'the database cannot be reached; try again shortly');
  if (err instanceof QueueUnavailableError) return new ProblemError('queue-unavailable', `${wording.queue ?? 'the queue'} cannot be reached; try again shortly`);
  if (err instanceof MemberError) {
    return new ProblemError(memberCodes[err.reason], `${err.location}: ${err.message}`, { errors: [{ location: `body.${err.location}`, message: err.message }] });
  }
  if (err instanceof AdminInputError) {
    return new ProblemError('request-invalid', `${err.location}: ${err.message}`, { errors: [{ location: `body.${err.location}`, message: err.message }] });
  }
  if (err instanceof ConventionRefusedError) {
    const errors = err.problems.map((message) => ({ location: conventionProblemLocation(message), message }));
    return new ProblemError(conventionCodes[err.reason], err.problems.join('; '), err.reason === 'invalid' ? { errors } : {});
  }
  if (err instanceof StewardshipError) return new ProblemError(stewardshipCodes[err.code], err.message);
  if (err instanceof LogPurgeError) return new ProblemError('conflict', err.message);
  if (err instanceof HTTPException) {
    if (err.status === 400 && /JSON/i.test(err.message)) {
      return new ProblemError('body-malformed', 'the request body is not valid JSON', { errors: [{ location: 'body', message: 'not valid JSON' }] });
    }
    if (err.status === 413) return new ProblemError('payload-too-large', 'the request body is larger than the limit');
    if (err.status === 401) return new ProblemError('unauthenticated', err.message || 'authentication required');
    if (err.status === 415) return new ProblemError('unsupported-media-type', err.message);
    return new ProblemError('request-invalid', err.message || 'the request is invalid');
  }
  const quote = wording.requestId === undefined ? '' : ` (request ${wording.requestId})`;
  return new ProblemError('internal', `an internal error occurred${quote}; quote the requestId to the operators`);
}

