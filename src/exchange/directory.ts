// The hot path's in-memory view of clients (subsystems and their keys) and service bindings, reloaded when
// registry_version changes, so that a key revoked or a binding changed by one process applies in every process.
import type { Queryable } from '../storage/db.ts';
import { readRegistryVersion, SerialLoads, type RegistryView } from '../storage/registry-version.ts';
import { loadClientDirectory, type ClientEntry } from '../identity/members.ts';
import { loadBindings, type ServiceBinding } from './bindings.ts';

/** Polled by the hub's RegistryVersionPoller (hub/services.ts). */
export class HubDirectory implements RegistryView {
  private clientMap = new Map<string, ClientEntry>();
  private bindingMap = new Map<string, ServiceBinding>();
  private loadedVersion: string | undefined;
  private readonly loads = new SerialLoads();

  constructor(private readonly db: Queryable) {}

  client(id: string): ClientEntry | undefined {
    return this.clientMap.get(id);
  }

  clients(): ClientEntry[] {
    return [...this.clientMap.values()];
  }

  binding(serviceId: string): ServiceBinding | undefined {
    return this.bindingMap.get(serviceId);
  }

  /** The registry_version that the view reflects (undefined before the first load). */
  get version(): string | undefined {
    return this.loadedVersion;
  }

  /** Reloads now; concurrent calls run one after the other (SerialLoads). */
  async reload(): Promise<void> {
    await this.loads.run(() => this.load());
  }

  private async load(): Promise<void> {
    const version = await readRegistryVersion(this.db);
    const [clients, bindings] = await Promise.all([loadClientDirectory(this.db), loadBindings(this.db)]);
    // Swapped whole: a request sees the old view or the new one, never half of each.
    this.clientMap = clients;
    this.bindingMap = bindings;
    this.loadedVersion = version;
  }

  /** Waits for a reload in progress (its caller reports a failure). */
  async stop(): Promise<void> {
    await this.loads.settled();
  }
}
