// Service bindings as admins set them: the input checked field by field, then bindService; and a flat view for listing.
import { bindService, loadBindings, type ServiceBinding } from '../exchange/bindings.ts';
import { InvalidIdError, parseId } from '../identity/ids.ts';
import type { Db, Queryable } from '../storage/db.ts';
import { AdminInputError } from './errors.ts';

export interface BindingInput {
  serviceId: string;
  baseUrl?: string;
  adapter?: string;
  timeoutMs?: number;
}

export interface BindingView {
  serviceId: string;
  kind: 'http' | 'adapter';
  baseUrl?: string;
  adapter?: string;
  timeoutMs: number;
}

/** The same default as the hub's own bindings (bootstrap.ts). */
export const defaultTimeoutMs = 10_000;

/** Checks a binding request; throws AdminInputError naming the field (serviceId, baseUrl, adapter, timeoutMs). */
export function parseBindingInput(input: BindingInput): { serviceId: string; binding: ServiceBinding } {
  try {
    parseId(input.serviceId, 'service');
  } catch (err) {
    if (err instanceof InvalidIdError) throw new AdminInputError('serviceId', err.message);
    throw err;
  }
  const timeoutMs = input.timeoutMs ?? defaultTimeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 300_000) throw new AdminInputError('timeoutMs', 'must be an integer number of milliseconds between 1 and 300000');
  if ((input.baseUrl === undefined) === (input.adapter === undefined)) throw new AdminInputError('baseUrl', 'give exactly one of baseUrl (a REST service) or adapter (a binding implemented in code)');
  if (input.adapter !== undefined) {
    if (!/^[A-Za-z0-9:._-]{1,128}$/.test(input.adapter)) throw new AdminInputError('adapter', 'must match [A-Za-z0-9:._-]{1,128}');
    return { serviceId: input.serviceId, binding: { kind: 'adapter', adapter: input.adapter, timeoutMs } };
  }
  const baseUrl = input.baseUrl ?? '';
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new AdminInputError('baseUrl', `${JSON.stringify(baseUrl)} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AdminInputError('baseUrl', 'must be http:// or https://');
  if (url.search || url.hash) throw new AdminInputError('baseUrl', 'must not have a query or fragment');
  // Credentials in a binding would end up in the audit trail and the database in clear.
  if (url.username || url.password) throw new AdminInputError('baseUrl', 'must not carry user:password (the hub signs its requests instead)');
  return { serviceId: input.serviceId, binding: { kind: 'http', baseUrl, timeoutMs } };
}

export async function setBinding(db: Db, input: BindingInput & { actor: string }): Promise<BindingView> {
  const { serviceId, binding } = parseBindingInput(input);
  await bindService(db, { serviceId, binding, actor: input.actor });
  return toView(serviceId, binding);
}

export async function listBindings(db: Queryable): Promise<BindingView[]> {
  const bindings = await loadBindings(db);
  return [...bindings.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([serviceId, binding]) => toView(serviceId, binding));
}

function toView(serviceId: string, binding: ServiceBinding): BindingView {
  return binding.kind === 'http'
    ? { serviceId, kind: 'http', baseUrl: binding.baseUrl, timeoutMs: binding.timeoutMs }
    : { serviceId, kind: 'adapter', adapter: binding.adapter, timeoutMs: binding.timeoutMs };
}
