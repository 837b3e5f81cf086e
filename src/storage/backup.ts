// `tabadol backup`'s work (docs/decisions.md §23): one consistent copy of the hub's database, read by the hub's own SQL
// inside one REPEATABLE READ READ ONLY transaction (one snapshot), streamed table by table through a cursor into
// gzip'd NDJSON parts, each with its SHA-256 in a manifest sealed under the backup's passphrase. The same format on
// both drivers, read directly or through a running embedded hub's local channel.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { manifestSealer } from './backup-crypto.ts';
import { manifestFile, sealFile, type BackupColumn, type BackupManifest, type BackupTable } from './backup-manifest.ts';
import type { Db, Queryable } from './db.ts';

/** Rows per FETCH: memory stays bounded by this many rows whatever the table's size. */
const fetchRows = 1000;

const hubVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Settings that make every value's text exact and the same on both drivers: every float digit, bytes in hex, dates in
 * ISO at UTC. Set for the backup's transaction only.
 */
export const exactTextSettings = `SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL TimeZone = 'UTC'`;

export interface BackupOptions {
  dir: string;
  passphrase: string;
  hubId: string;
  /** Called after each table (for progress lines). */
  onTable?: (table: BackupTable) => void;
}

export interface BackupResult {
  manifest: BackupManifest;
  bytes: number;
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The hub's tables in the connection's schema, extensions' own tables excepted; schema_migrations goes in the manifest. */
export async function hubTables(tx: Queryable): Promise<string[]> {
  const { rows } = await tx.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY c.relname`,
  );
  return rows.map((r) => r.name);
}

/** A table's stored columns in order (generated ones are computed again on restore, so they are not copied). */
export async function tableColumns(tx: Queryable, table: string): Promise<BackupColumn[]> {
  const { rows } = await tx.query<BackupColumn>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
      WHERE a.attrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      ORDER BY a.attnum`,
    [table],
  );
  return rows;
}

async function copyTable(tx: Queryable, dir: string, index: number, name: string): Promise<BackupTable> {
  const columns = await tableColumns(tx, name);
  const file = `tables/${String(index).padStart(4, '0')}-${name}.ndjson.gz`;
  const out = createWriteStream(join(dir, file), { mode: 0o600 });
  // Level 1: the copy is CPU-bound on compression at higher levels, for a few percent of size.
  const gzip = createGzip({ level: 1 });
  const hash = createHash('sha256');
  let bytes = 0;
  gzip.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  gzip.pipe(out);
  // Each line is built by the server (one text value a row): the driver parses one column, not one per table column.
  const select = columns.map((c) => `${quoteIdent(c.name)}::text`).join(', ');
  await tx.exec(`DECLARE tabadol_backup NO SCROLL CURSOR FOR SELECT json_build_array(${select})::text AS line FROM ONLY ${quoteIdent(name)}`);
  let rows = 0;
  for (;;) {
    const page = await tx.query<{ line: string }>(`FETCH ${fetchRows} FROM tabadol_backup`);
    if (page.rows.length === 0) break;
    let text = '';
    for (const row of page.rows) text += `${row.line}\n`;
    rows += page.rows.length;
    if (!gzip.write(text)) await once(gzip, 'drain');
  }
  await tx.exec('CLOSE tabadol_backup');
  gzip.end();
  await finished(out);
  return { name, columns, rows, file, bytes, sha256: hash.digest('hex') };
}

async function readSequences(tx: Queryable): Promise<BackupManifest['sequences']> {
  const { rows } = await tx.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'S'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY c.relname`,
  );
  const sequences: BackupManifest['sequences'] = [];
  for (const { name } of rows) {
    const { rows: state } = await tx.query<{ value: string; is_called: boolean }>(`SELECT last_value::text AS value, is_called FROM ${quoteIdent(name)}`);
    const first = state[0];
    if (first) sequences.push({ name, value: first.value, isCalled: first.is_called });
  }
  return sequences;
}

/** The backup directory must be new or empty: a backup never overwrites another. */
function prepareDir(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (entries.length > 0) throw new Error(`${dir} is not empty: a backup goes into a new directory`);
  mkdirSync(join(dir, 'tables'), { recursive: true, mode: 0o700 });
}

/**
 * Copies the database into `dir`: the parts, then the manifest and its seal last (a directory without them is an
 * interrupted backup, which restore refuses). On failure the directory's parts are removed.
 */
export async function writeBackup(db: Db, options: BackupOptions): Promise<BackupResult> {
  const sealer = manifestSealer(options.passphrase);
  prepareDir(options.dir);
  try {
    const manifest = await db.transaction(
      async (tx) => {
        const { rows: migrations } = await tx.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
        const tables: BackupTable[] = [];
        for (const [index, name] of (await hubTables(tx)).entries()) {
          const table = await copyTable(tx, options.dir, index + 1, name);
          tables.push(table);
          options.onTable?.(table);
        }
        const built: BackupManifest = {
          format: 'tabadol-backup',
          formatVersion: 1,
          hubVersion,
          hubId: options.hubId,
          createdAt: new Date().toISOString(),
          driver: db.driver,
          schemaVersion: migrations.at(-1)?.version ?? 0,
          migrations,
          tables,
          sequences: await readSequences(tx),
          sealing: sealer.sealing,
        };
        return built;
      },
      { prelude: `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; ${exactTextSettings}` },
    );
    const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(options.dir, manifestFile), bytes, { mode: 0o600 });
    writeFileSync(join(options.dir, sealFile), `${sealer.seal(bytes)}\n`, { mode: 0o600 });
    return { manifest, bytes: manifest.tables.reduce((sum, t) => sum + t.bytes, bytes.length) };
  } catch (err) {
    rmSync(join(options.dir, 'tables'), { recursive: true, force: true });
    throw err;
  }
}
