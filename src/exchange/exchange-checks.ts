// The exchange's checks that need no hub state, each testable alone: the body as read, the target, the purpose and
// validity of a convention (checks 11, 12), the request body as check 14 reads it, the headers each way, the
// provider's answer (check 16). ExchangePipeline (pipeline.ts) runs them in protocol order.
import type { ActiveConvention } from '../conventions/store.ts';
import { isValidAt } from '../conventions/model.ts';
import { isId } from '../identity/ids.ts';
import { exceedsJsonBudget, strictUtf8 } from '../http/json-budget.ts';
import { ProblemError, type ProblemFieldError } from '../http/problem.ts';
import type { ProviderResponse } from './bindings.ts';
import { findDuplicateKey } from './duplicate-keys.ts';
import type { MatchedOperation } from './openapi-service.ts';

export type BodyOutcome = { kind: 'read'; body: Uint8Array } | { kind: 'too-large'; limit: number } | { kind: 'timeout'; seconds: number };

// Hop-by-hop headers (RFC 9110 §7.6.1) and the hub's own never reach the provider.
const notForwarded = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect', 'authorization', 'cookie', 'x-request-id']);
// What a provider's answer may carry back to the consumer; the rest (cookies, server banners, hop-by-hop) stays behind.
const passedBack = ['content-type', 'content-language', 'cache-control', 'etag', 'last-modified', 'retry-after', 'location', 'vary'];

const prefix = '/x/v1/';
/** The body as read, or the refusal of one too large or too slow. */
export function bodyOf(read: BodyOutcome): Uint8Array {
  if (read.kind === 'too-large') {
    throw new ProblemError('payload-too-large', `the request body is larger than ${read.limit} bytes`, { errors: [{ location: 'body', message: `larger than ${read.limit} bytes` }] });
  }
  if (read.kind === 'timeout') {
    throw new ProblemError('request-timeout', `the request body did not arrive within ${read.seconds} s`, { errors: [{ location: 'body', message: `incomplete after ${read.seconds} s` }] });
  }
  return read.body;
}

/** Check 10: the operation is one of the service's, and the convention names it. */
export function operationRefusal(convention: ActiveConvention, operation: MatchedOperation | undefined, method: string, route: ParsedTarget): ProblemError {
  return new ProblemError(
    'operation-not-allowed',
    operation
      ? `operation ${operation.operationId} (${operation.method} ${operation.pathTemplate}) is not in convention ${convention.id} v${convention.version}`
      : `${method} ${route.path} is not an operation of ${route.serviceId}`,
  );
}

/** Check 11: the purpose the caller signed is one the convention allows. */
export function checkPurpose(convention: ActiveConvention, purpose: string): ProblemError | undefined {
  if (convention.convention.purposes.some((p) => p.code === purpose)) return undefined;
  return new ProblemError('purpose-not-allowed', `purpose ${purpose} is not in convention ${convention.id} v${convention.version}`, {
    errors: [{ location: 'header.tabadol-purpose', message: `allowed: ${convention.convention.purposes.map((p) => p.code).join(', ')}` }],
  });
}

/** Check 12: the convention is valid at this instant. */
export function checkValidity(convention: ActiveConvention, at: Date): ProblemError | undefined {
  if (isValidAt(convention.convention, at)) return undefined;
  return new ProblemError('convention-not-valid', `convention ${convention.id} v${convention.version} is valid from ${convention.convention.validFrom} until ${convention.convention.validUntil}`);
}

/**
 * The request body as the OpenAPI check reads it: a JSON body strictly (UTF-8, within the JSON budget, no key twice,
 * since the provider receives these bytes and a repeated key could mean another value to it); any other as text.
 */
export function parseRequestBody(body: Uint8Array, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  if (!contentType || !/[/+]json\b/i.test(contentType)) return Buffer.from(body).toString('utf8');
  const text = strictUtf8(body);
  if (text === undefined) throw new ProblemError('request-invalid', 'the body is not UTF-8', { errors: [{ location: 'body', message: 'not UTF-8 (RFC 8259 §8.1)' }] });
  const overBudget = exceedsJsonBudget(text);
  if (overBudget) throw new ProblemError('request-invalid', `body: ${overBudget.message}`, { errors: [overBudget] });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ProblemError('request-invalid', 'the body is not valid JSON', { errors: [{ location: 'body', message: 'not valid JSON' }] });
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) throw new ProblemError('request-invalid', `${duplicate}: the key appears twice in one object`, { errors: [{ location: duplicate, message: 'duplicate key' }] });
  return parsed;
}

/** The request headers the provider receives: none hop-by-hop, none of the hub's own. */
export function forwardedHeaders(headers: Record<string, string>): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!notForwarded.has(name) && !name.startsWith('tabadol-')) forwarded[name] = value;
  }
  return forwarded;
}

/** The provider's answer headers that may reach the consumer. */
export function passedBackHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const name of passedBack) {
    const value = headers[name];
    if (value !== undefined) passed[name] = value;
  }
  return passed;
}

/**
 * A 2xx answer against the operation's OpenAPI: its JSON value (undefined when not JSON, or empty), or the refusal
 * provider-response-invalid naming the faults.
 */
export function validateAnswer(operation: Pick<MatchedOperation, 'validateResponse'>, provided: ProviderResponse): unknown {
  const providerType = provided.headers['content-type'];
  const isJson = providerType !== undefined && /[/+]json\b/i.test(providerType);
  let parsed: unknown;
  if (isJson && provided.json !== undefined) {
    // An in-process adapter's own value (see ProviderResponse.json): the body is its serialisation.
    parsed = provided.json;
  } else if (isJson && provided.body.length > 0) {
    try {
      parsed = JSON.parse(Buffer.from(provided.body).toString('utf8'));
    } catch {
      throw new ProblemError('provider-response-invalid', 'the provider answered invalid JSON', { errors: [{ location: 'response', message: 'not valid JSON' }] });
    }
  }
  const responseErrors = operation.validateResponse(provided.status, providerType, parsed);
  if (responseErrors.length > 0) {
    throw new ProblemError('provider-response-invalid', `the provider's answer does not match its OpenAPI: ${responseErrors.map((e) => `${e.location}: ${e.message}`).join('; ')}`, { errors: responseErrors });
  }
  return isJson ? parsed : undefined;
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
    throw new ProblemError('request-invalid', `${JSON.stringify(serviceId)} is not a service id`, { errors });
  }
  const rest = segments.slice(5).join('/');
  return { serviceId, path: `/${rest}`, query };
}

export function splitService(serviceId: string): [provider: string, service: string] {
  const parts = serviceId.split('/');
  return [parts.slice(0, 4).join('/'), parts[4] ?? ''];
}
