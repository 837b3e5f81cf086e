// "Verify the chain" from the console: verifyLog run in the background of this process, its progress (rows checked
// of the rows in the log when it started) read by the page while it runs. One verification at a time per process
// (it reads the whole log): a second request joins the running one. Finished ones are kept an hour, at most 20.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { verifyLog, type CheckpointKeys, type LogVerification } from '../message-log/index.ts';
import type { Queryable } from '../storage/db.ts';

export interface VerificationJob {
  id: string;
  startedBy: string;
  startedAt: Date;
  /** Rows in the log when it started (seqs are consecutive: last minus first plus one). */
  total: number;
  rowsChecked: number;
  result?: LogVerification;
  failed?: boolean;
}

const keepMs = 3_600_000;
const maxKept = 20;

export class LogVerifications {
  private readonly jobs = new Map<string, VerificationJob>();
  private running: VerificationJob | undefined;

  get(id: string): VerificationJob | undefined {
    return this.jobs.get(id);
  }

  /** Starts a verification, or returns the one already running. */
  async start(db: Queryable, keys: CheckpointKeys, operatorId: string, logger: Logger): Promise<VerificationJob> {
    if (this.running) return this.running;
    this.prune();
    const { rows } = await db.query<{ total: string }>('SELECT COALESCE(max(seq) - min(seq) + 1, 0)::text AS total FROM message_log');
    const job: VerificationJob = { id: randomBytes(12).toString('base64url'), startedBy: operatorId, startedAt: new Date(), total: Number(rows[0]?.total ?? 0), rowsChecked: 0 };
    this.jobs.set(job.id, job);
    this.running = job;
    verifyLog(db, keys, { onProgress: (n) => void (job.rowsChecked = n) })
      .then((result) => void (job.result = result))
      .catch((err: unknown) => {
        // The page says it failed; the reason goes to the log, not to the browser.
        job.failed = true;
        logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'console: log verification failed');
      })
      .finally(() => void (this.running = undefined));
    return job;
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, job] of this.jobs) if (job !== this.running && now - job.startedAt.getTime() > keepMs) this.jobs.delete(id);
    while (this.jobs.size >= maxKept) {
      const oldest = this.jobs.keys().next().value;
      if (oldest === undefined) break;
      this.jobs.delete(oldest);
    }
  }
}
