// The hot path's in-memory view of clients (subsystems and their keys) and service bindings, reloaded when
// registry_version changes, so that a key revoked or a binding changed by one process applies in every process.
import type { Queryable } from '../storage/db.ts';
import { loadClientDirectory, type ClientEntry } from '../identity/members.ts';
import { loadBindings, type ServiceBinding } from './bindings.ts';

export class HubDirectory {
  private clientMap = new Map<string, ClientEntry>();
  private bindingMap = new Map<string, ServiceBinding>();
  private loadedVersion: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  client(id: string): ClientEntry | undefined {
    return this.clientMap.get(id);
  }

  clients(): ClientEntry[] {
    return [...this.clientMap.values()];
  }

  binding(serviceId: string): ServiceBinding | undefined {
    return this.bindingMap.get(serviceId);
  }

  /**
   * Reloads now. A load already under way may have read the tables before the change that the caller just made, so a
   * new load always runs after it rather than joining it.
   */
  async reload(): Promise<void> {
    // The previous load's failure was its own caller's to handle: this one runs whatever became of it.
    const next = (this.loading ?? Promise.resolve()).catch(() => undefined).then(() => this.load());
    this.loading = next;
    try {
      await next;
    } finally {
      if (this.loading === next) this.loading = undefined;
    }
  }

  private async load(): Promise<void> {
    const { rows } = await this.db.query<{ version: string }>('SELECT version FROM registry_version WHERE id = 1');
    const version = rows[0]?.version;
    const [clients, bindings] = await Promise.all([loadClientDirectory(this.db), loadBindings(this.db)]);
    // Swapped whole: a request sees the old view or the new one, never half of each.
    this.clientMap = clients;
    this.bindingMap = bindings;
    this.loadedVersion = version;
  }

  /** Polls registry_version (one tiny query) and reloads when it moved. */
  start(pollMs = 1000): void {
    this.timer = setInterval(() => {
      void this.poll().catch((err: unknown) => this.onError(err as Error));
    }, pollMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const { rows } = await this.db.query<{ version: string }>('SELECT version FROM registry_version WHERE id = 1');
    if (rows[0]?.version !== this.loadedVersion) await this.reload();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
