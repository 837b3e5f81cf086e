// The message log of real exchanges is tamper-evident: a changed column, a deleted row and an inserted row are each
// named by verifyLog with their seq and kind; and the operator's `tabadol log verify` exits 1 naming the seq.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoIces } from '../../adapters/btp-qualification/data.ts';
import { rowHash, verifyLog, type ChainRow } from '../../src/message-log/index.ts';
import { openDatabase } from '../../src/storage/index.ts';
import type { Db } from '../../src/storage/db.ts';
import type { HubKeyring } from '../../src/identity/hub-keys.ts';
import { openSameSchema } from '../helpers/db.ts';
import { runToExit } from '../helpers/process.ts';
import { hasServer } from '../helpers/servers.ts';
import { btpService, mefPurpose, miPurpose, startExchangeWorld, type ExchangeWorld } from './harness.ts';

const classification = (ice: string): string => `/x/v1/${btpService}/companies/${ice}/classification`;

/** A mix of answers (200, 403, 404, 401), each logged; returns their seqs in order. */
async function makeExchanges(world: ExchangeWorld): Promise<string[]> {
  const seqs: string[] = [];
  const calls: Array<() => Promise<{ headers: Record<string, string> }>> = [
    async () => world.send(await world.sign(world.mef.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose })),
    async () => world.send(await world.sign(world.mi.identity, { method: 'GET', target: `/x/v1/${btpService}/companies/${demoIces.topClass}`, purpose: miPurpose })),
    async () => world.send(await world.sign(world.noConvention.identity, { method: 'GET', target: classification(demoIces.qualified), purpose: mefPurpose })),
    async () => world.send(await world.sign(world.mef.identity, { method: 'GET', target: classification(demoIces.unknown), purpose: mefPurpose })),
    async () => world.send({ method: 'GET', target: classification(demoIces.qualified) }),
    async () => world.send(await world.sign(world.mef.identity, { method: 'GET', target: classification(demoIces.suspended), purpose: mefPurpose })),
    async () => world.send(await world.sign(world.mi.identity, { method: 'GET', target: `/x/v1/${btpService}/companies/${demoIces.pending}`, purpose: miPurpose })),
    async () => world.send(await world.sign(world.mef.identity, { method: 'GET', target: classification(demoIces.topClass), purpose: mefPurpose })),
  ];
  for (const call of calls) {
    const answer = await call();
    const seq = answer.headers['tabadol-log-id'];
    if (!seq) throw new Error('an answer without Tabadol-Log-Id');
    seqs.push(seq);
  }
  return seqs;
}

const at = (seqs: string[], i: number): string => {
  const seq = seqs[i];
  if (!seq) throw new Error(`no exchange ${i}`);
  return seq;
};

describe.runIf(hasServer('postgres') && hasServer('redis'))('message-log tampering on PostgreSQL, found by verifyLog', () => {
  let world: ExchangeWorld;
  let db: Db;
  let keyring: HubKeyring;
  let seqs: string[];

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pg', redis: true });
    seqs = await makeExchanges(world);
    const hub = world.hubs[0];
    if (!hub || !world.schema) throw new Error('no hub');
    keyring = hub.services.keyring;
    // Stop the hub (it writes a checkpoint of its tail), then tamper as someone with SQL access would.
    await hub.close();
    db = await openSameSchema(world.schema);
  });
  afterAll(async () => {
    await db?.close();
    await world?.close();
  });

  it('verifies the untouched log', async () => {
    const result = await verifyLog(db, keyring);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(BigInt(result.rowsChecked)).toBeGreaterThanOrEqual(BigInt(seqs.length));
  });

  it('names a row whose column was changed (changed)', async () => {
    const seq = at(seqs, 2);
    const { rows } = await db.query<{ status: number; client: string | null }>('SELECT status, client FROM message_log WHERE seq = $1', [seq]);
    const original = rows[0];
    if (!original) throw new Error('no row');
    await db.query('UPDATE message_log SET status = 200, problem = NULL WHERE seq = $1', [seq]);
    const result = await verifyLog(db, keyring);
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(expect.objectContaining({ seq, kind: 'changed' }));
    await db.query(`UPDATE message_log SET status = $2, problem = 'no-convention' WHERE seq = $1`, [seq, original.status]);
    expect((await verifyLog(db, keyring)).problems).toEqual([]);

    // The client named by the row, too (who asked is what an altered log would hide).
    await db.query('UPDATE message_log SET client = $2 WHERE seq = $1', [seq, 'MA/GOV/MEF/marches-publics']);
    expect((await verifyLog(db, keyring)).problems).toContainEqual(expect.objectContaining({ seq, kind: 'changed' }));
    await db.query('UPDATE message_log SET client = $2 WHERE seq = $1', [seq, original.client]);
    expect((await verifyLog(db, keyring)).problems).toEqual([]);
  });

  it('names a row that was deleted (deleted)', async () => {
    const seq = at(seqs, 4);
    await db.query('CREATE TABLE tamper_backup AS SELECT * FROM message_log WHERE seq = $1', [seq]);
    await db.query('DELETE FROM message_log WHERE seq = $1', [seq]);
    const result = await verifyLog(db, keyring);
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(expect.objectContaining({ seq, kind: 'deleted' }));
    await db.query('INSERT INTO message_log SELECT * FROM tamper_backup');
    await db.query('DROP TABLE tamper_backup');
    expect((await verifyLog(db, keyring)).problems).toEqual([]);
  });

  it('names a row that was inserted beside the chain, even with a correct hash (inserted)', async () => {
    const { rows } = await db.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM message_log ORDER BY seq');
    const last = rows.at(-1);
    const linkTo = rows[1];
    if (!last || !linkTo) throw new Error('no rows');
    const seq = (BigInt(last.seq) + 1n).toString();
    const when = new Date();
    const row: ChainRow = {
      seq,
      atMicros: (BigInt(when.getTime()) * 1000n).toString(),
      requestId: crypto.randomUUID(),
      client: 'MA/GOV/MEF/marches-publics',
      service: btpService,
      operation: 'getCompanyClassification',
      purpose: mefPurpose,
      conventionId: null,
      conventionVersion: null,
      status: 200,
      problem: null,
      durationMs: 1.5,
      providerMs: null,
      requestDigest: 'x',
      responseDigest: 'y',
      requestSignature: null,
      responseSignature: null,
      requestBody: null,
      responseBody: null,
      subjects: [],
      // Links to a row that already has its successor: a row added beside the chain.
      prevHash: linkTo.hash,
    };
    await db.query(
      `INSERT INTO message_log (seq, at, request_id, client, service, operation, purpose, status, duration_ms, request_digest, response_digest, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [seq, when, row.requestId, row.client, row.service, row.operation, row.purpose, row.status, row.durationMs, row.requestDigest, row.responseDigest, row.prevHash, rowHash(row)],
    );
    const result = await verifyLog(db, keyring);
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(expect.objectContaining({ seq, kind: 'inserted' }));
    // Its own hash is right: the only thing wrong with it is where it sits.
    expect(result.problems.filter((p) => p.seq === seq).map((p) => p.kind)).toEqual(['inserted']);
    await db.query('DELETE FROM message_log WHERE seq = $1', [seq]);
    expect((await verifyLog(db, keyring)).problems).toEqual([]);
  });
});

describe('`tabadol log verify` on the embedded database (PGlite)', () => {
  let world: ExchangeWorld;
  let seqs: string[];
  let dataDir: string;
  let keyring: HubKeyring;

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pglite', redis: false });
    seqs = await makeExchanges(world);
    const hub = world.hubs[0];
    const dir = world.dataDirs[0];
    if (!hub || !dir) throw new Error('no hub');
    dataDir = dir;
    keyring = hub.services.keyring;
    // The CLI opens the data directory itself: the hub must be stopped first (PGlite is single-process).
    await hub.close();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('exits 1 naming the seq of a changed row', async () => {
    const seq = at(seqs, 3);
    const db = await openDatabase({ dataDir });
    try {
      expect((await verifyLog(db, keyring)).ok).toBe(true);
      await db.query('UPDATE message_log SET status = 200 WHERE seq = $1', [seq]);
      expect((await verifyLog(db, keyring)).problems).toContainEqual(expect.objectContaining({ seq, kind: 'changed' }));
    } finally {
      await db.close();
    }
    const run = await runToExit(['log', 'verify'], { DATA_DIR: dataDir, HUB_KEY_FILE: world.hubKeyFile, DEMO: 'off' }, 60_000);
    const output = `${run.stdout}\n${run.stderr}`;
    expect(output).not.toMatch(/unknown command/i);
    expect(run.code, output).toBe(1);
    expect(output).toMatch(new RegExp(`\\b${seq}\\b`));
    expect(output).toMatch(/changed/i);
  });
});
