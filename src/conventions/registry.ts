// The hot path's in-memory index of active, verified conventions, reloaded whenever registry_version changes (polled).
import type { Queryable } from '../storage/db.ts';
import { readRegistryVersion, RegistryVersionPoller, SerialLoads, type RegistryView } from '../storage/registry-version.ts';
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

export class ConventionRegistry implements RegistryView {
  private index = new Map<string, ActiveConvention>();
  private refusedList: RefusedConvention[] = [];
  private loadedVersion: string | undefined;
  private readonly loads = new SerialLoads();
  // Its own poller when started alone; the hub polls once for all its views (hub/services.ts).
  private readonly poller: RegistryVersionPoller;
  private started = false;

  constructor(
    private readonly db: Queryable,
    private readonly options: ConventionRegistryOptions,
  ) {
    this.poller = new RegistryVersionPoller(db, [this], options.onError);
  }

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
    await this.loads.run(() => this.load());
  }

  private async load(): Promise<void> {
    // Version read first: a change committed during the load bumps it again, so the next poll reloads once more.
    const version = await readRegistryVersion(this.db);
    const { enforceable, refused } = await loadActiveConventions(this.db, { resolveKey: this.options.resolveKey, keyring: this.options.keyring });
    const index = new Map<string, ActiveConvention>();
    for (const c of enforceable) index.set(keyOf(c.consumer, c.provider, c.service), c);
    // Swapped in one assignment: a request sees the old index or the new one, never half of each.
    this.index = index;
    this.refusedList = refused;
    this.loadedVersion = version;
    this.options.onReload?.({ version, enforceable: enforceable.length, refused });
  }

  /** One poll: reloads if registry_version moved since the last load. Returns whether it reloaded. */
  async poll(): Promise<boolean> {
    return this.poller.poll();
  }

  /** Loads now, then polls every pollMs (default 1 s): a change made by any process takes effect here within about that. */
  async start(pollMs = 1000): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      await this.reload();
    } catch (err) {
      this.started = false;
      throw err;
    }
    this.poller.start(pollMs);
  }

  /** Stops polling and waits for a reload in progress. */
  async stop(): Promise<void> {
    this.started = false;
    await this.poller.stop();
    await this.loads.settled();
  }
}
