// Typed calls of the hub's referential services (persons, companies, vehicles, territory): openapi-fetch clients over
// the types `npm run client:types` generates from their contracts, each call signed and each answer verified.
import createClient, { type Client } from 'openapi-fetch';
import type { paths as CompaniesPaths } from './referentials/companies.ts';
import type { paths as PersonsPaths } from './referentials/persons.ts';
import type { paths as TerritoryPaths } from './referentials/territory.ts';
import type { paths as VehiclesPaths } from './referentials/vehicles.ts';

export type { CompaniesPaths, PersonsPaths, TerritoryPaths, VehiclesPaths };

export interface ReferentialClients {
  persons: Client<PersonsPaths>;
  companies: Client<CompaniesPaths>;
  vehicles: Client<VehiclesPaths>;
  territory: Client<TerritoryPaths>;
}

export type ReferentialService = keyof ReferentialClients;

/** The referentials subsystem of a hub: its member's `referentials` (MA/GOV/HUB/core → MA/GOV/HUB/referentials). */
function referentialsSubsystem(hubId: string): string {
  return `${hubId.split('/').slice(0, 3).join('/')}/referentials`;
}

/**
 * One typed client per referential service, e.g.
 * `await referentialClients(client, { purpose }).companies.GET('/by-key/{keyType}/{keyValue}', { params: { path: { keyType: 'ice', keyValue } } })`.
 * `purpose` is the default; a call may give its own in a `tabadol-purpose` header. Answers that do not verify reject.
 */
/** What the typed clients need of a TabadolClient (structural, so that this file and index.ts do not import each other). */
export interface SigningClient {
  readonly hubUrl: string;
  readonly hubId: string;
  fetchWith(purpose?: string): (request: Request) => Promise<Response>;
}

export function referentialClients(client: SigningClient, options: { purpose?: string } = {}): ReferentialClients {
  const fetch = client.fetchWith(options.purpose);
  const base = `${client.hubUrl}/x/v1/${referentialsSubsystem(client.hubId)}`;
  return {
    persons: createClient<PersonsPaths>({ baseUrl: `${base}/persons`, fetch }),
    companies: createClient<CompaniesPaths>({ baseUrl: `${base}/companies`, fetch }),
    vehicles: createClient<VehiclesPaths>({ baseUrl: `${base}/vehicles`, fetch }),
    territory: createClient<TerritoryPaths>({ baseUrl: `${base}/territory`, fetch }),
  };
}
