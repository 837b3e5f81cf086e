// The compiled service's public shapes: what a provider's OpenAPI document becomes once compiled (index.ts).

/** The document cannot serve as a service contract; the message says what to fix. */
export class OpenApiDocumentError extends Error {
  override name = 'OpenApiDocumentError';
}

/** One fault, shaped like the `errors` items of the hub's problem+json answers. */
export interface FieldError {
  /** `path.ice`, `query.limit`, `header.x-foo`, `header.content-type`, `body`, `body.items.0.ice`, `response.owner.cin`. */
  location: string;
  message: string;
}

export interface RequestInput {
  pathParams: Record<string, string>;
  query: URLSearchParams;
  /** Looks a header up; called with the parameter's name in lower case. */
  headers: (name: string) => string | undefined;
  /** The request's Content-Type header, parameters allowed (`application/json; charset=utf-8`). */
  contentType?: string;
  /** The parsed JSON body (or, for a non-JSON media type, the raw body); undefined when there is no body. */
  body?: unknown;
}

export interface ServiceOperation {
  operationId: string;
  /** Upper case: `GET`, `POST`… */
  method: string;
  /** As written in the document: `/companies/{ice}/classification`. */
  pathTemplate: string;
}

export interface CompiledOperation extends ServiceOperation {
  /**
   * Checks parameters and body. Path, query and header values are coerced from strings to their schema's type first.
   * Query parameters that the operation does not declare are allowed (providers commonly accept more than they document,
   * and refusing them would break callers without protecting anyone); cookie parameters are not checked.
   */
  validateRequest(input: RequestInput): FieldError[];
  /** Checks a provider's 2xx answer; other statuses pass through unchecked and yield no errors. */
  validateResponse(status: number, contentType: string | undefined, body: unknown): FieldError[];
}

export interface MatchedOperation extends CompiledOperation {
  /** Decoded values of the template's parameters. */
  pathParams: Record<string, string>;
}

export interface CompiledService {
  /** Which OpenAPI line the document follows (decides the JSON Schema dialect). */
  version: '3.0' | '3.1';
  operations: readonly ServiceOperation[];
  /**
   * Finds the operation for a method and a raw path within the service (no query string): each segment is
   * percent-decoded after splitting, so `%2F` stays inside its segment. Literal segments win over templated ones.
   */
  match(method: string, path: string): MatchedOperation | undefined;
  operation(operationId: string): CompiledOperation | undefined;
}

export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
