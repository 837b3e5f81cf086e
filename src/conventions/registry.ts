// The hot path's in-memory index of active, verified conventions, reloaded whenever registry_version changes (polled).
import type { Queryable } from '../storage/db.ts';
import type { KeyResolver } from './signing.ts';
import { loadActiveConventions, type ActiveConvention, type RefusedConvention } from './store.ts';
import type { HubKeyring } from '../identity/hub-keys.ts';

export interface ConventionRegistryOptions {
  /** Members' public keys (e.g. memberKeyResolver(db)); the hub's own come from the keyring. */
  resolveKey: KeyResolver;
  keyring: Pick<HubKeyring, 'hubId' | 'verifyKey'>;
  /** A poll or reload failed: the registry keeps serving the last verified index meanwhile. */
  onError?: (err: Error) => void;
  /** After each reload, with the active conventions that were refused (signatures failing): worth an alert. */
  onReload?: (info: { version: string; enforceable: number; refused: RefusedConvention[] }) => void;
}

// Ids cannot contain a newline (ids.ts), so this key is unambiguous.
const keyOf = (consumer: string, provider: string, service: string): string => `${consumer}\n${provider}\n${service}`;

export class ConventionRegistry {
  private index = new Map<string, ActiveConvention>();
  private refusedList: RefusedConvention[] = [];
  private loadedVersion: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly db: Queryable,
    private readonly options: ConventionRegistryOptions,
  ) {}

  /** The active, verified convention for consumer → provider's service, or undefined (the hub answers no-convention). */
  find(consumer: string, provider: string, service: string): ActiveConvention | undefined {
    return this.index.get(keyOf(consumer, provider, service));
  }

  /** Every enforceable convention (for /meta/v1/allowed and the like). */
  all(): ActiveConvention[] {
    return [...this.index.values()];
  }

  /** Active conventions that failed re-verification at the last reload, with reasons: stored but not enforced. */
  refused(): readonly RefusedConvention[] {
    return this.refusedList;
  }

  /** The registry_version that the index reflects (undefined before the first load). */
  get version(): string | undefined {
    return this.loadedVersion;
  }

  /** Reloads from the database now (re-verifying every active convention). Concurrent calls run one after the other. */
  async reload(): Promise<void> {
    // Chained so that two reloads never interleave and the last one to finish reflects the newest state. The previous
    // reload's failure was its own caller's to handle: this one runs whatever became of it.
    const next = (this.inFlight ?? Promise.resolve()).catch(() => undefined).then(() => this.load());
    this.inFlight = next;
    try {
      await next;
    } finally {
      if (this.inFlight === next) this.inFlight = undefined;
    }
  }

  private async load(): Promise<void> {
    // Version read first: a change committed during the load bumps it again, so the next poll reloads once more.
    const version = await this.currentVersion();
    const { enforceable, refused } = await loadActiveConventions(this.db, { resolveKey: this.options.resolveKey, keyring: this.options.keyring });
    const index = new Map<string, ActiveConvention>();
    for (const c of enforceable) index.set(keyOf(c.consumer, c.provider, c.service), c);
    // Swapped in one assignment: a request sees the old index or the new one, never half of each.
    this.index = index;
    this.refusedList = refused;
    this.loadedVersion = version;
    this.options.onReload?.({ version, enforceable: enforceable.length, refused });
  }

  private async currentVersion(): Promise<string> {
    const { rows } = await this.db.query<{ version: string }>('SELECT version FROM registry_version WHERE id = 1');
    // int8 comes back as a string on both drivers (exact).
    return String(rows[0]?.version ?? '0');
  }

  /** One poll: reloads if registry_version moved since the last load. Returns whether it reloaded. */
  async poll(): Promise<boolean> {
    const version = await this.currentVersion();
    if (version === this.loadedVersion) return false;
    await this.reload();
    return true;
  }

  /** Loads now, then polls every pollMs (default 1 s): a change made by any process takes effect here within about that. */
  async start(pollMs = 1000): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    try {
      await this.reload();
    } catch (err) {
      this.stopped = true;
      throw err;
    }
    const tick = (): void => {
      if (this.stopped) return;
      this.poll()
        .catch((err: unknown) => this.options.onError?.(err instanceof Error ? err : new Error(String(err))))
        .finally(() => {
          // setTimeout after each poll (not setInterval): a slow reload never stacks polls up.
          if (!this.stopped) this.schedule(tick, pollMs);
        });
    };
    this.schedule(tick, pollMs);
  }

  private schedule(tick: () => void, pollMs: number): void {
    this.timer = setTimeout(tick, pollMs);
    // Polling alone must not keep the process alive.
    this.timer.unref();
  }

  /** Stops polling and waits for a reload in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight?.catch(() => undefined); // A failed reload was reported to its caller; stopping only waits for it.
  }
}
