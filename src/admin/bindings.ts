// Service bindings as admins set them: the input checked field by field, then bindService; and a flat view for listing.
import { bindService, loadBindings, type ServiceBinding } from '../exchange/bindings.ts';
import { newForwardKeyId } from '../exchange/forward-proof.ts';
import { InvalidIdError, parseId } from '../identity/ids.ts';
import type { Db, Queryable } from '../storage/db.ts';
import { AdminInputError } from './errors.ts';

export interface BindingInput {
  serviceId: string;
  baseUrl?: string;
  adapter?: string;
  timeoutMs?: number;
  /** How the hub proves to the provider that a call came through it (docs/protocol.md §5): es256 (default) or hs256. */
  forwardProof?: 'es256' | 'hs256';
  /** With hs256: a new key id, hence a new key (the provider must then be given the new key). */
  rotateForwardKey?: boolean;
}

export interface BindingView {
  serviceId: string;
  kind: 'http' | 'adapter';
  baseUrl?: string;
  adapter?: string;
  timeoutMs: number;
  /** Present when the binding proves its calls with HS256; absent, the hub's ES256 key (the default). */
  forwardProof?: 'hs256';
  /** The id of the binding's HS256 key (never the key: `tabadol service bind` shows it to the operator). */
  forwardKeyId?: string;
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
  if (input.forwardProof !== undefined && input.forwardProof !== 'es256' && input.forwardProof !== 'hs256') throw new AdminInputError('forwardProof', 'must be es256 or hs256');
  if (input.rotateForwardKey !== undefined && typeof input.rotateForwardKey !== 'boolean') throw new AdminInputError('rotateForwardKey', 'must be true or false');
  if (input.adapter !== undefined) {
    // An adapter runs inside the hub: there is no network hop for a proof to cover.
    if (input.forwardProof === 'hs256') throw new AdminInputError('forwardProof', 'hs256 applies to a REST binding (baseUrl), not to an adapter');
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
  // The key id is chosen by setBinding (kept across re-bindings unless rotated); a placeholder marks the choice here.
  return { serviceId: input.serviceId, binding: { kind: 'http', baseUrl, timeoutMs, ...(input.forwardProof === 'hs256' ? { forwardProof: { alg: 'HS256', keyId: '' } } : {}) } };
}

/**
 * Sets a binding. An hs256 binding keeps the key id it already has (so the provider's key stays valid) unless
 * `rotateForwardKey`; otherwise it gets a new one.
 */
export async function setBinding(db: Db, input: BindingInput & { actor: string }): Promise<BindingView> {
  const { serviceId, binding } = parseBindingInput(input);
  if (binding.kind === 'http' && binding.forwardProof) {
    const current = (await loadBindings(db)).get(serviceId);
    const kept = current?.kind === 'http' && !input.rotateForwardKey ? current.forwardProof?.keyId : undefined;
    binding.forwardProof = { alg: 'HS256', keyId: kept ?? newForwardKeyId() };
  }
  await bindService(db, { serviceId, binding, actor: input.actor });
  return toView(serviceId, binding);
}

export async function listBindings(db: Queryable): Promise<BindingView[]> {
  const bindings = await loadBindings(db);
  return [...bindings.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([serviceId, binding]) => toView(serviceId, binding));
}

function toView(serviceId: string, binding: ServiceBinding): BindingView {
  if (binding.kind === 'adapter') return { serviceId, kind: 'adapter', adapter: binding.adapter, timeoutMs: binding.timeoutMs };
  return {
    serviceId,
    kind: 'http',
    baseUrl: binding.baseUrl,
    timeoutMs: binding.timeoutMs,
    ...(binding.forwardProof ? { forwardProof: 'hs256', forwardKeyId: binding.forwardProof.keyId } : {}),
  };
}
