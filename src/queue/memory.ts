// In-process driver of the Queue interface, for development and tests: same semantics as the BullMQ driver, no Redis.
import {
  assertJobId,
  backoffDelay,
  defaultJobOptions,
  PermanentJobError,
  QueueUnavailableError,
  type DeadLetter,
  type Job,
  type JobHandler,
  type JobOptions,
  type ProcessOptions,
  type Queue,
  type QueueDepth,
  type Worker,
} from './queue.ts';

interface StoredJob {
  id: string;
  topic: string;
  data: unknown;
  attemptsMade: number;
  maxAttempts: number;
  backoffMs: number;
}

interface MemoryWorker {
  handler: JobHandler<unknown>;
  concurrency: number;
  running: number;
  closing: boolean;
  inFlight: Set<Promise<void>>;
}

interface Topic {
  waiting: StoredJob[];
  delayed: Map<string, { job: StoredJob; timer: NodeJS.Timeout }>;
  active: Map<string, StoredJob>;
  dead: Map<string, { job: StoredJob; failedReason: string; failedAt: Date }>;
  workers: Set<MemoryWorker>;
}

// Long as a whole, short in its parts: one closure holding the queue's state (jobs by topic, timers, workers), whose
// methods are each a few lines; split apart they would pass that state around.
export function createMemoryQueue(): Queue {
  const topics = new Map<string, Topic>();
  let counter = 0;
  let closed = false;

  function topicState(name: string): Topic {
    let state = topics.get(name);
    if (!state) {
      // Same rule as BullMQ, so that a topic name that works here also works in production.
      if (!name || name.includes(':')) throw new Error(`topic ${JSON.stringify(name)} must be non-empty and must not contain ':'`);
      state = { waiting: [], delayed: new Map(), active: new Map(), dead: new Map(), workers: new Set() };
      topics.set(name, state);
    }
    return state;
  }

  function isKnown(state: Topic, id: string): boolean {
    return state.active.has(id) || state.delayed.has(id) || state.dead.has(id) || state.waiting.some((j) => j.id === id);
  }

  function enqueue(topic: string, data: unknown, options: JobOptions = {}): string {
    if (closed) throw new QueueUnavailableError('memory queue is closed');
    if (options.jobId !== undefined) assertJobId(options.jobId);
    const state = topicState(topic);
    const id = options.jobId ?? `m-${++counter}`;
    if (isKnown(state, id)) return id;
    const job: StoredJob = {
      id,
      topic,
      // A JSON round trip gives the same data semantics as Redis (no shared references, Dates become strings).
      data: data === undefined ? undefined : JSON.parse(JSON.stringify(data)),
      attemptsMade: 0,
      maxAttempts: options.attempts ?? defaultJobOptions.attempts,
      backoffMs: options.backoffMs ?? defaultJobOptions.backoffMs,
    };
    if (options.delayMs && options.delayMs > 0) schedule(state, job, options.delayMs);
    else state.waiting.push(job);
    pump(state);
    return id;
  }

  function schedule(state: Topic, job: StoredJob, delayMs: number): void {
    const timer = setTimeout(() => {
      state.delayed.delete(job.id);
      state.waiting.push(job);
      pump(state);
    }, delayMs);
    state.delayed.set(job.id, { job, timer });
  }

  // Hands waiting jobs to workers with free slots; called whenever a job arrives or a slot frees up (no polling).
  function pump(state: Topic): void {
    for (const worker of state.workers) {
      while (!worker.closing && worker.running < worker.concurrency && state.waiting.length > 0) {
        const job = state.waiting.shift();
        if (job) run(state, worker, job);
      }
    }
  }

  function run(state: Topic, worker: MemoryWorker, job: StoredJob): void {
    state.active.set(job.id, job);
    worker.running++;
    const view: Job<unknown> = { id: job.id, topic: job.topic, data: job.data, attemptsMade: job.attemptsMade, maxAttempts: job.maxAttempts };
    // Starting from a resolved promise turns a synchronous throw into a rejection and keeps add() free of re-entrancy.
    const done = Promise.resolve()
      .then(() => worker.handler(view))
      .then(
        () => undefined,
        (error: unknown) => {
          job.attemptsMade++;
          if (error instanceof PermanentJobError || job.attemptsMade >= job.maxAttempts) {
            const failedReason = error instanceof Error ? error.message : String(error);
            state.dead.set(job.id, { job, failedReason, failedAt: new Date() });
          } else if (!closed) {
            // No retry timer once the queue is closed: it would outlive close() (in-memory jobs die with the process anyway).
            schedule(state, job, backoffDelay(job.backoffMs, job.attemptsMade));
          }
        },
      )
      .finally(() => {
        state.active.delete(job.id);
        worker.running--;
        worker.inFlight.delete(done);
        pump(state);
      });
    worker.inFlight.add(done);
  }

  function toDeadLetter(entry: { job: StoredJob; failedReason: string; failedAt: Date }): DeadLetter {
    const { job, failedReason, failedAt } = entry;
    return { id: job.id, topic: job.topic, data: job.data, attemptsMade: job.attemptsMade, failedReason, failedAt };
  }

  const workers = new Set<Worker>();

  return {
    driver: 'memory',

    async add(topic, data, options) {
      return enqueue(topic, data, options);
    },

    async addBulk(topic, jobs) {
      return jobs.map((job) => enqueue(topic, job.data, job.options));
    },

    process<Data>(topic: string, handler: JobHandler<Data>, options: ProcessOptions = {}): Worker {
      if (closed) throw new QueueUnavailableError('memory queue is closed');
      const state = topicState(topic);
      const worker: MemoryWorker = {
        // Data is whatever the producer put in; the generic is the caller's claim, as with BullMQ.
        handler: handler as JobHandler<unknown>,
        concurrency: Math.max(1, options.concurrency ?? 1),
        running: 0,
        closing: false,
        inFlight: new Set(),
      };
      state.workers.add(worker);
      const handle: Worker = {
        async close() {
          worker.closing = true;
          state.workers.delete(worker);
          workers.delete(handle);
          await Promise.all([...worker.inFlight]);
        },
      };
      workers.add(handle);
      pump(state);
      return handle;
    },

    async deadLetters(topic, options = {}) {
      const entries = [...(topics.get(topic)?.dead.values() ?? [])];
      // Newest first, like BullMQ's failed set.
      return entries.reverse().slice(0, options.limit ?? 100).map(toDeadLetter);
    },

    async inspectDeadLetter(topic, id) {
      const entry = topics.get(topic)?.dead.get(id);
      return entry ? toDeadLetter(entry) : undefined;
    },

    async replay(topic, id) {
      const state = topics.get(topic);
      const entry = state?.dead.get(id);
      if (!state || !entry) return false;
      state.dead.delete(id);
      entry.job.attemptsMade = 0;
      state.waiting.push(entry.job);
      pump(state);
      return true;
    },

    async depth(topic): Promise<QueueDepth> {
      const state = topics.get(topic);
      if (!state) return { waiting: 0, active: 0, delayed: 0, dead: 0 };
      return { waiting: state.waiting.length, active: state.active.size, delayed: state.delayed.size, dead: state.dead.size };
    },

    topics() {
      return [...topics.keys()];
    },

    async ping() {
      if (closed) throw new QueueUnavailableError('memory queue is closed');
    },

    async close() {
      closed = true;
      await Promise.all([...workers].map((worker) => worker.close()));
      for (const state of topics.values()) {
        for (const { timer } of state.delayed.values()) clearTimeout(timer);
        state.delayed.clear();
      }
    },
  };
}
