// "Verify the chain" from the console: verifyLog run in the background of the process that was asked, its state kept
// in console_log_verifications (migration 0020) so that the progress poll, which may land on any hub process
// (tabadol serve --processes N), finds it. One verification at a time across the hub (a partial unique index): a
// second start while one runs gets the running one. The running process writes its progress about once a second with
// a heartbeat; a running row whose heartbeat is older than staleMs belonged to a process that died, and is marked
// failed by the next start. Finished ones are kept an hour.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { verifyLog, type CheckpointKeys, type LogVerification } from '../message-log/index.ts';
import type { Db, Queryable } from '../storage/db.ts';

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

export const verificationIdPattern = /^[A-Za-z0-9_-]{16}$/;
const progressEveryMs = 1_000;
const staleMs = 60_000;
const keepMs = 3_600_000;

interface JobRow {
  id: string;
  started_by: string;
  started_at: Date;
  total: string;
  rows_checked: string;
  state: 'running' | 'done' | 'failed';
  result: LogVerification | null;
}

const columns = 'id, started_by, started_at, total::text AS total, rows_checked::text AS rows_checked, state, result';

function toJob(row: JobRow): VerificationJob {
  return {
    id: row.id,
    startedBy: row.started_by,
    startedAt: row.started_at,
    total: Number(row.total),
    rowsChecked: Number(row.rows_checked),
    ...(row.result ? { result: row.result } : {}),
    ...(row.state === 'failed' ? { failed: true } : {}),
  };
}

/** A verification by id, from whichever process runs or ran it. */
export async function getVerification(db: Queryable, id: string): Promise<VerificationJob | undefined> {
  if (!verificationIdPattern.test(id)) return undefined;
  const { rows } = await db.query<JobRow>(`SELECT ${columns} FROM console_log_verifications WHERE id = $1`, [id]);
  return rows[0] ? toJob(rows[0]) : undefined;
}

/**
 * Starts a verification in this process, or returns the one already running anywhere in the hub. The running row is
 * claimed by its insert (the unique index refuses a second), so two processes asked at once start one between them.
 */
export async function startVerification(db: Db, keys: CheckpointKeys, operatorId: string, logger: Logger): Promise<VerificationJob> {
  await db.query(`UPDATE console_log_verifications SET state = 'failed', finished_at = now() WHERE state = 'running' AND heartbeat_at < now() - $1::int * interval '1 millisecond'`, [staleMs]);
  await db.query(`DELETE FROM console_log_verifications WHERE state <> 'running' AND started_at < now() - $1::int * interval '1 millisecond'`, [keepMs]);
  const { rows: totals } = await db.query<{ total: string }>('SELECT COALESCE(max(seq) - min(seq) + 1, 0)::text AS total FROM message_log');
  const id = randomBytes(12).toString('base64url');
  const { rows } = await db.query<JobRow>(
    `INSERT INTO console_log_verifications (id, started_by, total, state) VALUES ($1, $2, $3::bigint, 'running')
     ON CONFLICT ((state)) WHERE state = 'running' DO NOTHING RETURNING ${columns}`,
    [id, operatorId, totals[0]?.total ?? '0'],
  );
  const claimed = rows[0];
  if (!claimed) {
    const { rows: running } = await db.query<JobRow>(`SELECT ${columns} FROM console_log_verifications WHERE state = 'running'`);
    // Finished between our insert and this read: show the latest one rather than nothing.
    if (running[0]) return toJob(running[0]);
    const { rows: latest } = await db.query<JobRow>(`SELECT ${columns} FROM console_log_verifications ORDER BY started_at DESC LIMIT 1`);
    if (latest[0]) return toJob(latest[0]);
    throw new Error('console: no verification could be started or found');
  }
  run(db, keys, claimed.id, logger);
  return toJob(claimed);
}

/** Runs the verification, writing its progress (throttled) and then its result or its failure. */
function run(db: Db, keys: CheckpointKeys, id: string, logger: Logger): void {
  let lastWrite = Date.now();
  let writing: Promise<unknown> = Promise.resolve();
  const onProgress = (rowsChecked: number) => {
    const now = Date.now();
    if (now - lastWrite < progressEveryMs) return;
    lastWrite = now;
    // One write in flight at a time; a failed progress write is not the verification's failure.
    writing = writing
      .then(() => db.query(`UPDATE console_log_verifications SET rows_checked = $2, heartbeat_at = now() WHERE id = $1 AND state = 'running'`, [id, rowsChecked]))
      .catch((err: unknown) => logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'console: could not record the verification progress'));
  };
  verifyLog(db, keys, { onProgress })
    .then(async (result) => {
      await writing;
      await db.query(`UPDATE console_log_verifications SET state = 'done', rows_checked = $2, result = $3::jsonb, heartbeat_at = now(), finished_at = now() WHERE id = $1`, [
        id,
        result.rowsChecked,
        JSON.stringify(result),
      ]);
    })
    .catch(async (err: unknown) => {
      // The page says it failed; the reason goes to the log, not to the browser.
      logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'console: log verification failed');
      await writing;
      await db
        .query(`UPDATE console_log_verifications SET state = 'failed', heartbeat_at = now(), finished_at = now() WHERE id = $1`, [id])
        .catch((e: unknown) => logger.error({ err: { name: (e as Error).name, message: (e as Error).message } }, 'console: could not record the verification failure'));
    });
}
