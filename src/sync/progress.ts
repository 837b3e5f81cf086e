// Progress of a long replay (a rewind, dead letters put back): what is left to deliver, read from the subscription's
// status until it has caught up. The CLI's `--follow` prints it; the loop only reads, so stopping it changes nothing.
import type { Queryable } from '../storage/db.ts';
import { subscriptionStatuses, type SubscriptionStatus } from './status.ts';

export interface FollowOptions {
  /** Called with each new line of progress (only when something moved, so an idle wait prints nothing new). */
  print: (line: string) => void;
  /** Between two reads of the status. */
  everyMs: number;
  /** Waits between reads; a test may hand its own. */
  wait?: (ms: number) => Promise<void>;
}

export type FollowOutcome = 'caught-up' | 'paused' | 'ended';

export function progressLine(s: SubscriptionStatus): string {
  const lag = s.lagChanges === 0 ? 'caught up' : `${s.lagChanges} change(s) left to deliver, oldest ${Math.round(s.lagSeconds)} s ago`;
  const circuit = s.circuit === 'open' ? `, circuit open until ${s.circuitOpenUntil?.toISOString() ?? '?'}` : '';
  return `${s.id}: ${lag}; ${s.delivered} delivered, ${s.failed} failed, ${s.deadLetters} dead letter(s)${circuit}`;
}

/**
 * Reads the subscription's status until nothing is left to deliver (or it is paused or ended, when waiting would never
 * end), printing each change of progress. Returns why it stopped and the last status read.
 */
export async function followSubscription(db: Queryable, id: string, options: FollowOptions): Promise<{ outcome: FollowOutcome; status: SubscriptionStatus }> {
  const wait = options.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let last = '';
  for (;;) {
    const status = (await subscriptionStatuses(db, { all: true })).find((s) => s.id === id);
    if (!status) throw new Error(`subscription ${id} no longer exists`);
    const line = progressLine(status);
    // The age of the oldest change moves every second; print when the counts move, not the clock.
    const key = line.replace(/oldest \d+ s ago/, '');
    if (key !== last) options.print(line);
    last = key;
    if (status.state !== 'active') return { outcome: status.state, status };
    if (status.lagChanges === 0) return { outcome: 'caught-up', status };
    await wait(options.everyMs);
  }
}
