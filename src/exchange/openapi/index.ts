// A provider service's OpenAPI 3.0/3.1 document compiled once into an operation matcher and request/response validators.
// The jobs, one file each: document.ts (parsing, $refs, Ajv), convert.ts (OpenAPI schemas into JSON Schema),
// parameters.ts (reading and coercing parameters), operations.ts (request and answer checks), errors.ts (Ajv errors
// worded), router.ts (path matching).
import { DocumentContext, parseDocument } from './document.ts';
import { compileOperation } from './operations.ts';
import { compareRanks, compileRoute, decodeSegments, matchRoute, type Route } from './router.ts';
import { isObject, OpenApiDocumentError, type CompiledOperation, type CompiledService } from './types.ts';

export { explainBudget } from './errors.ts';
export { OpenApiDocumentError, type CompiledOperation, type CompiledService, type FieldError, type MatchedOperation, type RequestInput, type ServiceOperation } from './types.ts';

const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export function compileServiceOpenApi(documentText: string): CompiledService {
  const document = parseDocument(documentText);
  const version = String(document.openapi).startsWith('3.1') ? '3.1' : '3.0';
  const context = new DocumentContext(document, version);
  const paths = document.paths ?? {};
  if (!isObject(paths)) throw new OpenApiDocumentError('"paths" must be an object');

  const compiled: CompiledOperation[] = [];
  const routes: Route[] = [];
  const seenIds = new Map<string, string>();
  for (const [pathTemplate, rawPathItem] of Object.entries(paths)) {
    if (!pathTemplate.startsWith('/')) throw new OpenApiDocumentError(`path ${JSON.stringify(pathTemplate)} must start with "/"`);
    const pathItem = context.deref(rawPathItem, `paths.${pathTemplate}`);
    for (const method of httpMethods) {
      const rawOperation = pathItem[method];
      if (rawOperation === undefined) continue;
      const where = `${method.toUpperCase()} ${pathTemplate}`;
      if (!isObject(rawOperation)) throw new OpenApiDocumentError(`${where}: the operation must be an object`);
      const operationId = rawOperation.operationId;
      if (typeof operationId !== 'string' || operationId === '') {
        throw new OpenApiDocumentError(`${where} has no operationId: conventions name operations by operationId, so each one needs it`);
      }
      const clash = seenIds.get(operationId);
      if (clash !== undefined) throw new OpenApiDocumentError(`operationId ${JSON.stringify(operationId)} is used by both ${clash} and ${where}`);
      seenIds.set(operationId, where);
      const operation = compileOperation(context, { operationId, method: method.toUpperCase(), pathTemplate }, pathItem, rawOperation, where);
      compiled.push(operation);
      routes.push(compileRoute(operation));
    }
  }

  // Most specific first, so the first route that matches is the one to use.
  routes.sort((a, b) => compareRanks(a.ranks, b.ranks));
  const byMethod = new Map<string, Route[]>();
  for (const route of routes) {
    const list = byMethod.get(route.operation.method) ?? [];
    list.push(route);
    byMethod.set(route.operation.method, list);
  }
  const byId = new Map(compiled.map((operation) => [operation.operationId, operation]));

  return {
    version,
    operations: compiled.map(({ operationId, method, pathTemplate }) => ({ operationId, method, pathTemplate })),
    operation: (operationId) => byId.get(operationId),
    match(method, path) {
      const candidates = byMethod.get(method.toUpperCase());
      if (candidates === undefined || !path.startsWith('/')) return undefined;
      const segments = decodeSegments(path);
      if (segments === undefined) return undefined;
      for (const route of candidates) {
        const pathParams = matchRoute(route, segments);
        if (pathParams !== undefined) return { ...route.operation, pathParams };
      }
      return undefined;
    },
  };
}
