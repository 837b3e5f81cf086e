// An adapter binding written as its contract's operations: one handler per operationId. The pipeline's router has
// already matched the operation and decoded its path parameters (ProviderRequest.operationId and .pathParams), so a
// binding never routes a path again; the simulators, real HTTP servers, keep their own routing.
import { printable } from '../storage/storable.ts';
import { adapterProblem, type AdapterBinding, type ProviderRequest, type ProviderResponse } from './bindings.ts';

/** One operation: the path parameters the router matched (decoded), the query, and the whole request. */
export type OperationHandler = (params: Readonly<Record<string, string>>, query: URLSearchParams, request: ProviderRequest) => Promise<ProviderResponse>;

/** A contract's operations by operationId. */
export type OperationTable = Readonly<Record<string, OperationHandler>>;

/** Checks every request of a binding gets before its handler: a refusal, or undefined to go on. */
export type OperationPrecheck = (params: Readonly<Record<string, string>>, query: URLSearchParams, request: ProviderRequest) => ProviderResponse | undefined;

/**
 * The binding of `service` that answers each request with the handler of its operationId. An operationId the table
 * does not hold is a 404 not-found problem, as a path that matched no route was before dispatch on operationId.
 */
export function operationBinding(service: string, operations: OperationTable, precheck?: OperationPrecheck): AdapterBinding {
  // A Map, not the object: an operationId such as `constructor` must not find Object.prototype's.
  const handlers = new Map(Object.entries(operations));
  return {
    async handle(request) {
      const handler = handlers.get(request.operationId);
      if (!handler) return adapterProblem('not-found', `${service} has no operation ${printable(request.operationId)}`);
      // Split as the bindings always split: split('?', 2) drops any text after a second `?`, which the pipeline's
      // own reading of the query keeps (a difference kept as it was, not introduced here).
      const [rawPath, query = ''] = request.pathAndQuery.split('?', 2) as [string, string?];
      // The router matches no operation on a malformed path, so through the pipeline this never refuses; a binding
      // called directly (tests do) must not hand parameters taken from such a path to its handlers either.
      if (!percentDecodes(rawPath)) return adapterProblem('request-invalid', 'the path is not valid percent-encoding', [{ location: 'path', message: 'not valid percent-encoding' }]);
      const q = new URLSearchParams(query);
      return precheck?.(request.pathParams, q, request) ?? handler(request.pathParams, q, request);
    },
  };
}

function percentDecodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}
