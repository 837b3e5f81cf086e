// The protocol's metaservices (/meta/v1/...): who is registered, which services exist, what the caller may use, and
// each service's OpenAPI document exactly as the conventions signed it.
import type { ConventionRegistry } from '../conventions/registry.ts';
import { isId } from '../identity/ids.ts';
import type { HubDirectory } from './directory.ts';
import { compileServiceOpenApi } from './openapi-service.ts';
import { ProblemError } from '../http/problem.ts';

export interface MetaAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const json = (value: unknown): MetaAnswer => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

export class MetaServices {
  constructor(
    private readonly directory: HubDirectory,
    private readonly conventions: ConventionRegistry,
  ) {}

  async answer(method: string, target: string, caller: string): Promise<MetaAnswer> {
    if (method !== 'GET') throw new ProblemError('method-not-allowed', 'metaservices answer GET only');
    const path = target.split('?')[0] ?? '';
    if (path === '/meta/v1/clients') {
      return json({
        clients: this.directory
          .clients()
          .map((c) => ({ id: c.id, name: c.name, kind: c.id.split('/').length === 4 ? 'subsystem' : 'member', active: c.active }))
          .sort((a, b) => a.id.localeCompare(b.id)),
      });
    }
    if (path === '/meta/v1/services') {
      const services = new Map<string, { id: string; provider: string; service: string; openapiDigest: string }>();
      for (const c of this.conventions.all()) {
        const id = `${c.provider}/${c.service}`;
        services.set(id, { id, provider: c.provider, service: c.service, openapiDigest: c.openapiDigest });
      }
      return json({ services: [...services.values()].sort((a, b) => a.id.localeCompare(b.id)) });
    }
    if (path === '/meta/v1/allowed') {
      const allowed = this.conventions
        .all()
        .filter((c) => c.consumer === caller)
        .map((c) => {
          const operations = compileServiceOpenApi(c.openapi).operations;
          return {
            service: `${c.provider}/${c.service}`,
            convention: { id: c.id, version: c.version },
            operations: c.convention.operations.map((o) => {
              const op = operations.find((x) => x.operationId === o.operationId);
              return { operationId: o.operationId, method: op?.method ?? null, path: op?.pathTemplate ?? null, fields: o.fields ?? null };
            }),
            purposes: c.convention.purposes,
            validFrom: c.convention.validFrom,
            validUntil: c.convention.validUntil,
            quota: c.convention.quota,
          };
        });
      return json({ client: caller, allowed });
    }
    if (path.startsWith('/meta/v1/openapi/')) {
      const serviceId = decodePathPart(path.slice('/meta/v1/openapi/'.length));
      if (!isId(serviceId, 'service')) throw new ProblemError('request-invalid', `${JSON.stringify(serviceId)} is not a service id`, { errors: [{ location: 'path', message: 'expected INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE' }] });
      const convention = this.conventions.all().find((c) => `${c.provider}/${c.service}` === serviceId);
      if (!convention) throw new ProblemError('not-found', `no service ${serviceId} under an active convention`);
      const isJson = convention.openapi.trimStart().startsWith('{');
      return { status: 200, headers: { 'content-type': isJson ? 'application/json' : 'application/yaml', 'tabadol-openapi-digest': convention.openapiDigest }, body: convention.openapi };
    }
    throw new ProblemError('not-found', `no metaservice at ${path}`);
  }
}

/** A malformed percent-encoding (`%E0%A4%A`) is the caller's fault: a 400 naming the path, not a URIError. */
function decodePathPart(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ProblemError('request-invalid', 'the path is not valid percent-encoded UTF-8', { errors: [{ location: 'path', message: 'malformed percent-encoding' }] });
  }
}
