// `tabadol restore`'s work (docs/decisions.md §23): a verified backup loaded into an empty database or schema (or,
// with force, in place of the one there) in ONE transaction: the migrations up to the backup's level, the rows with
// foreign keys, user triggers and plain indexes set aside while they load, then those back, the sequences, and the
// migrations this code has beyond the backup's. A failure anywhere rolls all of it back: nothing half-written.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BackupRefusedError, type BackupManifest, type BackupTable } from './backup-manifest.ts';
import { exactTextSettings, hubTables, tableColumns } from './backup.ts';
import type { Db, Queryable } from './db.ts';
import { applyMigrations, type Migration } from './migrate.ts';

/** Rows per INSERT, and the most JSON text one may carry: memory stays bounded whatever the table's size. */
const insertRows = 1000;
const insertBytes = 8 * 1024 * 1024;

/** The target already holds a database and force was not given: nothing has been written. */
export class RestoreTargetNotEmptyError extends Error {
  override name = 'RestoreTargetNotEmptyError';
}

export interface RestoreOptions {
  manifest: BackupManifest;
  dir: string;
  migrations: Migration[];
  /** Replace what the target holds (dropped in the same transaction: on failure it is left as it was). */
  force?: boolean;
  onTable?: (table: BackupTable) => void;
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The schema the hub's tables go to: the connection's first, created when the search_path names a new one. */
export async function targetSchema(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ path: string; current: string | null }>(`SELECT current_setting('search_path') AS path, current_schema() AS current`);
  const first = (rows[0]?.path ?? '').split(',')[0]?.trim().replace(/^"(.*)"$/, '$1') ?? '';
  if (first && first !== '$user' && first !== rows[0]?.current) {
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(first)}`);
    return first;
  }
  return rows[0]?.current ?? 'public';
}

/** How many tables the target's schema holds (an empty database or schema holds none). */
export async function tablesInTarget(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')`);
  return rows[0]?.n ?? 0;
}

/** A table's part, read, checked against the manifest once more (it is read a second time) and parsed line by line. */
async function* partRows(dir: string, table: BackupTable): AsyncGenerator<string> {
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const source = createReadStream(join(dir, table.file)).pipe(hashing).pipe(createGunzip());
  let count = 0;
  for await (const line of createInterface({ input: source, crlfDelay: Infinity })) {
    if (line === '') continue;
    const row = JSON.parse(line) as Array<string | null>;
    if (!Array.isArray(row) || row.length !== table.columns.length) throw new BackupRefusedError(`${table.file}: line ${count + 1} does not have ${table.columns.length} columns`);
    count++;
    yield line;
  }
  if (hash.digest('hex') !== table.sha256 || count !== table.rows) throw new BackupRefusedError(`${table.file} changed while it was restored: nothing was written`);
}

async function loadTable(tx: Queryable, dir: string, table: BackupTable): Promise<void> {
  const columns = table.columns.map((c) => quoteIdent(c.name)).join(', ');
  const values = table.columns.map((c, i) => `(e->>${i})::${c.type}`).join(', ');
  const insert = `INSERT INTO ${quoteIdent(table.name)} (${columns}) OVERRIDING SYSTEM VALUE SELECT ${values} FROM json_array_elements($1::json) AS e`;
  let batch: string[] = [];
  let size = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await tx.query(insert, [`[${batch.join(',')}]`]);
    batch = [];
    size = 0;
  };
  for await (const text of partRows(dir, table)) {
    batch.push(text);
    size += text.length;
    if (batch.length >= insertRows || size >= insertBytes) await flush();
  }
  await flush();
}

/** Every table of the backup must exist in the target at the backup's level with the same columns and types. */
async function checkShape(tx: Queryable, manifest: BackupManifest): Promise<void> {
  const present = new Set(await hubTables(tx));
  for (const table of manifest.tables) {
    if (!present.has(table.name)) throw new BackupRefusedError(`the backup's table ${table.name} does not exist at migration ${manifest.schemaVersion}: the backup does not match its manifest`);
    const columns = await tableColumns(tx, table.name);
    const same = columns.length === table.columns.length && columns.every((c, i) => c.name === table.columns[i]?.name && c.type === table.columns[i]?.type);
    if (!same) throw new BackupRefusedError(`the backup's table ${table.name} has other columns than migration ${manifest.schemaVersion} gives it`);
  }
}

interface SetAside {
  restore: string[];
}

/** Foreign keys and plain indexes dropped (and their definitions kept), user triggers disabled, while the rows load. */
async function setAside(tx: Queryable, tables: string[]): Promise<SetAside> {
  const { rows: keys } = await tx.query<{ drop: string; add: string }>(
    `SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
            format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS add
       FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`,
  );
  const { rows: indexes } = await tx.query<{ drop: string; add: string }>(
    `SELECT format('DROP INDEX %s', i.indexrelid::regclass) AS drop, pg_get_indexdef(i.indexrelid) AS add
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relnamespace = current_schema()::regnamespace AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
  );
  for (const k of keys) await tx.exec(k.drop);
  for (const i of indexes) await tx.exec(i.drop);
  for (const table of tables) await tx.exec(`ALTER TABLE ${quoteIdent(table)} DISABLE TRIGGER USER`);
  return { restore: [...indexes.map((i) => i.add), ...tables.map((t) => `ALTER TABLE ${quoteIdent(t)} ENABLE TRIGGER USER`), ...keys.map((k) => k.add)] };
}

/**
 * Loads the backup into `db`, which must not be migrated by this process first (the backup's level comes first).
 * Refuses a target that holds tables unless `force`.
 */
export async function restoreBackup(db: Db, options: RestoreOptions): Promise<{ tables: number; rows: number }> {
  const { manifest, migrations } = options;
  const schema = await targetSchema(db);
  const existing = await tablesInTarget(db);
  if (existing > 0 && !options.force) {
    throw new RestoreTargetNotEmptyError(
      `the target (schema ${schema}) already holds ${existing} table(s): restore goes into an empty database or schema; --force replaces what is there (in the restore's one transaction: if it fails, the target is left as it was)`,
    );
  }
  return db.transaction(
    async (tx) => {
      if (existing > 0) await tx.exec(`DROP SCHEMA ${quoteIdent(schema)} CASCADE; CREATE SCHEMA ${quoteIdent(schema)}`);
      await applyMigrations(
        tx,
        migrations.filter((m) => m.version <= manifest.schemaVersion),
        { lock: false },
      );
      await checkShape(tx, manifest);
      const tables = await hubTables(tx);
      // What the migrations seeded is in the backup too, as it was then.
      if (tables.length > 0) await tx.exec(`TRUNCATE ${tables.map(quoteIdent).join(', ')}`);
      const aside = await setAside(tx, tables);
      let rows = 0;
      for (const table of manifest.tables) {
        await loadTable(tx, options.dir, table);
        rows += table.rows;
        options.onTable?.(table);
      }
      for (const statement of aside.restore) await tx.exec(statement);
      for (const sequence of manifest.sequences) {
        await tx.query(`SELECT setval((quote_ident(current_schema()) || '.' || quote_ident($1))::regclass, $2::bigint, $3)`, [sequence.name, sequence.value, sequence.isCalled]);
      }
      await applyMigrations(tx, migrations, { lock: false });
      // The planner's statistics of the restored tables (only these: a shared server holds others' schemas).
      const restored = await hubTables(tx);
      if (restored.length > 0) await tx.exec(`ANALYZE ${restored.map(quoteIdent).join(', ')}`);
      return { tables: manifest.tables.length, rows };
    },
    { prelude: exactTextSettings },
  );
}
