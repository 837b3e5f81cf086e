// The queue interface that the hub's workers use, with a BullMQ driver (REDIS_URL) and an in-process driver.
// Jobs carry small JSON with ids, never secrets. Anything that must not be lost is in Postgres first (see outbox.ts).

export interface JobOptions {
  /** Deduplication key: adding a job whose id is already queued, active, delayed or dead does nothing. No ':' and not digits only. */
  jobId?: string;
  /** Total attempts before the job goes to the dead letters (default 5). */
  attempts?: number;
  /** Base delay of the exponential backoff in ms (default 1000); each retry waits base * 2^(n-1), with full jitter. */
  backoffMs?: number;
  /** Delay before the first attempt, in ms. */
  delayMs?: number;
}

export interface Job<Data = unknown> {
  id: string;
  topic: string;
  data: Data;
  /** Attempts made before this one (0 on the first). */
  attemptsMade: number;
  maxAttempts: number;
}

export type JobHandler<Data = unknown> = (job: Job<Data>) => Promise<void>;

export interface ProcessOptions {
  concurrency?: number;
}

export interface Worker {
  /** Stops taking jobs and waits for the ones in flight. */
  close(): Promise<void>;
}

export interface DeadLetter<Data = unknown> {
  id: string;
  topic: string;
  data: Data;
  attemptsMade: number;
  failedReason: string;
  failedAt: Date;
}

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  dead: number;
}

export interface Queue {
  readonly driver: 'bullmq' | 'memory';
  add<Data>(topic: string, data: Data, options?: JobOptions): Promise<string>;
  addBulk<Data>(topic: string, jobs: ReadonlyArray<{ data: Data; options?: JobOptions }>): Promise<string[]>;
  process<Data>(topic: string, handler: JobHandler<Data>, options?: ProcessOptions): Worker;
  deadLetters(topic: string, options?: { limit?: number }): Promise<DeadLetter[]>;
  inspectDeadLetter(topic: string, id: string): Promise<DeadLetter | undefined>;
  /** Moves a dead letter back to the queue for a fresh set of attempts; false when there is no such dead letter. */
  replay(topic: string, id: string): Promise<boolean>;
  depth(topic: string): Promise<QueueDepth>;
  /** Topics that have been used through this queue object (for metrics). */
  topics(): string[];
  /** Reachability check for /readyz; throws QueueUnavailableError. */
  ping(): Promise<void>;
  /** Closes workers (waiting for jobs in flight) and connections. */
  close(): Promise<void>;
}

/** Thrown by a handler for a fault that retrying cannot fix (bad data, a 4xx): the job goes to the dead letters at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/** The queue's backing store cannot be reached. */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';
}

export const defaultJobOptions = { attempts: 5, backoffMs: 1000 } as const;

/** Exponential backoff with full jitter: a random delay in [base * 2^(n-1) / 2, base * 2^(n-1)]. */
export function backoffDelay(baseMs: number, attemptsMade: number, random: () => number = Math.random): number {
  const ceiling = baseMs * 2 ** Math.max(0, attemptsMade - 1);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function assertJobId(jobId: string): void {
  if (jobId.includes(':') || /^\d+$/.test(jobId)) {
    throw new Error(`job id ${JSON.stringify(jobId)} must not contain ':' or be digits only`);
  }
}
