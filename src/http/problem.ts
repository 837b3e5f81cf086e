// RFC 9457 problem details: the one error type and the closed list of problem codes the hub answers with.
import { z } from '@hono/zod-openapi';

/** Every code the hub may answer with, its HTTP status and title. Adding a code is a protocol change: document it. */
export const problemCodes = {
  // Exchange protocol (docs/protocol.md), checks 1 to 16.
  'signature-missing': { status: 401, title: 'Signature missing' },
  'signature-malformed': { status: 401, title: 'Signature malformed' },
  'client-unknown': { status: 401, title: 'Client unknown' },
  'key-unknown': { status: 401, title: 'Key unknown' },
  'algorithm-refused': { status: 401, title: 'Algorithm refused' },
  'signature-invalid': { status: 401, title: 'Signature invalid' },
  'signature-mismatch': { status: 401, title: 'Signature does not match the request' },
  'clock-skew': { status: 401, title: 'Clock skew too large' },
  'replayed-request': { status: 409, title: 'Replayed request' },
  'body-digest-mismatch': { status: 401, title: 'Body digest mismatch' },
  'no-convention': { status: 403, title: 'No convention' },
  'operation-not-allowed': { status: 403, title: 'Operation not allowed' },
  'purpose-not-allowed': { status: 403, title: 'Purpose not allowed' },
  'convention-not-valid': { status: 403, title: 'Convention not valid today' },
  'quota-exceeded': { status: 429, title: 'Quota exceeded' },
  'request-invalid': { status: 400, title: 'Request invalid' },
  'provider-timeout': { status: 504, title: 'Provider timeout' },
  'provider-unavailable': { status: 502, title: 'Provider unavailable' },
  'provider-response-invalid': { status: 502, title: 'Provider response invalid' },
  // The hub's own API.
  'body-malformed': { status: 400, title: 'Body malformed' },
  'unauthenticated': { status: 401, title: 'Authentication required' },
  'forbidden': { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'conflict': { status: 409, title: 'Conflict' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'request-timeout': { status: 408, title: 'Request timeout' },
  'headers-too-large': { status: 431, title: 'Request header fields too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'unprocessable': { status: 422, title: 'Unprocessable content' },
  'database-unavailable': { status: 503, title: 'Database unavailable' },
  'queue-unavailable': { status: 503, title: 'Queue unavailable' },
  'not-ready': { status: 503, title: 'Not ready' },
  'internal': { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof problemCodes;

export const problemTypePrefix = 'urn:tabadol:problem:';

export interface ProblemFieldError {
  /** Where the fault is: `body.ice`, `query.limit`, `header.tabadol-client`, `path.id`. */
  location: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId?: string;
  errors?: ProblemFieldError[];
  [extension: string]: unknown;
}

/** The one error type: thrown anywhere, answered by the app's onError as problem+json. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly options: { errors?: ProblemFieldError[]; headers?: Record<string, string>; extensions?: Record<string, unknown> } = {},
  ) {
    super(`${code}: ${detail}`);
    this.status = problemCodes[code].status;
  }

  toBody(requestId?: string): ProblemBody {
    return {
      ...this.options.extensions,
      type: problemTypePrefix + this.code,
      title: problemCodes[this.code].title,
      status: this.status,
      detail: this.detail,
      ...(requestId ? { requestId } : {}),
      ...(this.options.errors && this.options.errors.length > 0 ? { errors: this.options.errors } : {}),
    };
  }
}

export const problemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:tabadol:problem:request-invalid' }),
    title: z.string().openapi({ example: 'Request invalid' }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string().openapi({ example: 'body.ice: must be 15 digits' }),
    requestId: z.string().optional().openapi({ example: '0b7f1e0e-3f5c-4c1e-9a59-9f3f5d1d2c11' }),
    errors: z
      .array(z.object({ location: z.string().openapi({ example: 'body.ice' }), message: z.string().openapi({ example: 'must be 15 digits' }) }))
      .optional(),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details; `type` is urn:tabadol:problem:<code>.' });

const problemContent = { 'application/problem+json': { schema: problemSchema } };

/** Shared error responses, spread into every route so that the spec documents them. */
export const problemResponses = {
  400: { description: 'Malformed or invalid request', content: problemContent },
  413: { description: 'Body larger than the configured limit', content: problemContent },
  500: { description: 'Internal error', content: problemContent },
  503: { description: 'A dependency (database or queue) is unreachable', content: problemContent },
} as const;

export const problemResponse = (description: string) => ({ description, content: problemContent });
