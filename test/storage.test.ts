import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../src/storage/migrate.ts';
import { DataDirInUseError } from '../src/storage/dir-lock.ts';
import { openPgliteDb } from '../src/storage/pglite.ts';
import { drivers, freshDataDir, openTestDb, type TestDb } from './helpers/db.ts';
import { hasServer } from './helpers/servers.ts';

describe.each(drivers())('storage on %s', (driver) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(driver);
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('applies every migration once and records it', async () => {
    const { rows } = await t.db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
    expect(await migrate(t.db)).toEqual([]);
  });

  it('refuses a migration that changed after it was applied', async () => {
    const changed = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'different' } : m));
    await expect(migrate(t.db, changed)).rejects.toThrow(/was changed after it was applied/);
  });

  /** Migration 0027's view, as it creates it. */
  const historyView = (): string => {
    const view = /CREATE VIEW ref_golden_history AS[^;]*;/.exec(loadMigrations().find((m) => m.version === 27)?.sql ?? '')?.[0];
    if (!view) throw new Error('migration 0027 does not create the view ref_golden_history');
    return view;
  };

  // Before the tests below that take tables back to older schemas (0027's drops ref_golden.links and adds it again).
  it('migration 0029 analyses the golden records without the columns read only whole (target 0), and with the default for those plans read', async () => {
    const { rows } = await t.db.query<{ attname: string; target: number }>(
      `SELECT attname, COALESCE(attstattarget, -1)::int AS target FROM pg_attribute WHERE attrelid = 'ref_golden'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attname`,
    );
    const skipped = ['attribute_values', 'attributes', 'blocking_keys', 'links', 'match_fields'];
    expect(rows.filter((r) => r.target === 0).map((r) => r.attname)).toEqual(skipped);
    // The server's default (-1, or NULL from PostgreSQL 17): the planner's columns (status, blocking_text, …) and any
    // column added later.
    expect(rows.filter((r) => !skipped.includes(r.attname) && r.target !== -1)).toEqual([]);
    expect(rows.map((r) => r.attname)).toEqual(expect.arrayContaining(['id', 'status', 'referential', 'blocking_text', 'merged_into']));
    // ANALYZE still gives the planner what it reads, and nothing for the skipped columns.
    await t.db.query(`INSERT INTO ref_golden (id, referential, version, status, attributes, attribute_values, blocking_text, match_fields, created_at, updated_at)
                      SELECT 'stat-' || i, 'persons', 1, 'active', '{}'::jsonb, '{}', 'name ' || (i % 7), '{"commune": "01"}'::jsonb, now(), now() FROM generate_series(1, 50) AS i`);
    await t.db.exec('ANALYZE ref_golden');
    const { rows: stats } = await t.db.query<{ attname: string }>(`SELECT attname FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'ref_golden' ORDER BY attname`);
    const analysed = stats.map((s) => s.attname);
    expect(analysed).toEqual(expect.arrayContaining(['blocking_text', 'id', 'status']));
    expect(analysed.filter((a) => skipped.includes(a))).toEqual([]);
    await t.db.query("DELETE FROM ref_golden WHERE id LIKE 'stat-%'");
  });

  it('migration 0025 keeps each source version once: superseded ones in ref_source_versions, the current one in ref_source_records', async () => {
    const m25 = loadMigrations().find((m) => m.version === 25);
    if (!m25) throw new Error('migration 0025 is missing');
    await t.db.transaction(async (tx) => {
      // The schema and rows as they were before 0025: every version in ref_source_versions, the current one included.
      await tx.query('ALTER TABLE ref_source_records DROP COLUMN recorded_at');
      await tx.query(
        `INSERT INTO ref_source_records (referential, source_system, source_id, version, attributes, received_at) VALUES
           ('persons', 'cnss', 'a', 2, '{"n": "a2"}', '2026-01-02T00:00:00Z'), ('persons', 'cnss', 'b', 1, '{"n": "b1"}', '2026-01-01T00:00:00Z')`,
      );
      await tx.query(
        `INSERT INTO ref_source_versions (referential, source_system, source_id, version, attributes, received_at, recorded_at) VALUES
           ('persons', 'cnss', 'a', 1, '{"n": "a1"}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z'),
           ('persons', 'cnss', 'a', 2, '{"n": "a2"}', '2026-01-02T00:00:00Z', '2026-01-02T00:00:01Z'),
           ('persons', 'cnss', 'b', 1, '{"n": "b1"}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:02Z')`,
      );
      // 0025 set statistics targets on the history, a table then, a view over two since 0027: a table again for it.
      await tx.query('DROP VIEW ref_golden_history');
      await tx.query('ALTER TABLE ref_golden_superseded RENAME TO ref_golden_history');
      await tx.exec(m25.sql);
      await tx.query('ALTER TABLE ref_golden_history RENAME TO ref_golden_superseded');
      await tx.exec(historyView());
    });
    const { rows: current } = await t.db.query<{ source_id: string; version: number; recorded_at: Date }>(
      'SELECT source_id, version, recorded_at FROM ref_source_records ORDER BY source_id',
    );
    expect(current).toEqual([
      { source_id: 'a', version: 2, recorded_at: new Date('2026-01-02T00:00:01Z') },
      { source_id: 'b', version: 1, recorded_at: new Date('2026-01-01T00:00:02Z') },
    ]);
    const { rows: kept } = await t.db.query<{ source_id: string; version: number; n: string }>(
      `SELECT source_id, version, attributes->>'n' AS n FROM ref_source_versions ORDER BY source_id, version`,
    );
    expect(kept).toEqual([{ source_id: 'a', version: 1, n: 'a1' }]);
    await t.db.query('DELETE FROM ref_source_versions');
    await t.db.query('DELETE FROM ref_source_records');
  });

  it('migration 0026 keeps each blocking key as its hash, the same on both drivers, one row per hash and record', async () => {
    const m26 = loadMigrations().find((m) => m.version === 26);
    if (!m26) throw new Error('migration 0026 is missing');
    await t.db.transaction(async (tx) => {
      // The table as it was before 0026: the key's text beside its referential.
      await tx.query('DROP TABLE ref_blocking_keys');
      await tx.query('CREATE TABLE ref_blocking_keys (referential text NOT NULL, key text NOT NULL, golden_id text NOT NULL, PRIMARY KEY (referential, key, golden_id))');
      await tx.query(
        `INSERT INTO ref_blocking_keys (referential, key, golden_id) VALUES
           ('persons', 'd:1985-12-20:f:mr', 'g1'), ('persons', 'd:1985-12-20:f:mr', 'g2'), ('persons', 'ny:1985:mr|skb', 'g1'),
           ('companies', 'd:1985-12-20:f:mr', 'g3')`,
      );
      await tx.exec(m26.sql);
    });
    const { rows } = await t.db.query<{ key_hash: string; golden_id: string }>('SELECT key_hash::text, golden_id FROM ref_blocking_keys ORDER BY golden_id, key_hash');
    // hashtextextended('persons:d:1985-12-20:f:mr', 0), as PostgreSQL 15 and PGlite both compute it: a key written by one
    // driver is found by the other after a backup moves the database (tabadol restore).
    const personsKey = '587348440583935884';
    expect(rows.filter((r) => r.key_hash === personsKey).map((r) => r.golden_id)).toEqual(['g1', 'g2']);
    expect(rows.map((r) => r.golden_id)).toEqual(['g1', 'g1', 'g2', 'g3']);
    // The referential is part of what is hashed: the same key text of another referential is another hash.
    expect(rows.find((r) => r.golden_id === 'g3')?.key_hash).not.toBe(personsKey);
    const { rows: columns } = await t.db.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'ref_blocking_keys' AND table_schema = current_schema() ORDER BY ordinal_position",
    );
    expect(columns.map((c) => c.column_name)).toEqual(['key_hash', 'golden_id']);
    await expect(t.db.query(`INSERT INTO ref_blocking_keys (key_hash, golden_id) VALUES (${personsKey}, 'g1')`)).rejects.toThrow(/duplicate key/);
    await t.db.query('DELETE FROM ref_blocking_keys');
  });

  it("migration 0027 moves each record's current version into ref_golden; the view ref_golden_history shows every version as before", async () => {
    const m27 = loadMigrations().find((m) => m.version === 27);
    if (!m27) throw new Error('migration 0027 is missing');
    const versions = 'SELECT seq::int, golden_id, version, status, attributes, links, cause, valid_from FROM ref_golden_history ORDER BY seq';
    let before: unknown[] = [];
    await t.db.transaction(async (tx) => {
      // The schema as it was before 0027: every version, the current one included, in the table ref_golden_history.
      await tx.query('DROP VIEW ref_golden_history');
      await tx.query('ALTER TABLE ref_golden_superseded RENAME TO ref_golden_history');
      await tx.query('ALTER INDEX ref_golden_superseded_pkey RENAME TO ref_golden_history_pkey');
      await tx.query('ALTER INDEX ref_golden_superseded_version RENAME TO ref_golden_history_version');
      await tx.query('ALTER SEQUENCE ref_golden_version_seq RENAME TO ref_golden_history_seq_seq');
      await tx.query('ALTER TABLE ref_golden DROP COLUMN version_seq, DROP COLUMN links, DROP COLUMN cause, DROP COLUMN valid_from');
      await tx.query(
        `INSERT INTO ref_golden (id, referential, version, status, attributes, attribute_values, created_at, updated_at) VALUES
           ('g1', 'persons', 2, 'active', '{"n": "two"}', '{}', '2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z'),
           ('g2', 'persons', 1, 'active', '{"n": "one"}', '{}', '2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z'),
           ('g3', 'persons', 0, 'active', '{}', '{}', '2026-01-04T00:00:00Z', '2026-01-04T00:00:00Z')`,
      );
      await tx.query(
        `INSERT INTO ref_golden_history (seq, golden_id, referential, version, status, attributes, links, cause, valid_from) VALUES
           (1, 'g1', 'persons', 1, 'active', '{"n": "one"}', '[{"id": "a"}]', 'contribution', '2026-01-01T00:00:00Z'),
           (2, 'g2', 'persons', 1, 'active', '{"n": "one"}', '[{"id": "b"}]', 'contribution', '2026-01-02T00:00:00Z'),
           (3, 'g1', 'persons', 2, 'active', '{"n": "two"}', '[{"id": "a"}, {"id": "c"}]', 'review', '2026-01-03T00:00:00Z')`,
      );
      before = (await tx.query(versions)).rows;
      await tx.exec(m27.sql);
    });
    expect(before).toHaveLength(3);
    expect((await t.db.query(versions)).rows).toEqual(before);
    const { rows: superseded } = await t.db.query<{ seq: number; golden_id: string }>('SELECT seq::int, golden_id FROM ref_golden_superseded');
    expect(superseded).toEqual([{ seq: 1, golden_id: 'g1' }]);
    const { rows: current } = await t.db.query<{ id: string; version_seq: number | null; cause: string | null }>('SELECT id, version_seq::int, cause FROM ref_golden ORDER BY id');
    expect(current).toEqual([
      { id: 'g1', version_seq: 3, cause: 'review' },
      { id: 'g2', version_seq: 2, cause: 'contribution' },
      { id: 'g3', version_seq: null, cause: null },
    ]);
    await t.db.query('DELETE FROM ref_golden_superseded');
    await t.db.query('DELETE FROM ref_golden');
  });

  it('migration 0028 compresses attributes with LZ4 where the server has it, and keeps the default where it has not', async () => {
    const columns = ['ref_golden', 'ref_golden_superseded', 'ref_source_records'];
    const methods = async (): Promise<string[]> =>
      (
        await t.db.query<{ relation: string; method: string }>(
          `SELECT attrelid::regclass::text AS relation, attcompression::text AS method FROM pg_attribute
            WHERE attrelid IN ('ref_golden'::regclass, 'ref_golden_superseded'::regclass, 'ref_source_records'::regclass) AND attname = 'attributes'
            ORDER BY 1`,
        )
      ).rows.map((r) => `${r.relation.replace(/^.*\./, '')}:${r.method}`);
    // Whether this server can compress with LZ4 at all, asked of a table of the test's own.
    const lz4 = await t.db.transaction(async (tx) => {
      await tx.query('CREATE TEMP TABLE lz4_probe (a text) ON COMMIT DROP');
      return tx.query('ALTER TABLE lz4_probe ALTER COLUMN a SET COMPRESSION lz4').then(() => true, (err: { code?: string }) => {
        if (err.code !== '0A000') throw err;
        return false;
      });
    }).catch(() => false);
    // The CI's PostgreSQL (Debian's) has LZ4; PGlite has not.
    expect(lz4).toBe(driver === 'pg');
    expect(await methods()).toEqual(columns.map((c) => `${c}:${lz4 ? 'l' : ''}`));
    // A record large enough to be compressed is stored so, and reads back whole.
    const attributes = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field${i}`, { value: `value ${i} `.repeat(20), at: '2026-01-01T00:00:00Z' }]));
    await t.db.query(
      `INSERT INTO ref_golden (id, referential, version, status, attributes, attribute_values, created_at, updated_at) VALUES ('big', 'persons', 1, 'active', $1::jsonb, '{}', now(), now())`,
      [JSON.stringify(attributes)],
    );
    const { rows } = await t.db.query<{ method: string | null; attributes: unknown }>("SELECT pg_column_compression(attributes) AS method, attributes FROM ref_golden WHERE id = 'big'");
    expect(rows[0]?.method).toBe(lz4 ? 'lz4' : 'pglz');
    expect(rows[0]?.attributes).toEqual(attributes);
    await t.db.query('DELETE FROM ref_golden');
  });

  it('analyses the logs and link tables from 3,000-row samples: every column at statistics target 10 (a column added at the default would bring back 30,000)', async () => {
    const { rows } = await t.db.query<{ relation: string; lowest: number; highest: number }>(
      `SELECT attrelid::regclass::text AS relation, min(attstattarget)::int AS lowest, max(attstattarget)::int AS highest FROM pg_attribute
        WHERE attrelid IN ('ref_golden_superseded'::regclass, 'ref_changes'::regclass, 'ref_links'::regclass, 'ref_source_records'::regclass) AND attnum > 0 AND NOT attisdropped
        GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.map((r) => ({ ...r, relation: r.relation.replace(/^.*\./, '') }))).toEqual(
      ['ref_changes', 'ref_golden_superseded', 'ref_links', 'ref_source_records'].map((relation) => ({ relation, lowest: 10, highest: 10 })),
    );
  });

  it('commits a transaction and rolls back a failed one entirely', async () => {
    await t.db.query('CREATE TABLE tx_probe (id int PRIMARY KEY, label text NOT NULL)');
    await t.db.transaction(async (tx) => {
      await tx.query('INSERT INTO tx_probe VALUES ($1, $2)', [1, 'kept']);
    });
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES ($1, $2)', [2, 'lost']);
        await tx.query('INSERT INTO tx_probe VALUES ($1, $2)', [1, 'duplicate']);
      }),
    ).rejects.toThrow(/duplicate key/);
    const { rows } = await t.db.query<{ id: number; label: string }>('SELECT id, label FROM tx_probe ORDER BY id');
    expect(rows).toEqual([{ id: 1, label: 'kept' }]);
  });

  it('runs a prelude with BEGIN and hands its last statement\'s rows to the transaction', async () => {
    const seen = await t.db.transaction(async (tx, prelude) => ({ prelude: prelude?.rows, inside: (await tx.query<{ n: number }>('SELECT 2 AS n')).rows }), {
      prelude: `SELECT pg_advisory_xact_lock(42); SELECT 9007199254740993::int8 AS big, '2026-01-02T03:04:05.678Z'::timestamptz AS at, NULL::text AS none`,
    });
    expect(seen).toEqual({ prelude: [{ big: '9007199254740993', at: new Date('2026-01-02T03:04:05.678Z'), none: null }], inside: [{ n: 2 }] });
    expect(await t.db.transaction(async (_tx, prelude) => prelude)).toBeUndefined();
  });

  it('loads the extensions the referentials need', async () => {
    const { rows } = await t.db.query<{ sim: number; plain: string; lev: number; sdx: string }>(
      `SELECT similarity('Benali', 'Ben Ali') AS sim, unaccent('Fès Médina') AS plain, levenshtein('Mohamed', 'Mohammed') AS lev, soundex('Rachid') AS sdx`,
    );
    expect(rows[0]?.sim).toBeGreaterThan(0.3);
    expect(rows[0]?.plain).toBe('Fes Medina');
    expect(rows[0]?.lev).toBe(1);
    expect(rows[0]?.sdx).toBe('R230');
  });

  it('returns int8 as exact strings and jsonb as objects on both drivers', async () => {
    const { rows } = await t.db.query<{ big: string; doc: { a: number[] } }>(`SELECT 9007199254740993::int8 AS big, '{"a":[1,2]}'::jsonb AS doc`);
    expect(rows[0]).toEqual({ big: '9007199254740993', doc: { a: [1, 2] } });
  });
});

describe.runIf(hasServer('postgres'))('PostgreSQL migrations from several processes at once', () => {
  it('serialise on an advisory lock instead of failing', async () => {
    const a = await openTestDb('pg');
    try {
      // A second schema would not contend; contend on the same one by migrating it concurrently again.
      const results = await Promise.all([migrate(a.db), migrate(a.db), migrate(a.db)]);
      expect(results).toEqual([[], [], []]);
    } finally {
      await a.dispose();
    }
  });
});

describe('embedded data directory', () => {
  it('refuses a second opener of the same DATA_DIR and reuses the data on the next start', async () => {
    const dataDir = freshDataDir();
    try {
      const first = await openPgliteDb({ dataDir });
      await first.query('CREATE TABLE kept (v text)');
      await first.query(`INSERT INTO kept VALUES ('still here')`);
      await expect(openPgliteDb({ dataDir })).rejects.toThrow(DataDirInUseError);
      await first.close();
      const second = await openPgliteDb({ dataDir });
      expect((await second.query<{ v: string }>('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('takes over a lock left by a process that died', async () => {
    const dataDir = freshDataDir();
    try {
      // No process has pid 2^22+1 on Linux (pid_max is at most 2^22).
      writeFileSync(join(dataDir, 'pg.lock'), String(4194305));
      const db = await openPgliteDb({ dataDir });
      await db.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('names the holder in its refusal', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tabadol-lock-'));
    writeFileSync(join(dataDir, 'pg.lock'), String(process.ppid));
    await expect(openPgliteDb({ dataDir })).rejects.toThrow(new RegExp(`in use by process ${process.ppid}`));
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe.each(drivers())('row counts on %s', (driver) => {
  it('count selected, updated and returned rows the same way', async () => {
    const t = await openTestDb(driver);
    try {
      await t.db.query('CREATE TABLE counted (v int)');
      expect((await t.db.query('INSERT INTO counted SELECT generate_series(1, 3)')).rowCount).toBe(3);
      expect((await t.db.query('SELECT v FROM counted WHERE v > 1')).rowCount).toBe(2);
      expect((await t.db.query('UPDATE counted SET v = v + 10 WHERE v < 3')).rowCount).toBe(2);
      expect((await t.db.query('DELETE FROM counted WHERE v > 100 RETURNING v')).rowCount).toBe(0);
    } finally {
      await t.dispose();
    }
  });
});
