// Golden-record reads: one record (current or as of an instant), by natural key or source, its source records, and
// resolveMany (ids, keys and sources mixed, in one statement), merged records answered with their survivor.
import type { Queryable, SqlValue } from '../storage/db.ts';
import type { NaturalKey } from './module.ts';
import type { GoldenAttributes, GoldenRecord, GoldenStatus, Resolved, ResolveItem, SourceRef } from './engine-types.ts';
import type { GoldenRow, LinkRow } from './store.ts';

/** What both read shapes say of a record besides its attributes. */
function heading(row: Pick<GoldenRow, 'id' | 'referential' | 'version' | 'status' | 'merged_into'>, survivorId: string | null): GoldenHeading {
  return {
    id: row.id,
    referential: row.referential,
    version: row.version,
    status: row.status,
    mergedInto: row.merged_into,
    survivorId: row.status === 'merged' ? survivorId : null,
  };
}

function toGolden(row: Omit<GoldenRow, 'blocking_text' | 'match_fields'>, survivorId: string | null): GoldenRecord {
  return { ...heading(row, survivorId), attributes: row.attributes, createdAt: row.created_at, updatedAt: row.updated_at };
}

type ReadRow = Omit<GoldenRow, 'blocking_text' | 'match_fields'> & { survivor_id: string | null };
type JsonRow = Pick<GoldenRow, 'id' | 'referential' | 'version' | 'status' | 'merged_into'> & { attributes_json: string; survivor_id: string | null };
/** 'values': the 'json' shape with each attribute's value alone, without its provenance (what a consumer reads unless it asks). */
type ReadShape = 'record' | 'json' | 'values';
interface Shaped {
  record: ReadRow;
  json: JsonRow;
  values: JsonRow;
}

/**
 * A golden record with its attributes as JSON text, as PostgreSQL prints jsonb (`{"k": v, …}`), never parsed into
 * objects: for an answer that is built as text (a batch of a thousand records is over a megabyte of attributes).
 */
export type GoldenJson = GoldenHeading & { attributesJson: string };

type GoldenHeading = Omit<GoldenRecord, 'attributes' | 'createdAt' | 'updatedAt'>;

function toGoldenJson(row: JsonRow): GoldenJson {
  return { ...heading(row, row.survivor_id), attributesJson: row.attributes_json };
}

/**
 * One statement from what the caller names to the golden rows, with, for merged ones, the active record at the end of
 * the merge chain. `wanted` yields (a, b, id): the two parts of the reference asked for (a key's type and value, a
 * source's system and id, or the golden id and null) and the golden id it leads to. Every step is a primary-key probe
 * (LATERAL … LIMIT 1, which the planner cannot turn into a hash join over a whole table) and only merged records walk
 * their chain (found through the partial index on merged_into), so the cost follows the number of references, not the
 * size of the referential. Only the columns a GoldenRecord holds are read (not the match profile, as large as the
 * attributes).
 */
function goldensSql(wanted: string, shape: ReadShape): string {
  // 'json': the attributes as the text PostgreSQL prints, for an answer built as text (see resolveManyJson); 'values':
  // each attribute's value alone, as stored beside the attributes (migration 0013: a third of the text to print, send
  // and parse, and nothing to compute per read).
  const columns =
    shape === 'record' ? 'g.attributes, g.created_at, g.updated_at' : shape === 'json' ? 'g.attributes::text AS attributes_json' : 'g.attribute_values AS attributes_json';
  return `WITH RECURSIVE wanted (a, b, id) AS (${wanted}),
     chain (start, id, depth) AS (
       SELECT g.id, g.merged_into, 1 FROM ref_golden g WHERE g.referential = $1 AND g.id IN (SELECT w.id FROM wanted w) AND g.merged_into IS NOT NULL
       UNION ALL
       SELECT c.start, n.merged_into, c.depth + 1
         FROM chain c CROSS JOIN LATERAL (SELECT r.merged_into FROM ref_golden r WHERE r.id = c.id LIMIT 1) n
        WHERE n.merged_into IS NOT NULL AND c.depth < 64
     )
     SELECT w.a, w.b, g.id, g.referential, g.version, g.status, g.merged_into, ${columns}, e.survivor_id
       FROM wanted w
       CROSS JOIN LATERAL (
         SELECT g.id, g.referential, g.version, g.status, g.merged_into, g.attributes, g.attribute_values, g.created_at, g.updated_at FROM ref_golden g
          WHERE g.id = w.id AND g.referential = $1 AND g.version > 0 LIMIT 1
       ) g
       LEFT JOIN (SELECT DISTINCT ON (start) start, id AS survivor_id FROM chain ORDER BY start, depth DESC) e ON e.start = g.id`;
}

const byIds = `SELECT u.id, NULL::text, u.id FROM unnest($2::text[]) AS u(id)`;
const byKeysAt = (types: number, values: number) => `SELECT k.t, k.v, n.golden_id FROM unnest($${types}::text[], $${values}::text[]) AS k(t, v)
       CROSS JOIN LATERAL (SELECT n.golden_id FROM ref_natural_keys n WHERE n.referential = $1 AND n.key_type = k.t AND n.key_value = k.v LIMIT 1) n`;
const bySourcesAt = (systems: number, ids: number) => `SELECT s.sys, s.sid, l.golden_id FROM unnest($${systems}::text[], $${ids}::text[]) AS s(sys, sid)
       CROSS JOIN LATERAL (SELECT l.golden_id FROM ref_links l WHERE l.referential = $1 AND l.source_system = s.sys AND l.source_id = s.sid LIMIT 1) l`;
const byKeys = byKeysAt(2, 3);
const bySources = bySourcesAt(2, 3);

/** Golden rows by id, merged ones with their survivor: one statement. */
async function goldensById(db: Queryable, referential: string, ids: readonly string[]): Promise<Map<string, GoldenRecord>> {
  const rows = await rowsById(db, referential, ids, 'record');
  return new Map([...rows].map(([id, r]) => [id, toGolden(r, r.survivor_id)]));
}

async function rowsById<S extends ReadShape>(db: Queryable, referential: string, ids: readonly string[], shape: S): Promise<Map<string, Shaped[S]>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<Shaped[S]>(goldensSql(byIds, shape), [referential, [...new Set(ids)]]);
  return new Map(rows.map((r) => [r.id, r]));
}

/** A golden record, current or as it was at `asOf`; a merged id answers with its survivor. undefined: never existed (then). */
export async function getGolden(db: Queryable, referential: string, goldenId: string, options: { asOf?: Date } = {}): Promise<GoldenRecord | undefined> {
  if (!options.asOf) return (await goldensById(db, referential, [goldenId])).get(goldenId);
  const { rows } = await db.query<{ version: number; status: GoldenStatus; merged_into: string | null; attributes: GoldenAttributes; valid_from: Date; created_at: Date }>(
    `SELECT h.version, h.status, h.merged_into, h.attributes, h.valid_from, g.created_at
       FROM ref_golden_history h JOIN ref_golden g ON g.id = h.golden_id
      WHERE h.golden_id = $1 AND h.referential = $2 AND h.valid_from <= $3 ORDER BY h.valid_from DESC, h.seq DESC LIMIT 1`,
    [goldenId, referential, options.asOf],
  );
  const h = rows[0];
  if (!h) return undefined;
  return {
    id: goldenId,
    referential,
    version: h.version,
    status: h.status,
    mergedInto: h.merged_into,
    survivorId: h.status === 'merged' ? h.merged_into : null,
    attributes: h.attributes,
    createdAt: h.created_at,
    updatedAt: h.valid_from,
  };
}

export async function findByNaturalKey(db: Queryable, referential: string, key: NaturalKey): Promise<GoldenRecord | undefined> {
  const [r] = await resolveMany(db, referential, [{ key }]);
  return r?.found ? r.golden : undefined;
}

export async function findBySource(db: Queryable, referential: string, source: SourceRef): Promise<GoldenRecord | undefined> {
  const [r] = await resolveMany(db, referential, [{ source }]);
  return r?.found ? r.golden : undefined;
}

export interface SourceRefEntry extends SourceRef {
  version: number;
  how: LinkRow['how'];
  linkedAt: Date;
}

/** The source records that make a golden record. */
export async function sourceRefs(db: Queryable, referential: string, goldenId: string): Promise<SourceRefEntry[]> {
  const { rows } = await db.query<{ source_system: string; source_id: string; version: number; how: LinkRow['how']; at: Date }>(
    `SELECT l.source_system, l.source_id, s.version, l.how, l.at FROM ref_links l JOIN ref_source_records s USING (referential, source_system, source_id)
      WHERE l.referential = $1 AND l.golden_id = $2 ORDER BY l.source_system, l.source_id`,
    [referential, goldenId],
  );
  return rows.map((r) => ({ system: r.source_system, id: r.source_id, version: r.version, how: r.how, linkedAt: r.at }));
}

export const resolveManyLimit = 1000;

/**
 * Answers each item in order, not-found explicit, in one statement whatever the number of items and however they name
 * their records (golden ids, natural keys, source references, or a mix of them: one round trip where a mix took three).
 * See goldensSql for why the cost does not grow with the referential.
 */
export async function resolveMany(db: Queryable, referential: string, items: readonly ResolveItem[]): Promise<Resolved[]> {
  return (await resolveRows(db, referential, items, 'record')).map((row) => (row ? { found: true as const, golden: toGolden(row, row.survivor_id) } : { found: false as const }));
}

/**
 * resolveMany with the attributes as JSON text (GoldenJson); undefined: not found. Each attribute is `{value, source,
 * at}` with `provenance`, its value alone without (as plainValues gives).
 */
export async function resolveManyJson(db: Queryable, referential: string, items: readonly ResolveItem[], options: { provenance: boolean }): Promise<Array<GoldenJson | undefined>> {
  return (await resolveRows(db, referential, items, options.provenance ? 'json' : 'values')).map((row) => (row ? toGoldenJson(row) : undefined));
}

async function resolveRows<S extends ReadShape>(db: Queryable, referential: string, items: readonly ResolveItem[], shape: S): Promise<Array<Shaped[S] | undefined>> {
  if (items.length > resolveManyLimit) throw new RangeError(`resolveMany takes at most ${resolveManyLimit} items, got ${items.length}`);
  const pair = (a: string, b: string) => `${a}\u0000${b}`;
  const keys = new Map<string, NaturalKey>();
  const sources = new Map<string, SourceRef>();
  const ids = new Set<string>();
  for (const item of items) {
    if ('key' in item) keys.set(pair(item.key.type, item.key.value), item.key);
    else if ('source' in item) sources.set(pair(item.source.system, item.source.id), item.source);
    else ids.add(item.goldenId);
  }
  const keyParams = (): SqlValue[] => [referential, [...keys.values()].map((k) => k.type), [...keys.values()].map((k) => k.value)];
  const sourceParams = (): SqlValue[] => [referential, [...sources.values()].map((s) => s.system), [...sources.values()].map((s) => s.id)];
  const refOf = (item: ResolveItem): string => ('goldenId' in item ? item.goldenId : 'key' in item ? pair(item.key.type, item.key.value) : pair(item.source.system, item.source.id));

  const kinds = (keys.size > 0 ? 1 : 0) + (sources.size > 0 ? 1 : 0) + (ids.size > 0 ? 1 : 0);
  if (kinds === 0) return items.map(() => undefined);
  if (kinds === 1) {
    const [sql, params] = keys.size > 0 ? [byKeys, keyParams()] : sources.size > 0 ? [bySources, sourceParams()] : [byIds, [referential, [...ids]]];
    const { rows } = await db.query<Shaped[S] & { a: string; b: string | null }>(goldensSql(sql, shape), params);
    const found = new Map(rows.map((r) => [r.b === null ? r.a : pair(r.a, r.b), r]));
    return items.map((item) => found.get(refOf(item)));
  }

  // A mix: one statement all the same, each reference kind tagged (a key's type and a source's system could be equal).
  const parts: string[] = [];
  const params: SqlValue[] = [referential];
  const at = () => params.length;
  if (keys.size > 0) {
    params.push([...keys.values()].map((k) => k.type), [...keys.values()].map((k) => k.value));
    parts.push(`SELECT 'k' || t, v, golden_id FROM (${byKeysAt(at() - 1, at())}) AS k(t, v, golden_id)`);
  }
  if (sources.size > 0) {
    params.push([...sources.values()].map((x) => x.system), [...sources.values()].map((x) => x.id));
    parts.push(`SELECT 's' || sys, sid, golden_id FROM (${bySourcesAt(at() - 1, at())}) AS s(sys, sid, golden_id)`);
  }
  if (ids.size > 0) {
    params.push([...ids]);
    parts.push(`SELECT 'g' || u.id, NULL::text, u.id FROM unnest($${at()}::text[]) AS u(id)`);
  }
  const { rows } = await db.query<Shaped[S] & { a: string; b: string | null }>(goldensSql(parts.join(' UNION ALL '), shape), params);
  const found = new Map(rows.map((r) => [r.b === null ? r.a : pair(r.a, r.b), r]));
  const tagged = (item: ResolveItem): string =>
    'goldenId' in item ? `g${item.goldenId}` : 'key' in item ? pair(`k${item.key.type}`, item.key.value) : pair(`s${item.source.system}`, item.source.id);
  return items.map((item) => found.get(tagged(item)));
}
