// A ProviderRequest as the exchange pipeline hands it to an adapter binding: the operationId and the decoded path
// parameters that the service contract's router (the one the pipeline matches with) gives for the method and path.
// Tests that call a binding directly build their requests here, so that they dispatch as the hub does.
import { readFileSync } from 'node:fs';
import type { ProviderRequest } from '../../src/exchange/bindings.ts';
import { compileServiceOpenApi, type CompiledService } from '../../src/exchange/openapi-service.ts';

const contracts = new Map<string, CompiledService>();

/** The compiled contract of a service, from contracts/ (`MA/GOV/HUB/referentials/persons` → MA.GOV.HUB.referentials/persons). */
export function serviceContract(serviceId: string): CompiledService {
  let contract = contracts.get(serviceId);
  if (!contract) {
    const parts = serviceId.split('/');
    const path = `../../contracts/${parts.slice(0, 4).join('.')}/${parts.slice(4).join('/')}/openapi.yaml`;
    contract = compileServiceOpenApi(readFileSync(new URL(path, import.meta.url), 'utf8'));
    contracts.set(serviceId, contract);
  }
  return contract;
}

/**
 * The request with the operation the contract's router matches. A path with malformed percent-encoding matches no
 * operation in the pipeline, which refuses it before any binding; here it is matched on its raw segments (each `%`
 * read as itself), so that what answers is the binding's own check of the path.
 */
export function routedRequest(contract: CompiledService, request: Omit<ProviderRequest, 'operationId' | 'pathParams'>): ProviderRequest {
  const [path = ''] = request.pathAndQuery.split('?', 1);
  const operation = contract.match(request.method, path) ?? contract.match(request.method, path.replaceAll('%', '%25'));
  if (!operation) throw new Error(`${request.method} ${path} is not an operation of ${request.serviceId}`);
  return { ...request, operationId: operation.operationId, pathParams: operation.pathParams };
}
