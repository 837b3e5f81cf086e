// File delivery (issue 14 item 3): the engine writes a file subscription's changes into its folder as numbered NDJSON
// files without gaps, each with a detached signature that verifies with the hub's JWKS, minimised, scoped to a
// territory, logged; a file written but not recorded (the writer stopped before its commit) is written again the same.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, createLocalJWKSet, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIce } from '../referentials/identifiers/index.ts';
import { companiesModule } from '../referentials/companies/module.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import type { Db, SqlValue } from '../src/storage/db.ts';
import { ChangeFileWriter, changeFileName, changeFileTyp, type ChangeFileClaims } from '../src/sync/files.ts';
import type { PushedChange } from '../src/sync/push.ts';
import { createSubscription, setSubscriptionState, type Subscription, type SubscriptionInput } from '../src/sync/subscriptions.ts';
import { startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';
import { captureLogger } from './helpers/hub.ts';
import { hasServer } from './helpers/servers.ts';
import { allowSubscription } from './helpers/sync-world.ts';

const companies = companiesModule as unknown as ReferentialModule;
const purpose = 'regional-copy';
const fields = ['changes.record.attributes.ice', 'changes.record.attributes.nameFr'];

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];

interface WrittenFile {
  name: string;
  text: string;
  changes: PushedChange[];
  claims: ChangeFileClaims;
}

describe.each(setups)('file delivery on $name', (setup) => {
  let world!: ExchangeWorld;
  let subscriber!: Consumer;
  let root!: string;
  let n = 0;

  const db = (): Db => world.db;
  const company = (i: number, name: string, commune = '01.051.11.01') => ({
    sourceSystem: 'ompic',
    sourceId: `f-${i}`,
    attributes: { ice: makeIce(String(300_000_000 + i)), nameFr: name, legalForm: 'sarl', status: 'active', commune, if: String(30_000_000 + i) },
  });
  const give = async (i: number, name: string, commune?: string) => (await contribute(db(), companies, company(i, name, commune))).goldenId;
  const subscribe = (input: Partial<SubscriptionInput> = {}) =>
    createSubscription(
      { db: db(), findConvention: (c, p, s) => world.hubs[0]?.services.conventions.find(c, p, s), referentials: ['companies', 'persons', 'vehicles'] },
      { subscriber: subscriber.id, referential: 'companies', purpose, mode: 'file', target: join(root, `office-${n}`), batchSize: 3, actor: 'test', ...input },
    );
  /** Changes the files of a subscription hold, by the rows that record them. */
  const recorded = async (id: string) =>
    Number((await db().query<{ c: string }>('SELECT COALESCE(sum(change_count), 0) AS c FROM sync_files WHERE subscription_id = $1', [id])).rows[0]?.c);
  /** The subscription's files in its folder, each verified against the hub's JWKS. */
  const filesOf = async (sub: Subscription): Promise<WrittenFile[]> => {
    const jwks = createLocalJWKSet(await world.jwks());
    const folder = sub.target ?? '';
    const names = readdirSync(folder).filter((f) => f.endsWith('.ndjson')).sort();
    const out: WrittenFile[] = [];
    for (const name of names) {
      const bytes = readFileSync(join(folder, name));
      const { payload, protectedHeader } = await compactVerify(readFileSync(join(folder, `${name}.jws`), 'utf8'), jwks);
      expect(protectedHeader.typ).toBe(changeFileTyp);
      const claims = JSON.parse(new TextDecoder().decode(payload)) as ChangeFileClaims;
      expect(claims.bdh, name).toBe(createHash('sha256').update(bytes).digest('base64url'));
      const text = bytes.toString('utf8');
      const changes = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as PushedChange);
      expect(claims, name).toEqual({ iss: world.hubId, aud: subscriber.id, sub: sub.id, file: name, seqFrom: changes[0]?.seq, seqTo: changes.at(-1)?.seq, count: changes.length, bdh: claims.bdh });
      out.push({ name, text, changes, claims });
    }
    return out;
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'tabadol-sync-files-'));
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, env: { SYNC_TICK_MS: '50' } });
    subscriber = await world.registerConsumer('MA/GOV/DRTL/office-fes');
    await allowSubscription(world, subscriber, { referential: 'companies', purpose, fields });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('writes numbered files without gaps, signed (the signature verifies with the hub JWKS), minimised, in feed order, and logged', async () => {
    const sub = await subscribe();
    n += 1;
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await give(n * 100 + i, `Office ${i}`));
    await expect.poll(() => recorded(sub.id), { timeout: 30_000 }).toBe(8);
    const files = await filesOf(sub);
    // 1, 2, 3… with no gap, each recorded; each at most the subscription's batch size.
    expect(files.map((f) => f.name)).toEqual(files.map((_, i) => changeFileName(sub.id, i + 1)));
    const { rows } = await db().query<{ seq: number; name: string; digest: string }>('SELECT seq, name, digest FROM sync_files WHERE subscription_id = $1 ORDER BY seq', [sub.id]);
    expect(rows.map((r) => [r.name, r.digest])).toEqual(files.map((f) => [f.name, f.claims.bdh]));
    for (const f of files) expect(f.changes.length).toBeLessThanOrEqual(3);
    const all = files.flatMap((f) => f.changes);
    expect(all.map((c) => c.goldenId)).toEqual(ids);
    expect(all.map((c) => c.seq)).toEqual([...all.map((c) => c.seq)].sort((a, b) => a - b));
    for (const c of all) {
      expect(c).toMatchObject({ id: `${sub.id}:${c.seq}`, type: 'golden.created' });
      expect(Object.keys(c.record?.attributes ?? {}).sort()).toEqual(['ice', 'nameFr']);
    }
    // No temporary file is left behind.
    expect(readdirSync(sub.target ?? '').filter((f) => f.startsWith('.'))).toEqual([]);
    // Logged: one row per file, to the subscriber, for its purpose, with the 8 ICEs as subjects.
    const logged = await db().query<{ files: number; subjects: number }>(
      `SELECT count(DISTINCT l.seq)::int AS files, count(s.*)::int AS subjects FROM message_log l LEFT JOIN message_subjects s ON s.seq = l.seq
        WHERE l.operation = 'file' AND l.client = $1 AND l.purpose = $2 AND l.request_id LIKE $3`,
      [subscriber.id, purpose, `${sub.id}-%`],
    );
    expect(logged.rows[0]).toEqual({ files: files.length, subjects: 8 });
    await setSubscriptionState(db(), sub.id, 'ended', 'test');
  });

  it('writes a region-scoped file with that region only: a region-06 office gets region 06 records', async () => {
    const sub = await subscribe({ scope: '06' });
    n += 1;
    const fes = [await give(n * 100, 'Fes one', '06.111.05.03'), await give(n * 100 + 1, 'Fes two', '06.111.05.01')];
    await give(n * 100 + 2, 'Rabat', '01.051.11.07');
    const marker = await give(n * 100 + 4, 'Fes marker', '06.111.05.03');
    await expect.poll(async () => (await filesOf(sub)).flatMap((f) => f.changes).some((c) => c.goldenId === marker), { timeout: 30_000 }).toBe(true);
    const got = (await filesOf(sub)).flatMap((f) => f.changes).map((c) => c.goldenId);
    expect(got).toEqual([...fes, marker]);
    await setSubscriptionState(db(), sub.id, 'ended', 'test');
  });

  it('writes a file that was written but not recorded again, identically, under the same number', async () => {
    const sub = await subscribe();
    n += 1;
    // This test's writer holds the subscription's lease, so the engine leaves it alone.
    const owner = 'test-writer';
    await db().query("UPDATE sync_subscriptions SET lease_owner = $2, lease_until = now() + interval '1 hour' WHERE id = $1", [sub.id, owner]);
    for (let i = 0; i < 2; i++) await give(n * 100 + i, `Crash ${i}`);
    const hub = world.hubs[0];
    if (!hub) throw new Error('no hub');
    const writer = (database: Db) =>
      new ChangeFileWriter({
        db: database,
        keyring: hub.services.keyring,
        log: hub.services.log,
        findConvention: (c, p, s) => hub.services.conventions.find(c, p, s),
        policy: { circuitThreshold: 5, circuitBaseMs: 1000, circuitMaxMs: 1000 },
        leaseMs: 3_600_000,
        owner,
        logger: captureLogger('warn').logger,
      });
    // The writer stops between the rename and the commit: the file is on disk, not recorded, the cursor did not move,
    // and (a stopped process releases nothing) the lease stays taken.
    const crashing = new Proxy(db(), {
      get(target, property, receiver) {
        if (property === 'transaction') return () => Promise.reject(new Error('stopped before the commit'));
        if (property === 'query') {
          return (sql: string, params?: readonly SqlValue[]) => (sql.includes('SET lease_owner = NULL') ? Promise.resolve({ rows: [], rowCount: 0 }) : target.query(sql, params));
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    await expect(writer(crashing).run(sub.id)).rejects.toThrow('stopped before the commit');
    const name = changeFileName(sub.id, 1);
    const before = readFileSync(join(sub.target ?? '', name), 'utf8');
    const claimsBefore = decodeJwt(readFileSync(join(sub.target ?? '', `${name}.jws`), 'utf8'));
    expect(await recorded(sub.id)).toBe(0);
    expect(await writer(db()).run(sub.id)).toBe(1);
    const files = await filesOf(sub);
    expect(files.map((f) => f.name)).toEqual([name]);
    expect(files[0]?.text).toBe(before);
    expect(files[0]?.claims).toEqual(claimsBefore);
    expect(await recorded(sub.id)).toBe(2);
    await setSubscriptionState(db(), sub.id, 'ended', 'test');
  });
});
