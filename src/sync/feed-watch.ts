// Long-poll without holding a database connection: waiting readers register here, and one poll of the feed's last
// position (an index lookup) every pollMs, only while someone waits, wakes those whose cursor it passed. A thousand
// waiting subscribers cost one query per poll, and no connection between polls.
import type { Queryable } from '../storage/db.ts';
import { lastFeedPosition } from './feed.ts';

interface Waiter {
  after: number;
  /** Checked at each poll: true ends the wait (the process is draining, say). */
  stop: (() => boolean) | undefined;
  wake(moved: boolean): void;
}

export class FeedWatch {
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly pollMs = 200,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /**
   * Resolves true once the feed (any referential) has a change after `after`, false at `untilMs` (epoch ms), when
   * `signal` aborts, or when `stop` says so at a poll. True also when the feed could not be read: the reader reads
   * again and meets the fault itself.
   */
  waitBeyond(after: number, untilMs: number, options: { signal?: AbortSignal; stop?: () => boolean } = {}): Promise<boolean> {
    const { signal } = options;
    return new Promise<boolean>((resolve) => {
      if (signal?.aborted || untilMs <= Date.now()) {
        resolve(false);
        return;
      }
      const onAbort = () => waiter.wake(false);
      const deadline = setTimeout(() => waiter.wake(false), untilMs - Date.now());
      deadline.unref();
      const waiter: Waiter = {
        after,
        stop: options.stop,
        wake: (moved) => {
          clearTimeout(deadline);
          signal?.removeEventListener('abort', onAbort);
          this.waiters.delete(waiter);
          resolve(moved);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.schedule();
    });
  }

  /** Readers waiting now (for tests and metrics). */
  get waiting(): number {
    return this.waiters.size;
  }

  private schedule(): void {
    if (this.timer || this.waiters.size === 0) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => {
        this.timer = undefined;
        this.schedule();
      });
    }, this.pollMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    let last: number;
    try {
      last = await lastFeedPosition(this.db);
    } catch (err) {
      this.onError(err);
      for (const waiter of [...this.waiters]) waiter.wake(true);
      return;
    }
    for (const waiter of [...this.waiters]) {
      if (last > waiter.after) waiter.wake(true);
      else if (waiter.stop?.()) waiter.wake(false);
    }
  }
}
