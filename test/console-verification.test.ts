// "Verify the chain" across hub processes: the job's state lives in console_log_verifications (migration 0020), so a
// progress poll landing on another process (another pool on the same database, on PostgreSQL) finds it; a second
// start anywhere while one runs gets the running one; a running job whose process died (stale heartbeat) is marked
// failed by the next start. The verification is held at its first read of the log (a gate) so "running" is observed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubKeyring, loadOrCreateHubKeys } from '../src/identity/hub-keys.ts';
import { MessageLog } from '../src/message-log/index.ts';
import { getVerification, startVerification } from '../src/console/log-verification.ts';
import type { Db, SqlValue } from '../src/storage/db.ts';
import { drivers, openSameSchema, openTestDb, type TestDb } from './helpers/db.ts';
import { captureLogger } from './helpers/hub.ts';
import { waitFor } from './helpers/wait.ts';

/** `db` whose reads of the log (other than the count taken at start) wait until `open()` is called. */
function gated(db: Db) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const wrapped: Db = {
    driver: db.driver,
    async query<Row>(sql: string, params?: readonly SqlValue[]) {
      if (/message_log|log_checkpoints|log_anchor/.test(sql) && !sql.includes('max(seq) - min(seq)')) await gate;
      return db.query<Row>(sql, params);
    },
    exec: (sql) => db.exec(sql),
    transaction: (fn, options) => db.transaction(fn, options),
    ping: () => db.ping(),
    close: () => db.close(),
  };
  return { db: wrapped, open };
}

describe.each(drivers())('log verification shared by hub processes on %s', (driver) => {
  let t!: TestDb;
  /** The second process: another pool on the same schema (PostgreSQL), the same database on PGlite. */
  let other!: Db;
  let keyring!: HubKeyring;
  let keysDir = '';
  const { logger } = captureLogger('warn');

  beforeAll(async () => {
    t = await openTestDb(driver);
    other = driver === 'pg' ? await openSameSchema(t.where) : t.db;
    keysDir = mkdtempSync(join(tmpdir(), 'tabadol-verify-keys-'));
    keyring = new HubKeyring('MA/GOV/HUB/core', await loadOrCreateHubKeys({ dataDir: keysDir }));
    const log = new MessageLog({ db: t.db, keyring, checkpointEveryRows: 5, checkpointEverySeconds: 3600 });
    for (let i = 0; i < 12; i++) {
      await log.append({ at: new Date(), requestId: `v-${i}`, client: 'MA/GOV/A/s', service: 'svc', operation: 'op', purpose: 'p', status: 200, durationMs: 1, requestDigest: 'd', responseDigest: 'e', subjects: [] });
    }
    await log.close?.();
  }, 60_000);

  afterAll(async () => {
    if (other !== t.db) await other.close();
    await t?.dispose();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('is seen running and then done from the other process, and a second start joins the running one', async () => {
    const first = gated(t.db);
    const job = await startVerification(first.db, keyring, 'op-a', logger);
    expect(job.result).toBeUndefined();
    const polled = await getVerification(other, job.id);
    expect(polled).toMatchObject({ id: job.id, startedBy: 'op-a', total: 12, rowsChecked: 0 });
    expect(polled?.result).toBeUndefined();
    expect(polled?.failed).toBeUndefined();
    // Started again from the other process while it runs: the running one, not a second scan.
    const again = await startVerification(other, keyring, 'op-b', logger);
    expect(again.id).toBe(job.id);
    first.open();
    const done = await waitFor(async () => {
      const v = await getVerification(other, job.id);
      return v?.result ? v : false;
    }, 'the verification done, seen from the other process');
    expect(done.result).toMatchObject({ ok: true, rowsChecked: 12, problems: [] });
    expect(done.rowsChecked).toBe(12);
    // Finished: the next start is a new verification.
    const next = await startVerification(other, keyring, 'op-b', logger);
    expect(next.id).not.toBe(job.id);
    await waitFor(async () => (await getVerification(t.db, next.id))?.result ?? false, 'the second verification done');
  });

  it('marks failed a running job whose process stopped beating, and starts a new one', async () => {
    await t.db.query(
      `INSERT INTO console_log_verifications (id, started_by, total, state, started_at, heartbeat_at) VALUES ('deaddeaddeaddead', 'op-gone', 12, 'running', now() - interval '10 minutes', now() - interval '5 minutes')`,
    );
    const job = await startVerification(other, keyring, 'op-c', logger);
    expect(job.id).not.toBe('deaddeaddeaddead');
    expect((await getVerification(t.db, 'deaddeaddeaddead'))?.failed).toBe(true);
    await waitFor(async () => (await getVerification(t.db, job.id))?.result ?? false, 'the new verification done');
  });

  it('answers nothing for an id that is not one it gives', async () => {
    expect(await getVerification(other, "x' OR '1'='1")).toBeUndefined();
    expect(await getVerification(other, 'AAAAAAAAAAAAAAAA')).toBeUndefined();
  });
});
