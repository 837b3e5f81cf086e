// The message log on both drivers: group commit under concurrency, several writers, tampering found and named, purge.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubKeyring, loadOrCreateHubKeys } from '../src/identity/hub-keys.ts';
import { CHECKPOINT_TYP, GENESIS_HASH, LogPurgeError, MessageLog, purgeLog, rowHash, verifyLog, type ChainRow, type LogEntry, type LogVerification } from '../src/message-log/index.ts';
import { loadRowAt } from '../src/message-log/verify.ts';
import type { Db, Queryable, SqlValue } from '../src/storage/db.ts';
import { drivers, openSameSchema, openTestDb, type TestDb } from './helpers/db.ts';

const HOUR = 3600;
// Longer than any test's rows are old: checkpoints come from the row count only.
const DECADE = 10 * 365 * 24 * HOUR;

function entry(i: number, overrides: Partial<LogEntry> = {}): LogEntry {
  return {
    at: new Date(),
    requestId: `req-${i}`,
    client: 'MA/GOV/MEF/marches-publics',
    service: 'MA/GOV/METLE/qualification-btp/classification',
    operation: 'getClassification',
    purpose: 'public-procurement-eligibility',
    conventionId: 'conv-btp-mef',
    conventionVersion: 2,
    status: 200,
    durationMs: 12.345 + i / 7,
    providerMs: i % 2 === 0 ? 8.1 : null,
    requestDigest: `rq-digest-${i}`,
    responseDigest: `rs-digest-${i}`,
    requestSignature: `rq.sig.${i}`,
    responseSignature: `rs.sig.${i}`,
    subjects: [
      { type: 'cin', hmac: `hmac-cin-${i % 7}`, location: 'path' },
      { type: 'ice', hmac: `hmac-ice-${i % 3}`, location: 'response' },
    ],
    ...overrides,
  };
}

/** Delegates to db, counting transactions and failing the next `failNext` of them. */
function instrument(db: Db) {
  const state = { transactions: 0, failNext: 0 };
  const wrapped: Db = {
    driver: db.driver,
    query<Row>(sql: string, params?: readonly SqlValue[]) {
      return db.query<Row>(sql, params);
    },
    exec: (sql) => db.exec(sql),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      state.transactions++;
      if (state.failNext > 0) {
        state.failNext--;
        return Promise.reject(new Error('database went away'));
      }
      return db.transaction(fn);
    },
    ping: () => db.ping(),
    close: () => db.close(),
  };
  return { db: wrapped, state };
}

async function checkpointSeqs(db: Queryable): Promise<string[]> {
  return (await db.query<{ seq: string }>('SELECT seq FROM log_checkpoints ORDER BY seq')).rows.map((r) => r.seq);
}

async function storedRow(db: Queryable, seq: string): Promise<ChainRow> {
  const stored = await loadRowAt(db, seq);
  if (!stored) throw new Error(`no row ${seq}`);
  return stored.row;
}

async function insertRow(db: Queryable, row: ChainRow, hash: string): Promise<void> {
  await db.query(
    `INSERT INTO message_log (seq, at, request_id, client, service, operation, purpose, convention_id, convention_version, status, problem,
       duration_ms, provider_ms, request_digest, response_digest, request_signature, response_signature, request_body, response_body, prev_hash, hash)
     VALUES ($1, to_timestamp($2::numeric / 1000000), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
    [row.seq, row.atMicros, row.requestId, row.client, row.service, row.operation, row.purpose, row.conventionId, row.conventionVersion, row.status, row.problem,
      row.durationMs, row.providerMs, row.requestDigest, row.responseDigest, row.requestSignature, row.responseSignature, row.requestBody, row.responseBody, row.prevHash, hash],
  );
  for (const s of row.subjects) {
    await db.query('INSERT INTO message_subjects (seq, subject_type, subject_hmac, location) VALUES ($1, $2, $3, $4)', [row.seq, s.type, s.hmac, s.location]);
  }
}

/** What an attacker with SQL access and the code does: edit rows from `fromSeq` on and recompute every hash after. */
async function rewriteTail(db: Queryable, fromSeq: number, lastSeq: number): Promise<void> {
  let prevHash = rowHash(await storedRow(db, String(fromSeq - 1)));
  for (let seq = fromSeq; seq <= lastSeq; seq++) {
    const row = { ...(await storedRow(db, String(seq))), prevHash };
    if (seq === fromSeq) row.status = 204;
    const hash = rowHash(row);
    await db.query('UPDATE message_log SET status = $2, prev_hash = $3, hash = $4 WHERE seq = $1', [String(seq), row.status, prevHash, hash]);
    prevHash = hash;
  }
}

const problemsOf = (v: LogVerification) => v.problems.map((p) => ({ seq: p.seq, kind: p.kind }));

describe.each(drivers())('message log on %s', (driver) => {
  let keysDir: string;
  let keyring: HubKeyring;
  let otherKeyring: HubKeyring;
  let t: TestDb;
  const logs: MessageLog[] = [];
  const extraDbs: Db[] = [];

  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), 'tabadol-log-keys-'));
    keyring = new HubKeyring('MA/GOV/HUB/core', await loadOrCreateHubKeys({ dataDir: join(keysDir, 'hub') }));
    otherKeyring = new HubKeyring('MA/GOV/HUB/core', await loadOrCreateHubKeys({ dataDir: join(keysDir, 'other') }));
  });
  afterAll(() => rmSync(keysDir, { recursive: true, force: true }));
  beforeEach(async () => {
    t = await openTestDb(driver);
  });
  afterEach(async () => {
    for (const log of logs.splice(0)) await log.close();
    for (const db of extraDbs.splice(0)) await db.close();
    await t.dispose();
  });

  const openLog = (db: Db, options: { checkpointEveryRows?: number; checkpointEverySeconds?: number } = {}) => {
    const log = new MessageLog({ db, keyring, checkpointEveryRows: 10, checkpointEverySeconds: HOUR, ...options });
    logs.push(log);
    return log;
  };

  /** 35 rows, checkpoints at 10, 20, 30 and (at close) 35. */
  const seed = async (count = 35, at?: (i: number) => Date) => {
    const log = new MessageLog({ db: t.db, keyring, checkpointEveryRows: 10, checkpointEverySeconds: DECADE });
    const seqs = await Promise.all(Array.from({ length: count }, (_, i) => log.append(entry(i + 1, at ? { at: at(i + 1) } : {}))));
    await log.close();
    return seqs;
  };

  describe('writing', () => {
    it('gives 500 concurrent appends consecutive seqs in a few transactions, checkpoints every N rows, and a chain that verifies', async () => {
      const { db, state } = instrument(t.db);
      const log = openLog(db, { checkpointEveryRows: 50 });
      const seqs = await Promise.all(Array.from({ length: 500 }, (_, i) => log.append(entry(i))));
      expect([...seqs].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 500 }, (_, i) => String(i + 1)));
      expect(new Set(seqs).size).toBe(500);
      // Group commit: one lock and one transaction per batch, not per append.
      expect(state.transactions).toBeLessThan(20);
      expect(await checkpointSeqs(t.db)).toEqual(Array.from({ length: 10 }, (_, i) => String((i + 1) * 50)));
      const first = (await t.db.query<{ prev_hash: string }>('SELECT prev_hash FROM message_log WHERE seq = 1')).rows[0];
      expect(first?.prev_hash).toBe(GENESIS_HASH);

      const result = await verifyLog(t.db, keyring);
      expect(result).toEqual({ ok: true, rowsChecked: 500, checkpointsChecked: 10, firstSeq: '1', lastSeq: '500', problems: [] });
    });

    it('reads the chain with the lock in BEGIN\'s round trip, and starts the next batch while the previous commits', async () => {
      let calls = 0;
      let open = 0;
      let mostOpen = 0;
      const statements: number[] = [];
      const later: Array<Promise<string>> = [];
      const db: Db = {
        driver: t.db.driver,
        query: (sql, params) => t.db.query(sql, params),
        exec: (sql) => t.db.exec(sql),
        async transaction(fn, options) {
          // The second batch arrives while the first is being written.
          if (++calls === 1) for (let i = 0; i < 5; i++) later.push(log.append(entry(100 + i)));
          mostOpen = Math.max(mostOpen, ++open);
          try {
            return await t.db.transaction(async (tx, prelude) => {
              let count = 0;
              const counted: Queryable = { query: (sql, params) => (count++, tx.query(sql, params)), exec: (sql) => tx.exec(sql) };
              try {
                return await fn(counted, prelude);
              } finally {
                statements.push(count);
              }
            }, options);
          } finally {
            open--;
          }
        },
        ping: () => t.db.ping(),
        close: () => t.db.close(),
      };
      const log = openLog(db, { checkpointEveryRows: 1000 });
      const first = await Promise.all(Array.from({ length: 5 }, (_, i) => log.append(entry(i))));
      const second = await Promise.all(later);
      expect([...first, ...second]).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
      // One statement between BEGIN (with the lock and the chain's state) and COMMIT: the batch's INSERT.
      expect(statements).toEqual([1, 1]);
      // The second transaction was begun before the first one had committed.
      expect(mostOpen).toBe(2);
      expect((await verifyLog(t.db, keyring)).ok).toBe(true);
    });

    it('stores what it is given: subjects (one per HMAC), bodies only when passed, reals as float4', async () => {
      const log = openLog(t.db);
      const withBodies = await log.append(entry(1, {
        requestBody: '{"cin":"AB123456"}',
        responseBody: '{"classe":"1"}',
        subjects: [
          { type: 'cin', hmac: 'same', location: 'path' },
          { type: 'cin', hmac: 'same', location: 'response' },
        ],
      }));
      const without = await log.append(entry(2, { durationMs: 0.1, problem: 'urn:tabadol:problem:quota-exceeded', status: 429 }));
      const rows = (await t.db.query<{ seq: string; request_body: string | null; status: number }>('SELECT seq, request_body, status FROM message_log ORDER BY seq')).rows;
      expect(rows).toEqual([
        { seq: withBodies, request_body: '{"cin":"AB123456"}', status: 200 },
        { seq: without, request_body: null, status: 429 },
      ]);
      const subjects = await t.db.query('SELECT seq, subject_type, subject_hmac, location FROM message_subjects WHERE seq = $1', [withBodies]);
      expect(subjects.rows).toEqual([{ seq: withBodies, subject_type: 'cin', subject_hmac: 'same', location: 'path' }]);
      expect((await verifyLog(t.db, keyring)).ok).toBe(true);
    });

    it('rejects a bad entry alone, and a failed flush rejects exactly its batch', async () => {
      const { db, state } = instrument(t.db);
      const log = openLog(db);
      await expect(log.append(entry(1, { requestId: 'nul\u0000inside' }))).rejects.toThrow(/NUL/);
      await expect(log.append(entry(1, { status: 200.5 }))).rejects.toThrow(/integer/);
      await expect(log.append(entry(1, { at: new Date('nope') }))).rejects.toThrow(/Date/);

      state.failNext = 1;
      const failed = await Promise.allSettled([log.append(entry(1)), log.append(entry(2))]);
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      // The next flush starts from the committed head: no gap left by the failed batch.
      expect(await log.append(entry(3))).toBe('1');
      expect((await verifyLog(t.db, keyring)).ok).toBe(true);
    });

    it('checkpoints the tail at close, and a closed log refuses appends', async () => {
      const log = openLog(t.db, { checkpointEveryRows: 1000 });
      await Promise.all([1, 2, 3].map((i) => log.append(entry(i))));
      expect(await checkpointSeqs(t.db)).toEqual([]);
      await log.close();
      expect(await checkpointSeqs(t.db)).toEqual(['3']);
      await expect(log.append(entry(4))).rejects.toThrow(/closed/);
    });

    it('writes a batch after its own last one in one statement, and in a transaction again when another writer moved the head', async () => {
      const { db, state } = instrument(t.db);
      let statements = 0;
      const counted: Db = { ...db, query: (sql, params) => (statements++, db.query(sql, params)), transaction: (fn, options) => db.transaction(fn, options) };
      const a = openLog(counted, { checkpointEveryRows: 3 });
      const first: string[] = [];
      for (let i = 1; i <= 5; i++) first.push(await a.append(entry(i)));
      expect(first).toEqual(['1', '2', '3', '4', '5']);
      // The first batch reads the chain in a transaction; the four after it know the head: one statement each.
      expect(state.transactions).toBe(1);
      expect(statements).toBe(4);
      expect(await checkpointSeqs(t.db)).toEqual(['3']);

      // Another writer (another process, in production) appends behind a's back: a's head is stale.
      const b = openLog(t.db, { checkpointEveryRows: 3 });
      expect(await b.append(entry(6))).toBe('6');
      expect(await b.append(entry(7))).toBe('7');
      expect(await a.append(entry(8))).toBe('8');
      // a's one statement wrote nothing (the head it knew was not the last row), then its transaction did.
      expect(state.transactions).toBe(2);
      expect(statements).toBe(5);
      expect(await checkpointSeqs(t.db)).toEqual(['3', '6']);
      const result = await verifyLog(t.db, keyring);
      expect(result).toMatchObject({ ok: true, rowsChecked: 8, firstSeq: '1', lastSeq: '8', problems: [] });
    });

    it("keeps writing in one statement when its own next flush took the head first (no slow mode, no warning)", async () => {
      const { db, state } = instrument(t.db);
      let statements = 0;
      let gate: Promise<void> | undefined;
      // The one-statement append (WITH lock AS …) waits at the gate: the flush started after it goes first.
      const counted: Db = {
        ...db,
        query: async (sql, params) => {
          statements++;
          if (gate && sql.startsWith('WITH lock AS')) await gate;
          return db.query(sql, params);
        },
        transaction: (fn, options) => db.transaction(fn, options),
      };
      const warnings: string[] = [];
      const log = new MessageLog({ db: counted, keyring, checkpointEveryRows: 1000, checkpointEverySeconds: HOUR, logger: { warn: (_o, m) => warnings.push(m ?? '') } });
      logs.push(log);
      expect(await log.append(entry(1))).toBe('1');
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      const slow = log.append(entry(2));
      // Let the first flush send its statement (and start the next flush) before the second entry is queued.
      while (statements === 0) await new Promise((r) => setImmediate(r));
      const fast = log.append(entry(3));
      expect(await fast).toBe('2');
      gate = undefined;
      open();
      expect(await slow).toBe('3');
      expect(state.transactions).toBe(3);
      // The head is known again: the next batch is one statement, not one of 64 transactions.
      const before = statements;
      expect(await log.append(entry(4))).toBe('4');
      expect(state.transactions).toBe(3);
      expect(statements).toBe(before + 1);
      expect(warnings).toEqual([]);
      expect((await verifyLog(t.db, keyring)).ok).toBe(true);
    });

    it('checkpoints a batch whose oldest unsigned row has waited checkpointEverySeconds', async () => {
      const log = openLog(t.db, { checkpointEveryRows: 1000, checkpointEverySeconds: 60 });
      await log.append(entry(1, { at: new Date(Date.now() - 120_000) }));
      expect(await checkpointSeqs(t.db)).toEqual(['1']);
    });
  });

  // Several processes on one database exist only with PostgreSQL (an embedded data directory admits one process), so
  // this block is defined for that driver alone rather than reported as skipped on the other.
  if (driver === 'pg') describe('several processes', () => {
    it('two MessageLog instances on the same schema, writing at once, give one valid chain', async () => {
      const second = await openSameSchema(t.where);
      extraDbs.push(second);
      const a = openLog(t.db, { checkpointEveryRows: 25 });
      const b = openLog(second, { checkpointEveryRows: 25 });
      const seqs = await Promise.all(Array.from({ length: 600 }, (_, i) => (i % 2 === 0 ? a : b).append(entry(i))));
      expect([...seqs].map(Number).sort((x, y) => x - y)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
      expect(await checkpointSeqs(t.db)).toEqual(Array.from({ length: 24 }, (_, i) => String((i + 1) * 25)));
      const result = await verifyLog(t.db, keyring);
      expect(result).toMatchObject({ ok: true, rowsChecked: 600, checkpointsChecked: 24, problems: [] });
    });
  });

  describe('tampering, directly in SQL', () => {
    beforeEach(async () => {
      await seed();
      expect(await checkpointSeqs(t.db)).toEqual(['10', '20', '30', '35']);
      expect((await verifyLog(t.db, keyring)).ok).toBe(true);
    });

    it('a changed column names the row', async () => {
      await t.db.query('UPDATE message_log SET status = 404 WHERE seq = 17');
      const result = await verifyLog(t.db, keyring);
      expect(result.ok).toBe(false);
      expect(problemsOf(result)).toEqual([{ seq: '17', kind: 'changed' }]);
    });

    it('a changed time, real or subject names the row', async () => {
      await t.db.query(`UPDATE message_log SET at = at + interval '1 microsecond' WHERE seq = 3`);
      await t.db.query('UPDATE message_log SET duration_ms = duration_ms + 0.001 WHERE seq = 5');
      await t.db.query(`UPDATE message_subjects SET subject_hmac = 'someone-else' WHERE seq = 12 AND subject_type = 'cin'`);
      await t.db.query(`DELETE FROM message_subjects WHERE seq = 14 AND subject_type = 'ice'`);
      expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([
        { seq: '3', kind: 'changed' },
        { seq: '5', kind: 'changed' },
        { seq: '12', kind: 'changed' },
        { seq: '14', kind: 'changed' },
      ]);
    });

    it('a row replaced with a recomputed hash is named by the broken link after it', async () => {
      const row = { ...(await storedRow(t.db, '17')), status: 403 };
      await t.db.query('UPDATE message_log SET status = 403, hash = $2 WHERE seq = $1', ['17', rowHash(row)]);
      expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([{ seq: '17', kind: 'changed' }]);
    });

    it('deleted rows are named', async () => {
      await t.db.query('DELETE FROM message_log WHERE seq = 17');
      expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([{ seq: '17', kind: 'deleted' }]);
      await t.db.query('DELETE FROM message_log WHERE seq IN (4, 5, 6)');
      expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([
        { seq: '4', kind: 'deleted' },
        { seq: '5', kind: 'deleted' },
        { seq: '6', kind: 'deleted' },
        { seq: '17', kind: 'deleted' },
      ]);
    });

    it('a deleted checkpointed row or tail is named', async () => {
      await t.db.query('DELETE FROM message_log WHERE seq = 20');
      expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([{ seq: '20', kind: 'deleted' }]);
      await t.db.query('DELETE FROM message_log WHERE seq >= 33');
      expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([
        { seq: '20', kind: 'deleted' },
        { seq: '33', kind: 'deleted' },
        { seq: '34', kind: 'deleted' },
        { seq: '35', kind: 'deleted' },
      ]);
    });

    it('an inserted row with a fresh seq and a correct hash is named when it links beside the chain', async () => {
      // A plausible row after the tail, its prev_hash that of row 12 (which has a successor), its hash recomputed.
      const row: ChainRow = { ...(await storedRow(t.db, '13')), seq: '36', requestId: 'forged', prevHash: (await storedRow(t.db, '13')).prevHash };
      await insertRow(t.db, row, rowHash(row));
      const result = await verifyLog(t.db, keyring);
      expect(problemsOf(result)).toEqual([{ seq: '36', kind: 'inserted' }]);
      expect(result.problems[0]?.detail).toMatch(/row 12/);
    });

    it('an inserted row with a skipped seq is named, not taken for deleted rows', async () => {
      const tail = await loadRowAt(t.db, '35');
      if (!tail) throw new Error('no tail');
      const row: ChainRow = { ...tail.row, seq: '40', requestId: 'forged', prevHash: tail.hash };
      await insertRow(t.db, row, rowHash(row));
      expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([{ seq: '40', kind: 'inserted' }]);
    });

    it('limit: a row appended right after the tail, linked and hashed correctly, is indistinguishable from the hub\'s', async () => {
      const tail = await loadRowAt(t.db, '35');
      if (!tail) throw new Error('no tail');
      const row: ChainRow = { ...tail.row, seq: '36', requestId: 'forged', prevHash: tail.hash };
      await insertRow(t.db, row, rowHash(row));
      expect((await verifyLog(t.db, keyring)).ok).toBe(true);
    });

    it('a tail rewritten consistently after a checkpoint is caught by the next checkpoint', async () => {
      await rewriteTail(t.db, 22, 35);
      const result = await verifyLog(t.db, keyring);
      expect(problemsOf(result)).toEqual([
        { seq: '30', kind: 'checkpoint-mismatch' },
        { seq: '35', kind: 'checkpoint-mismatch' },
      ]);
      expect(result.problems[0]?.detail).toMatch(/after checkpoint 20, up to 30/);
    });

    it('a forged or edited checkpoint is checkpoint-invalid', async () => {
      const cp = (await t.db.query<{ seq: string; hash: string; at: Date }>('SELECT seq, hash, at FROM log_checkpoints WHERE seq = 20')).rows[0];
      if (!cp) throw new Error('no checkpoint');
      const forged = await otherKeyring.signCompact({ seq: cp.seq, hash: cp.hash, at: cp.at.toISOString(), iss: 'MA/GOV/HUB/core' }, CHECKPOINT_TYP);
      await t.db.query('UPDATE log_checkpoints SET signature = $1 WHERE seq = 20', [forged]);
      await t.db.query('UPDATE log_checkpoints SET kid = $1, signature = $2 WHERE seq = 30', [otherKeyring.current.kid, forged]);
      await t.db.query(`UPDATE log_checkpoints SET hash = repeat('a', 64) WHERE seq = 10`);
      const result = await verifyLog(t.db, keyring);
      expect(problemsOf(result)).toEqual([
        { seq: '10', kind: 'checkpoint-invalid' },
        { seq: '20', kind: 'checkpoint-invalid' },
        { seq: '30', kind: 'checkpoint-invalid' },
      ]);
      expect(result.problems[2]?.detail).toMatch(/not one of the hub's keys/);
    });
  });

  describe('purge', () => {
    // Row i was written i minutes after base: the purge boundary is a matter of time, then of checkpoints.
    const base = Date.now() - 24 * HOUR * 1000;
    const minute = (i: number) => new Date(base + i * 60_000);

    it('deletes up to the latest checkpoint older than the cut-off and leaves a chain that verifies and continues', async () => {
      await seed(35, minute);
      const result = await purgeLog(t.db, { before: minute(25) });
      const twenty = await t.db.query<{ hash: string }>('SELECT hash FROM log_checkpoints WHERE seq = 20');
      expect(result).toEqual({ deleted: 20, anchor: { seq: '20', hash: twenty.rows[0]?.hash } });
      expect(await checkpointSeqs(t.db)).toEqual(['20', '30', '35']);
      expect((await t.db.query('SELECT 1 FROM message_subjects WHERE seq <= 20')).rowCount).toBe(0);
      expect(await verifyLog(t.db, keyring)).toEqual({ ok: true, rowsChecked: 15, checkpointsChecked: 3, firstSeq: '21', lastSeq: '35', problems: [] });

      const log = openLog(t.db);
      expect(await log.append(entry(36))).toBe('36');
      expect((await verifyLog(t.db, keyring)).ok).toBe(true);
    });

    it('never deletes a row younger than the cut-off, and purging nothing says so', async () => {
      // Row 15 is younger than the cut-off though its seq is lower: the boundary must stay before it.
      await seed(35, (i) => (i === 15 ? minute(100) : minute(i)));
      expect(await purgeLog(t.db, { before: minute(0) })).toEqual({ deleted: 0 });
      const result = await purgeLog(t.db, { before: minute(25) });
      expect(result).toMatchObject({ deleted: 10, anchor: { seq: '10' } });
      expect(await purgeLog(t.db, { before: minute(25) })).toMatchObject({ deleted: 0, anchor: { seq: '10' } });
      expect((await verifyLog(t.db, keyring)).ok).toBe(true);
    });

    it('purging everything anchors the next append', async () => {
      await seed(35, minute);
      expect(await purgeLog(t.db, { before: new Date() })).toMatchObject({ deleted: 35, anchor: { seq: '35' } });
      const log = openLog(t.db);
      expect(await log.append(entry(36))).toBe('36');
      expect(await verifyLog(t.db, keyring)).toMatchObject({ ok: true, rowsChecked: 1, firstSeq: '36' });
    });

    it('refuses, deleting nothing, when the boundary does not verify', async () => {
      await seed(35, minute);
      await t.db.query('UPDATE message_log SET status = 500 WHERE seq = 20');
      await expect(purgeLog(t.db, { before: minute(25) })).rejects.toBeInstanceOf(LogPurgeError);
      expect((await t.db.query('SELECT 1 FROM message_log')).rowCount).toBe(35);
      expect((await t.db.query('SELECT 1 FROM log_anchor')).rowCount).toBe(0);
    });

    describe('a tampered anchor is detected', () => {
      beforeEach(async () => {
        await seed(35, minute);
        await purgeLog(t.db, { before: minute(25) });
      });

      it('its hash changed', async () => {
        await t.db.query(`UPDATE log_anchor SET hash = repeat('f', 64)`);
        expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([{ seq: '20', kind: 'checkpoint-mismatch' }]);
      });

      it('its checkpoint deleted or forged', async () => {
        await t.db.query(`UPDATE log_checkpoints SET signature = $1 WHERE seq = 20`, [await otherKeyring.signCompact({ seq: '20' }, CHECKPOINT_TYP)]);
        expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([{ seq: '20', kind: 'checkpoint-invalid' }]);
        await t.db.query('DELETE FROM log_checkpoints WHERE seq = 20');
        expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([{ seq: '20', kind: 'checkpoint-invalid' }]);
      });

      it('the anchor removed: the purged rows show as deleted', async () => {
        await t.db.query('DELETE FROM log_anchor');
        const result = await verifyLog(t.db, keyring);
        expect(result.problems.filter((p) => p.kind === 'deleted').map((p) => p.seq)).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
      });

      it('the first remaining row no longer links, or a row put back in the purged range', async () => {
        const row = { ...(await storedRow(t.db, '21')), prevHash: 'e'.repeat(64) };
        await t.db.query('UPDATE message_log SET prev_hash = $2, hash = $3 WHERE seq = $1', ['21', row.prevHash, rowHash(row)]);
        const old: ChainRow = { ...row, seq: '7', prevHash: 'd'.repeat(64) };
        await insertRow(t.db, old, rowHash(old));
        expect(problemsOf(await verifyLog(t.db, keyring))).toEqual([
          { seq: '7', kind: 'inserted' },
          { seq: '21', kind: 'changed' },
        ]);
      });
    });
  });

  describe('verify --from', () => {
    beforeEach(async () => {
      await seed();
    });

    it('starts at the nearest checkpoint at or before the seq', async () => {
      expect(await verifyLog(t.db, keyring, { fromSeq: '25' })).toEqual({ ok: true, rowsChecked: 16, checkpointsChecked: 3, firstSeq: '20', lastSeq: '35', problems: [] });
      expect(await verifyLog(t.db, keyring, { fromSeq: '30' })).toMatchObject({ ok: true, rowsChecked: 6, firstSeq: '30' });
      expect(await verifyLog(t.db, keyring, { fromSeq: '5' })).toMatchObject({ ok: true, rowsChecked: 35, firstSeq: '1' });
      await expect(verifyLog(t.db, keyring, { fromSeq: 'abc' })).rejects.toThrow(RangeError);
    });

    it('checks only from there, and falls back to the start when that checkpoint is not valid', async () => {
      await t.db.query('UPDATE message_log SET status = 500 WHERE seq IN (5, 27)');
      expect(problemsOf(await verifyLog(t.db, keyring, { fromSeq: '25' }))).toEqual([{ seq: '27', kind: 'changed' }]);
      await t.db.query(`UPDATE log_checkpoints SET signature = $1 WHERE seq = 20`, [await otherKeyring.signCompact({ seq: '20' }, CHECKPOINT_TYP)]);
      const result = await verifyLog(t.db, keyring, { fromSeq: '25' });
      expect(result.rowsChecked).toBe(35);
      expect(problemsOf(result)).toEqual([
        { seq: '5', kind: 'changed' },
        { seq: '20', kind: 'checkpoint-invalid' },
        { seq: '27', kind: 'changed' },
      ]);
    });
  });
});
