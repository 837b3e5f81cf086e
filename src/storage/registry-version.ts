// registry_version: the counter that every change to members, keys, bindings and conventions bumps in its own
// transaction, and the one poller through which each process's in-memory views of them (the exchange directory, the
// convention registry) pick up a change that any process made.
import type { Queryable } from './db.ts';

/** In the caller's transaction: the change and the bump commit together, so a view never misses one. */
export async function bumpRegistryVersion(tx: Queryable): Promise<void> {
  await tx.query('UPDATE registry_version SET version = version + 1 WHERE id = 1');
}

/** The current version; int8 comes back as a string on both drivers (exact). */
export async function readRegistryVersion(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ version: string }>('SELECT version FROM registry_version WHERE id = 1');
  return String(rows[0]?.version ?? '0');
}

/** A view of the registry held in memory: it reloads itself and knows the version it reflects. */
export interface RegistryView {
  readonly version: string | undefined;
  reload(): Promise<void>;
}

/**
 * Runs a view's loads one after the other. A load already under way may have read the tables before the change that
 * the caller just made, so a new load always runs after it rather than joining it; the last to finish reflects the
 * newest state.
 */
export class SerialLoads {
  private inFlight: Promise<void> | undefined;

  async run(load: () => Promise<void>): Promise<void> {
    // The previous load's failure was its own caller's to handle; this load runs regardless.
    const next = (this.inFlight ?? Promise.resolve()).catch(() => undefined).then(load);
    this.inFlight = next;
    try {
      await next;
    } finally {
      if (this.inFlight === next) this.inFlight = undefined;
    }
  }

  /** Waits for a load in progress, whatever its outcome (its caller reports a failure). */
  async settled(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }
}

/**
 * One query per tick for all the views: reloads each view whose version is not the current one. A failed poll or reload
 * goes to `onError` and the views keep serving what they last loaded.
 */
export class RegistryVersionPoller {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<unknown> | undefined;
  private stopped = true;

  constructor(
    private readonly db: Queryable,
    private readonly views: readonly RegistryView[],
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /** One poll: reloads the views behind registry_version. Returns whether any reloaded. */
  async poll(): Promise<boolean> {
    const version = await readRegistryVersion(this.db);
    const behind = this.views.filter((view) => view.version !== version);
    await Promise.all(behind.map((view) => view.reload()));
    return behind.length > 0;
  }

  /** Polls every pollMs (the views are loaded by their owner first): a change made by any process applies here within about that. */
  start(pollMs = 1000): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = (): void => {
      if (this.stopped) return;
      this.polling = this.poll()
        .catch((err: unknown) => this.onError(err instanceof Error ? err : new Error(String(err))))
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

  /** Stops polling and waits for a poll in progress (its failure already went to onError). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
  }
}
