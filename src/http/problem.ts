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
  errorsOmitted?: number;
  [extension: string]: unknown;
}

/**
 * What one problem body may hold, whatever the input, so that an answer stays under about 64 KB (docs/protocol.md,
 * "Problems"): a refusal of a hostile body must not cost more than the body itself. Sizes are UTF-8 bytes once
 * JSON-encoded, because escaping (`\u0001` is six bytes) and multi-byte characters make a character count no bound.
 */
export const problemLimits = {
  /** Field errors listed; the rest are counted in `errorsOmitted`. */
  errors: 100,
  /** All listed field errors together. */
  errorsBytes: 48 * 1024,
  locationBytes: 256,
  messageBytes: 512,
  detailBytes: 2048,
} as const;

/** Field errors as a problem lists them: at most problemLimits.errors, each clipped, and how many were left out. */
export interface BoundedErrors {
  errors: ProblemFieldError[];
  omitted: number;
}

/**
 * The first errors that fit the limits, each location and message clipped; `alreadyOmitted` adds errors the caller
 * never listed (it stopped collecting at the cap). Work is bounded by the cap, not by the length of the list.
 */
export function boundErrors(errors: readonly ProblemFieldError[], alreadyOmitted = 0): BoundedErrors {
  const kept: ProblemFieldError[] = [];
  let bytes = 0;
  for (const error of errors) {
    if (kept.length === problemLimits.errors) break;
    const location = clipText(error.location, problemLimits.locationBytes);
    const message = clipText(error.message, problemLimits.messageBytes);
    const size = jsonBytes(location) + jsonBytes(message) + 26; // {"location":,"message":},
    if (bytes + size > problemLimits.errorsBytes) break;
    bytes += size;
    kept.push({ location, message });
  }
  return { errors: kept, omitted: errors.length - kept.length + Math.max(0, alreadyOmitted) };
}

const ellipsis = '…';

/** The text itself when its JSON encoding fits in maxBytes; otherwise its longest prefix that does, ending with "…". */
export function clipText(text: string, maxBytes: number): string {
  // Six bytes per UTF-16 unit is the most JSON.stringify can write (`\u0001`, a lone surrogate as `\udc00`).
  if ((text.length + 2) * 6 <= maxBytes) return text;
  const budget = maxBytes - 2 - 3; // the quotes, and the ellipsis (3 bytes in UTF-8)
  let bytes = 0;
  let end = 0;
  while (end < text.length) {
    const unit = text.charCodeAt(end);
    let width = 1;
    let cost: number;
    if (unit >= 0xd800 && unit <= 0xdbff && end + 1 < text.length && (text.charCodeAt(end + 1) & 0xfc00) === 0xdc00) {
      width = 2;
      cost = 4; // a pair: one 4-byte UTF-8 sequence
    } else {
      cost = unitJsonBytes(unit);
    }
    if (bytes + cost > budget) break;
    bytes += cost;
    end += width;
  }
  return end === text.length ? text : text.slice(0, end) + ellipsis;
}

function unitJsonBytes(unit: number): number {
  if (unit === 0x22 || unit === 0x5c || unit === 0x08 || unit === 0x09 || unit === 0x0a || unit === 0x0c || unit === 0x0d) return 2;
  if (unit < 0x20) return 6;
  if (unit < 0x80) return 1;
  if (unit < 0x800) return 2;
  if (unit >= 0xd800 && unit <= 0xdfff) return 6; // lone surrogate, escaped by JSON.stringify
  return 3;
}

function jsonBytes(text: string): number {
  let bytes = 2;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else {
      bytes += unitJsonBytes(unit);
    }
  }
  return bytes;
}

/**
 * The one place a problem body is assembled (ProblemError, the referential services, the readiness check): detail
 * and errors bounded by problemLimits, `errorsOmitted` when some were left out, `requestId` when given.
 */
export function problemBody(
  code: ProblemCode,
  detail: string,
  options: { requestId?: string; errors?: readonly ProblemFieldError[]; errorsOmitted?: number; extensions?: Record<string, unknown> } = {},
): ProblemBody {
  const bounded = boundErrors(options.errors ?? [], options.errorsOmitted);
  return {
    ...options.extensions,
    type: problemTypePrefix + code,
    title: problemCodes[code].title,
    status: problemCodes[code].status,
    detail: clipText(detail, problemLimits.detailBytes),
    ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
    ...(bounded.errors.length > 0 ? { errors: bounded.errors } : {}),
    ...(bounded.omitted > 0 ? { errorsOmitted: bounded.omitted } : {}),
  };
}

/**
 * The one error type, for the hub's API and the exchange alike: thrown anywhere, answered as problem+json (by the app's
 * onError, or signed and logged by the exchange pipeline). Bounded like every problem (problemLimits): the detail is
 * clipped and the errors cut to the first ones at once.
 */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly status: number;
  readonly detail: string;
  /** The faults listed, at most problemLimits.errors. */
  readonly errors: ProblemFieldError[];
  /** Faults found beyond those listed. */
  readonly errorsOmitted: number;
  readonly options: ProblemOptions;
  constructor(
    readonly code: ProblemCode,
    detail: string,
    options: ProblemOptions = {},
  ) {
    const clipped = clipText(detail, problemLimits.detailBytes);
    super(`${code}: ${clipped}`);
    this.detail = clipped;
    this.status = problemCodes[code].status;
    const bounded = boundErrors(options.errors ?? [], options.errorsOmitted);
    this.errors = bounded.errors;
    this.errorsOmitted = bounded.omitted;
    this.options = options.errors === undefined ? options : { ...options, errors: bounded.errors, errorsOmitted: bounded.omitted };
  }

  toBody(requestId?: string): ProblemBody {
    return problemBody(this.code, this.detail, { ...this.options, ...(requestId ? { requestId } : {}) });
  }
}

export interface ProblemOptions {
  errors?: ProblemFieldError[];
  /** Errors the thrower found but did not list (it stopped at the cap); added to those the cap leaves out. */
  errorsOmitted?: number;
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
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
      .optional()
      .openapi({ description: 'The faults, each named: at most the first 100 (fewer when they would pass 48 KB), each location and message cut to 256 and 512 bytes' }),
    errorsOmitted: z.number().int().optional().openapi({ description: 'How many more faults were found than `errors` lists; absent when it lists them all', example: 2400 }),
  })
  .openapi('Problem', {
    description: 'RFC 9457 problem details; `type` is urn:tabadol:problem:<code>. Bounded whatever the input (about 64 KB at most): `detail` is cut to 2 KB, `errors` to the first 100 with the rest counted in `errorsOmitted`.',
  });

const problemContent = { 'application/problem+json': { schema: problemSchema } };

/** Shared error responses, spread into every route so that the spec documents them. */
export const problemResponses = {
  400: { description: 'Malformed or invalid request', content: problemContent },
  413: { description: 'Body larger than the configured limit', content: problemContent },
  500: { description: 'Internal error', content: problemContent },
  503: { description: 'A dependency (database or queue) is unreachable', content: problemContent },
} as const;

export const problemResponse = (description: string) => ({ description, content: problemContent });
