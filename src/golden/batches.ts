// Batches of contributions: an upload (NDJSON or CSV) is checked as a whole (UTF-8, CSV columns) before anything is
// written, stored with one row per line and one outbox row, then applied by the `referential.batch` consumer in
// chunks. Each chunk runs in the outbox handler's transaction: its rows' contributions (each in a savepoint), their
// outcomes, the batch's counts, the outbox row marked delivered and the next chunk's outbox row commit together, so a
// re-delivered job never applies a row twice. A batch is keyed by its client's id within the source system: a resend
// with the same id changes nothing and answers the batch's status.
import { problemLimits } from '../http/problem.ts';
import type { Db, Queryable } from '../storage/db.ts';
import { writeOutbox } from '../queue/outbox.ts';
import { contribute } from './engine.ts';
import { ContributionRefusedError, type ContributionDecision } from './engine-types.ts';
import type { ReferentialCatalog } from './catalog.ts';
import type { FieldProblem } from './module.ts';
import { json } from './store.ts';
import { jsonFaults, locationOf, textFault } from '../storage/storable.ts';
import { CsvError, readCsvRecord } from './csv.ts';

export type BatchFormat = 'ndjson' | 'csv';
export type BatchStatusName = 'queued' | 'running' | 'done' | 'failed';

export const batchTopic = 'referential.batch';
export const batchIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Rows applied per outbox job (one transaction); the next chunk is another job. */
export const defaultChunkSize = 200;

/** A line as read: a contribution to make, or a line that cannot be one (its problems). `line` is 1-based in the file. */
export type BatchRow =
  | { line: number; sourceId: string; attributes: Record<string, unknown>; /** As the file gives it, if it does (the CLI's import may use it). */ sourceSystem?: string }
  | { line: number; sourceId?: string; problems: FieldProblem[] };

/** The upload as a whole is refused (not UTF-8, CSV columns wrong): nothing was written. */
export class BatchRefusedError extends Error {
  override name = 'BatchRefusedError';
  /**
   * @param problems at most problemLimits.errors of them (a header of a million unknown columns is not a million problems)
   * @param omitted how many more were found and not listed
   */
  constructor(
    readonly problems: FieldProblem[],
    readonly omitted = 0,
  ) {
    super(`batch refused: ${problems.map((p) => `${p.location}: ${p.message}`).join('; ')}${omitted > 0 ? `; and ${omitted} more` : ''}`);
  }
}

/** `sourceSystem` is not an attribute: files exported by a source often carry it. A batch's own source system wins over it. */
const ignoredColumns = new Set(['sourceSystem']);

/**
 * Reads lines one at a time (the CLI streams a file through it; parseBatch feeds it a whole upload). For CSV the first
 * non-empty line is the header, checked at once (BatchRefusedError); a quoted field may span lines. Empty lines are skipped.
 * Records are read by the strict RFC 4180 reader of the referential data files: a malformed header (a quote inside an
 * unquoted field, text after a closing quote) refuses the upload, a malformed row is that row's rejection.
 */
export class BatchLineParser {
  private header: string[] | undefined;
  private pending: { text: string; line: number } | undefined;

  constructor(
    readonly format: BatchFormat,
    private readonly columns?: readonly string[],
  ) {}

  /** The row this line completes, if any. */
  push(text: string, line: number): BatchRow | undefined {
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (this.format === 'ndjson') return text.trim() === '' ? undefined : ndjsonRow(text, line);
    if (this.pending) {
      this.pending.text += `\n${text}`;
    } else {
      if (text.trim() === '') return undefined;
      this.pending = { text, line };
    }
    const { text: record, line: start } = this.pending;
    let fields: string[];
    try {
      const read = readCsvRecord(record, 0, 'upload', start, false);
      if (read === undefined) return undefined; // an open quote: the record goes on on the next line
      // A carriage return alone ends a CSV record: what follows it on this line would be a second record.
      if (read.next < record.length) throw new CsvError('upload', read.nextLine - 1, 'a carriage return outside a quoted field');
      fields = read.fields;
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      this.pending = undefined;
      // A malformed header refuses the upload; a malformed row is that row's rejection.
      if (!this.header) throw new BatchRefusedError([{ location: 'header', message: `line ${err.line}: ${err.detail}` }]);
      return { line: start, problems: [{ location: 'line', message: err.detail }] };
    }
    this.pending = undefined;
    if (!this.header) {
      this.header = checkHeader(fields, this.columns);
      return undefined;
    }
    return csvRow(this.header, fields, start);
  }

  /** Whatever an unterminated quoted field left. */
  end(): BatchRow | undefined {
    if (this.format === 'csv' && !this.header) throw new BatchRefusedError([{ location: 'body', message: 'the CSV has no header line' }]);
    const left = this.pending;
    this.pending = undefined;
    return left ? { line: left.line, problems: [{ location: 'line', message: 'a quoted field is not closed' }] } : undefined;
  }
}

/** Decodes strictly (a byte sequence that is not UTF-8 refuses the whole upload). */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BatchRefusedError([{ location: 'body', message: 'is not UTF-8' }]);
  }
}

/** A whole upload → its rows; BatchRefusedError when not UTF-8 or when a CSV's header is wrong. */
export function parseBatch(bytes: Uint8Array, format: BatchFormat, columns?: readonly string[]): BatchRow[] {
  const text = decodeUtf8(bytes);
  const parser = new BatchLineParser(format, columns);
  const rows: BatchRow[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const row = parser.push(raw.endsWith('\r') ? raw.slice(0, -1) : raw, i + 1);
    if (row) rows.push(row);
  });
  const last = parser.end();
  if (last) rows.push(last);
  return rows;
}

function ndjsonRow(text: string, line: number): BatchRow {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { line, problems: [{ location: 'line', message: 'is not valid JSON' }] };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { line, problems: [{ location: 'line', message: 'is not a JSON object' }] };
  const { sourceId, attributes, sourceSystem } = value as { sourceId?: unknown; attributes?: unknown; sourceSystem?: unknown };
  // Text PostgreSQL cannot hold, or a value nested too deep to serialise, rejects this row alone (its sourceId is kept
  // only if it can be stored beside the rejection).
  const faults = jsonFaults(value);
  if (faults.length > 0) {
    const storableId = typeof sourceId === 'string' && sourceId !== '' && textFault(sourceId) === undefined ? { sourceId } : {};
    return { line, ...storableId, problems: faults.map((f) => ({ location: locationOf('', f.path) || 'line', message: f.message })) };
  }
  const problems: FieldProblem[] = [];
  if (typeof sourceId !== 'string' || sourceId === '') problems.push({ location: 'sourceId', message: 'is required (a non-empty string)' });
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) problems.push({ location: 'attributes', message: 'is required (an object)' });
  if (problems.length > 0) return { line, ...(typeof sourceId === 'string' && sourceId ? { sourceId } : {}), problems };
  return { line, sourceId: sourceId as string, attributes: attributes as Record<string, unknown>, ...(typeof sourceSystem === 'string' && sourceSystem.trim() ? { sourceSystem: sourceSystem.trim() } : {}) };
}

/**
 * The header's columns, or BatchRefusedError naming what is wrong: the first problems only (problemLimits.errors) and a
 * count of the rest, the known columns written once (with the first unknown one) rather than with each, so that a
 * header of hundreds of thousands of columns costs one pass over it and a bounded answer.
 */
function checkHeader(fields: string[], columns: readonly string[] | undefined): string[] {
  const header = fields.map((f) => f.trim());
  const problems: FieldProblem[] = [];
  let omitted = 0;
  const report = (problem: FieldProblem) => {
    if (problems.length < problemLimits.errors) problems.push(problem);
    else omitted++;
  };
  if (!header.includes('sourceId')) report({ location: 'header', message: 'has no sourceId column' });
  const known = columns ? new Set(columns) : undefined;
  const seen = new Set<string>();
  let unknown = 0;
  for (const name of header) {
    if (seen.has(name)) report({ location: `header.${name}`, message: 'appears twice' });
    seen.add(name);
    if (name === 'sourceId' || ignoredColumns.has(name)) continue;
    if (name === '') report({ location: 'header', message: 'has an empty column name' });
    else if (known && !known.has(name)) {
      const expected = unknown++ === 0 ? ` (expected sourceId and some of: ${[...known].join(', ')})` : '';
      report({ location: `header.${name}`, message: `is not a known column${expected}` });
    }
  }
  if (problems.length > 0) throw new BatchRefusedError(problems, omitted);
  return header;
}

function csvRow(header: string[], fields: string[], line: number): BatchRow {
  if (fields.length !== header.length) return { line, problems: [{ location: 'line', message: `has ${fields.length} fields, the header has ${header.length}` }] };
  const attributes: Record<string, unknown> = {};
  let sourceId = '';
  let sourceSystem = '';
  header.forEach((name, i) => {
    const value = fields[i] ?? '';
    if (name === 'sourceId') sourceId = value.trim();
    else if (name === 'sourceSystem') sourceSystem = value.trim();
    else if (!ignoredColumns.has(name) && value !== '') setPath(attributes, name.split('.'), value);
  });
  if (!sourceId) return { line, problems: [{ location: 'sourceId', message: 'is required' }] };
  const faults = header.flatMap((name, i) => {
    const fault = textFault(fields[i] ?? '');
    return fault ? [{ location: name === 'sourceId' || name === 'sourceSystem' ? name : `attributes.${name}`, message: fault }] : [];
  });
  if (faults.length > 0) return { line, ...(textFault(sourceId) === undefined ? { sourceId } : {}), problems: faults };
  return { line, sourceId, attributes, ...(sourceSystem ? { sourceSystem } : {}) };
}

function setPath(object: Record<string, unknown>, path: string[], value: string): void {
  let current = object;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (next === null || typeof next !== 'object') current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  current[path.at(-1) ?? ''] = value;
}

export interface SubmitBatchInput {
  referential: string;
  sourceSystem: string;
  batchId: string;
  format: BatchFormat;
  rows: BatchRow[];
}

export interface SubmittedBatch {
  batchId: string;
  status: BatchStatusName;
  total: number;
  /** A batch with this id already existed: nothing was written. */
  resent: boolean;
}

/** Stores the batch, its rows and one outbox row in one transaction; an existing batch id changes nothing. */
export async function submitBatch(db: Db, input: SubmitBatchInput): Promise<SubmittedBatch> {
  if (!batchIdPattern.test(input.batchId)) throw new BatchRefusedError([{ location: 'query.batchId', message: `must match ${batchIdPattern.source}` }]);
  return db.transaction(async (tx) => {
    const rejected = input.rows.filter((r) => 'problems' in r).length;
    const { rows: inserted } = await tx.query(
      `INSERT INTO ref_batches (source_system, batch_id, referential, format, status, total, rejected) VALUES ($1, $2, $3, $4, 'queued', $5, $6)
       ON CONFLICT (source_system, batch_id) DO NOTHING RETURNING batch_id`,
      [input.sourceSystem, input.batchId, input.referential, input.format, input.rows.length, rejected],
    );
    if (inserted.length === 0) {
      const { rows } = await tx.query<{ status: BatchStatusName; total: number }>('SELECT status, total FROM ref_batches WHERE source_system = $1 AND batch_id = $2', [input.sourceSystem, input.batchId]);
      return { batchId: input.batchId, status: rows[0]?.status ?? 'queued', total: rows[0]?.total ?? 0, resent: true };
    }
    for (let i = 0; i < input.rows.length; i += 1000) {
      const chunk = input.rows.slice(i, i + 1000).map((r) =>
        'problems' in r
          ? { line: r.line, source_id: r.sourceId ?? null, attributes: null, status: 'rejected', problems: r.problems }
          : { line: r.line, source_id: r.sourceId, attributes: r.attributes, status: 'pending', problems: null },
      );
      await tx.query(
        `INSERT INTO ref_batch_rows (source_system, batch_id, line, source_id, attributes, status, problems)
         SELECT $1, $2, r.line, r.source_id, r.attributes, r.status, r.problems
           FROM jsonb_to_recordset($3::jsonb) AS r(line integer, source_id text, attributes jsonb, status text, problems jsonb)`,
        [input.sourceSystem, input.batchId, json(chunk)],
      );
    }
    await writeOutbox(tx, batchTopic, { sourceSystem: input.sourceSystem, batchId: input.batchId });
    return { batchId: input.batchId, status: 'queued' as const, total: input.rows.length, resent: false };
  });
}

/**
 * A Db whose transactions are savepoints of an open transaction: the engine's contribute() then writes inside the
 * caller's transaction (a row's contribution and its outcome commit together) and a failed contribution rolls back
 * alone. Nothing in the engine reads `driver`.
 */
function savepointDb(tx: Queryable): Db {
  let n = 0;
  return {
    driver: 'pg',
    query: (sql, params) => tx.query(sql, params),
    exec: (sql) => tx.exec(sql),
    async transaction(fn) {
      const name = `batch_row_${++n}`;
      await tx.query(`SAVEPOINT ${name}`);
      try {
        const result = await fn(tx);
        await tx.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (err) {
        await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw err;
      }
    },
    ping: async () => undefined,
    close: async () => undefined,
  };
}

/**
 * Applies the next chunk of a batch's pending rows inside `tx` (the outbox handler's). Returns whether rows remain
 * (the consumer then queues the next chunk in the same transaction). Rows not pending are never touched again, and the
 * batch row is locked first: two deliveries of one batch never run side by side. The batch's referential is looked
 * up in `referentials` (the hub's).
 */
export async function processBatch(tx: Queryable, referentials: ReferentialCatalog, key: { sourceSystem: string; batchId: string }, options: { chunkSize?: number } = {}): Promise<{ more: boolean }> {
  const { rows: batches } = await tx.query<{ referential: string; applied: number; rejected: number; decisions: Record<string, number> }>(
    'SELECT referential, applied, rejected, decisions FROM ref_batches WHERE source_system = $1 AND batch_id = $2 FOR UPDATE',
    [key.sourceSystem, key.batchId],
  );
  const batch = batches[0];
  if (!batch) return { more: false };
  const module = referentials.module(batch.referential);
  if (!module) throw new Error(`batch ${key.batchId}: referential ${batch.referential} is not one of this hub's`);
  const chunkSize = options.chunkSize ?? defaultChunkSize;
  const { rows } = await tx.query<{ line: number; source_id: string; attributes: Record<string, unknown> }>(
    `SELECT line, source_id, attributes FROM ref_batch_rows WHERE source_system = $1 AND batch_id = $2 AND status = 'pending' ORDER BY line LIMIT $3`,
    [key.sourceSystem, key.batchId, chunkSize + 1],
  );
  const more = rows.length > chunkSize;
  const db = savepointDb(tx);
  const decisions = { ...batch.decisions };
  let applied = 0;
  let rejected = 0;
  for (const row of rows.slice(0, chunkSize)) {
    try {
      // Positions are numbered by the periodic assigner once this transaction commits.
      const result = await contribute(db, module, { sourceSystem: key.sourceSystem, sourceId: row.source_id, attributes: row.attributes }, { assignPositions: false });
      await tx.query(`UPDATE ref_batch_rows SET status = 'applied', decision = $4, golden_id = $5 WHERE source_system = $1 AND batch_id = $2 AND line = $3`, [
        key.sourceSystem,
        key.batchId,
        row.line,
        result.decision,
        result.goldenId,
      ]);
      decisions[result.decision] = (decisions[result.decision] ?? 0) + 1;
      applied++;
    } catch (err) {
      if (!(err instanceof ContributionRefusedError)) throw err;
      await tx.query(`UPDATE ref_batch_rows SET status = 'rejected', problems = $4::jsonb WHERE source_system = $1 AND batch_id = $2 AND line = $3`, [
        key.sourceSystem,
        key.batchId,
        row.line,
        json(err.problems),
      ]);
      rejected++;
    }
  }
  await tx.query(`UPDATE ref_batches SET applied = applied + $3, rejected = rejected + $4, decisions = $5::jsonb, status = $6, updated_at = now() WHERE source_system = $1 AND batch_id = $2`, [
    key.sourceSystem,
    key.batchId,
    applied,
    rejected,
    json(decisions),
    more ? 'running' : 'done',
  ]);
  return { more };
}

/**
 * The outbox consumer of batches of the referentials in `referentials`: one chunk per job, the next chunk queued in the
 * same transaction.
 */
export function batchConsumer(referentials: ReferentialCatalog, options: { chunkSize?: number } = {}) {
  return {
    topic: batchTopic,
    handler: async (payload: Record<string, unknown>, tx: Queryable) => {
      const key = { sourceSystem: String(payload.sourceSystem), batchId: String(payload.batchId) };
      const { more } = await processBatch(tx, referentials, key, options);
      if (more) await writeOutbox(tx, batchTopic, key);
    },
  };
}

export interface BatchStatus {
  batchId: string;
  referential: string;
  status: BatchStatusName;
  total: number;
  processed: number;
  applied: number;
  rejected: number;
  decisions: Partial<Record<ContributionDecision, number>>;
  /** Rejected rows by line (the first `errorLimit`). */
  errors: Array<{ line: number; sourceId: string | null; problems: FieldProblem[] }>;
  errorsTruncated: boolean;
  createdAt: string;
  updatedAt: string;
}

export async function batchStatus(db: Queryable, sourceSystem: string, batchId: string, options: { errorLimit?: number } = {}): Promise<BatchStatus | undefined> {
  const { rows } = await db.query<{
    referential: string;
    status: BatchStatusName;
    total: number;
    applied: number;
    rejected: number;
    decisions: BatchStatus['decisions'];
    created_at: Date;
    updated_at: Date;
  }>('SELECT referential, status, total, applied, rejected, decisions, created_at, updated_at FROM ref_batches WHERE source_system = $1 AND batch_id = $2', [sourceSystem, batchId]);
  const b = rows[0];
  if (!b) return undefined;
  const limit = options.errorLimit ?? 1000;
  const { rows: errors } = await db.query<{ line: number; source_id: string | null; problems: FieldProblem[] }>(
    `SELECT line, source_id, problems FROM ref_batch_rows WHERE source_system = $1 AND batch_id = $2 AND status = 'rejected' ORDER BY line LIMIT $3`,
    [sourceSystem, batchId, limit + 1],
  );
  return {
    batchId,
    referential: b.referential,
    status: b.status,
    total: b.total,
    processed: b.applied + b.rejected,
    applied: b.applied,
    rejected: b.rejected,
    decisions: b.decisions,
    errors: errors.slice(0, limit).map((e) => ({ line: e.line, sourceId: e.source_id, problems: e.problems })),
    errorsTruncated: errors.length > limit,
    createdAt: b.created_at.toISOString(),
    updatedAt: b.updated_at.toISOString(),
  };
}
