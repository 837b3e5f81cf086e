// Golden-record storage: recomputation with history and change events (inside a transaction), and the reads.
import type { Queryable, SqlValue } from '../storage/db.ts';
import type { NaturalKey, ReferentialModule } from './module.ts';
import { recordChanges, type ChangeType } from './changes.ts';
import { hiddenArray, jsonList, selectByPairs } from './pairs.ts';
import { plainValues, survive, type SurvivorshipSource } from './engine-survivorship.ts';
import type { GoldenAttributes, GoldenRecord, GoldenStatus, Resolved, ResolveItem, SourceRef } from './engine-types.ts';
import { canonicalize } from '../conventions/canonical-json.ts';

export type HistoryCause = 'contribution' | 'merge' | 'unmerge' | 'steward' | 'review';

export interface GoldenRow {
  id: string;
  referential: string;
  version: number;
  status: GoldenStatus;
  merged_into: string | null;
  attributes: GoldenAttributes;
  blocking_text: string | null;
  match_fields: Record<string, string | null> | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns a GoldenRow holds (not attribute_values, derived from the attributes: migration 0013). */
const goldenRowColumns = 'id, referential, version, status, merged_into, attributes, blocking_text, match_fields, created_at, updated_at';

export interface LinkRow {
  referential: string;
  source_system: string;
  source_id: string;
  golden_id: string;
  how: 'new' | 'identifier' | 'score' | 'steward';
  detail: Record<string, unknown>;
  at: Date;
}

/**
 * Key order never matters for equality of JSON values (jsonb reorders keys): the RFC 8785 form compares them. Only
 * compared, never stored; undefined members are left out, as jsonb leaves them out of the stored row.
 */
export function canonical(value: unknown): string {
  return canonicalize(value, { omitUndefined: true });
}

export const json = (value: unknown): string => JSON.stringify(value);

export type SourceRow = SurvivorshipSource & { version: number };

/** The linked source records of each golden record, in a fixed order (system, id). */
async function linkedSourcesOf(tx: Queryable, referential: string, goldenIds: readonly string[]): Promise<Map<string, SourceRow[]>> {
  const out = new Map<string, SourceRow[]>(goldenIds.map((id) => [id, []]));
  if (goldenIds.length === 0) return out;
  // Two index lookups joined here rather than a join the planner may turn into a scan of millions of source records.
  const { rows: links } = await tx.query<{ golden_id: string; source_system: string; source_id: string }>(
    `SELECT golden_id, source_system, source_id FROM ref_links WHERE referential = $1 AND golden_id = ANY(${hiddenArray(2)})`,
    [referential, JSON.stringify(goldenIds)],
  );
  if (links.length === 0) return out;
  const rows = await selectByPairs<{ source_system: string; source_id: string; version: number; attributes: Record<string, unknown>; received_at: Date }>(
    tx,
    'SELECT source_system, source_id, version, attributes, received_at FROM ref_source_records WHERE referential = $1',
    referential,
    'source_system',
    'source_id',
    links.map((l) => [l.source_system, l.source_id] as const),
  );
  const source = new Map(rows.map((r) => [`${r.source_system}\u0000${r.source_id}`, r]));
  links.sort((a, b) => (a.golden_id < b.golden_id ? -1 : a.golden_id > b.golden_id ? 1 : a.source_system < b.source_system ? -1 : a.source_system > b.source_system ? 1 : a.source_id < b.source_id ? -1 : a.source_id > b.source_id ? 1 : 0));
  for (const l of links) {
    const r = source.get(`${l.source_system}\u0000${l.source_id}`);
    if (r) out.get(l.golden_id)?.push({ system: r.source_system, id: r.source_id, version: r.version, attributes: r.attributes, receivedAt: new Date(r.received_at) });
  }
  return out;
}

export interface ComputedGolden {
  attributes: GoldenAttributes;
  blockingText: string | null;
  fields: Record<string, string | null> | null;
  keys: NaturalKey[];
  /** Blocking keys the record is found under: the union over its sources (a variant spelt by one source still finds it). */
  blockingKeys: string[];
  links: Array<{ system: string; id: string; version: number }>;
}

/** A golden record made by insertGoldens: its keys, and the rest as the JSON text goldenRowJson gives. */
export interface NewGolden {
  goldenId: string;
  keys: NaturalKey[];
  blockingKeys: string[];
  rowJson: string;
}

type RowProfile = { blockingText: string | null; fields: Record<string, string | null> | null } | undefined;

/**
 * A new golden record as insertGoldens sends it, all but its id:
 * `{"attributes":…,"attribute_values":…,"blocking_text":…,"match_fields":…,"links":…}`.
 */
function goldenRowJson(attributes: GoldenAttributes, profile: RowProfile, links: ComputedGolden['links']): string {
  return goldenRowJsonOf({ attributes: JSON.stringify(attributes), values: valuesJson(attributes) }, profile, links);
}

/** goldenRowJson with the attributes and their values serialised already (surviveOneJson). */
export function goldenRowJsonOf(texts: { attributes: string; values: string }, profile: RowProfile, links: ComputedGolden['links']): string {
  return `{"attributes":${texts.attributes},"attribute_values":${texts.values},"blocking_text":${JSON.stringify(profile?.blockingText ?? null)},"match_fields":${JSON.stringify(profile?.fields ?? null)},"links":${JSON.stringify(links)}}`;
}

/** ref_golden.attribute_values: each attribute's value alone, what a consumer reads unless it asks for provenance. */
export const valuesJson = (attributes: GoldenAttributes): string => JSON.stringify(plainValues(attributes));

export function newGolden(goldenId: string, computed: ComputedGolden): NewGolden {
  return { goldenId, keys: computed.keys, blockingKeys: computed.blockingKeys, rowJson: goldenRowJson(computed.attributes, computed, computed.links) };
}

/** A golden record as a pure function of its linked sources (invariant 1). */
export function computeFromSources(module: ReferentialModule, sources: readonly SourceRow[]): ComputedGolden {
  const attributes = survive(sources, module.trust);
  const plain = plainValues(attributes);
  const profile = sources.length > 0 ? module.matchProfile?.(plain) : undefined;
  const keyMap = new Map<string, NaturalKey>();
  const blocking = new Set<string>();
  for (const s of sources) {
    for (const k of module.naturalKeys(s.attributes)) keyMap.set(`${k.type}\u0000${k.value}`, k);
    if (module.blockingKeys) for (const k of module.blockingKeys(s.attributes).index) blocking.add(k);
  }
  if (module.blockingKeys && sources.length > 0) for (const k of module.blockingKeys(plain).index) blocking.add(k);
  return {
    attributes,
    blockingText: profile?.blockingText ?? null,
    fields: profile?.fields ?? null,
    keys: [...keyMap.values()],
    blockingKeys: [...blocking].sort(),
    links: sources.map((s) => ({ system: s.system, id: s.id, version: s.version })),
  };
}

/** Recomputes a golden record from scratch, out of its links (invariant 1). */
export async function computeGolden(tx: Queryable, module: ReferentialModule, goldenId: string): Promise<ComputedGolden> {
  return computeFromSources(module, (await linkedSourcesOf(tx, module.name, [goldenId])).get(goldenId) ?? []);
}

export async function lockGolden(tx: Queryable, goldenId: string): Promise<GoldenRow | undefined> {
  const { rows } = await tx.query<GoldenRow>(`SELECT ${goldenRowColumns} FROM ref_golden WHERE id = $1 FOR UPDATE`, [goldenId]);
  return rows[0];
}

export async function writeHistory(tx: Queryable, goldenId: string, cause: HistoryCause, links: unknown): Promise<void> {
  await writeHistories(tx, [{ goldenId, links }], cause);
}

/** One history row per record, as the record now is. */
async function writeHistories(tx: Queryable, entries: ReadonlyArray<{ goldenId: string; links: unknown }>, cause: HistoryCause): Promise<void> {
  if (entries.length === 0) return;
  // clock_timestamp, not now(): writes to one golden are serialised by its row lock, so its history stays in time order.
  await tx.query(
    `INSERT INTO ref_golden_history (golden_id, referential, version, status, merged_into, attributes, links, cause, valid_from)
     SELECT g.id, g.referential, g.version, g.status, g.merged_into, g.attributes, u.links, $2, clock_timestamp()
       FROM ROWS FROM (json_to_recordset($1::json) AS (id text, links jsonb)) WITH ORDINALITY AS u(id, links, ord)
       JOIN ref_golden g ON g.id = u.id AND g.id = ANY($3::text[]) ORDER BY u.ord`,
    [JSON.stringify(entries.map((e) => ({ id: e.goldenId, links: e.links }))), cause, entries.map((e) => e.goldenId)],
  );
}

export interface RefreshItem {
  goldenId: string;
  /** Bump the version even when nothing computed changed (its links changed). */
  force?: boolean;
  changeType?: ChangeType;
  status?: { status: GoldenStatus; mergedInto: string | null };
}

export interface RefreshOutcome {
  version: number;
  changed: boolean;
  warnings: string[];
}

/**
 * Brings golden records in line with their links: attributes, match profile, natural and blocking keys; each that
 * changed (or is `force`d) gets a new version, a history row and a change event. Set-based: the same dozen
 * statements for one record or five thousand. Rows are locked here, in id order.
 */
export async function refreshGoldens(
  tx: Queryable,
  module: ReferentialModule,
  items: readonly RefreshItem[],
  cause: HistoryCause,
  options: { groupEvents?: boolean } = {},
): Promise<Map<string, RefreshOutcome>> {
  const referential = module.name;
  const byId = new Map<string, RefreshItem>();
  for (const item of items) {
    const seen = byId.get(item.goldenId);
    byId.set(item.goldenId, seen ? { ...seen, ...item, force: seen.force === true || item.force === true } : item);
  }
  const ids = [...byId.keys()].sort();
  const outcomes = new Map<string, RefreshOutcome>();
  if (ids.length === 0) return outcomes;
  const { rows } = await tx.query<GoldenRow>(`SELECT ${goldenRowColumns} FROM ref_golden WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [ids]);
  const current = new Map(rows.map((r) => [r.id, r]));
  const missing = ids.find((id) => !current.has(id));
  if (missing) throw new Error(`golden record ${missing} does not exist`);
  const sources = await linkedSourcesOf(tx, referential, ids);

  const natural: Array<[string, NaturalKey]> = [];
  const blocking: Array<[string, string]> = [];
  const updates: Array<{ row: GoldenRow; version: number; status: GoldenStatus; mergedInto: string | null; next: Omit<ComputedGolden, 'keys' | 'blockingKeys'> }> = [];
  for (const id of ids) {
    const row = current.get(id) as GoldenRow;
    const item = byId.get(id) as RefreshItem;
    const status = item.status ?? { status: row.status, mergedInto: row.merged_into };
    const computed = computeFromSources(module, sources.get(id) ?? []);
    // A merged or retired record keeps its last attributes (what a reader of the old id sees) and gives up its keys.
    const active = status.status === 'active';
    const next = active ? computed : { attributes: row.attributes, blockingText: null, fields: row.match_fields, links: computed.links };
    if (active) {
      for (const k of computed.keys) natural.push([id, k]);
      for (const k of computed.blockingKeys) blocking.push([id, k]);
    }
    const changed =
      item.force === true ||
      row.version === 0 ||
      status.status !== row.status ||
      status.mergedInto !== row.merged_into ||
      canonical(next.attributes) !== canonical(row.attributes) ||
      next.blockingText !== row.blocking_text;
    if (changed) updates.push({ row, version: row.version + 1, status: status.status, mergedInto: status.mergedInto, next });
    outcomes.set(id, { version: changed ? row.version + 1 : row.version, changed, warnings: [] });
  }
  const held = await syncNaturalKeys(tx, referential, ids, natural);
  for (const h of held) outcomes.get(h.goldenId)?.warnings.push(`natural key ${h.keyType} ${h.keyValue} already identifies golden record ${h.heldBy}`);
  await syncBlockingKeys(tx, referential, ids, blocking);
  if (updates.length === 0) return outcomes;

  await tx.query(
    `UPDATE ref_golden g SET version = u.version, status = u.status, merged_into = u.merged_into, attributes = u.attributes,
            attribute_values = u.attribute_values, blocking_text = u.blocking_text, match_fields = u.match_fields, updated_at = clock_timestamp()
       FROM json_to_recordset($1::json) AS u(id text, version int, status text, merged_into text, attributes jsonb, attribute_values text, blocking_text text, match_fields jsonb)
      WHERE g.id = u.id AND g.id = ANY($2::text[])`,
    [
      JSON.stringify(
        updates.map((u) => ({
          id: u.row.id,
          version: u.version,
          status: u.status,
          merged_into: u.mergedInto,
          attributes: u.next.attributes,
          attribute_values: valuesJson(u.next.attributes),
          blocking_text: u.next.blockingText,
          match_fields: u.next.fields,
        })),
      ),
      updates.map((u) => u.row.id),
    ],
  );
  await writeHistories(tx, updates.map((u) => ({ goldenId: u.row.id, links: u.next.links })), cause);
  await recordChanges(
    tx,
    referential,
    updates.map((u) => {
      const item = byId.get(u.row.id) as RefreshItem;
      return {
        goldenId: u.row.id,
        version: u.version,
        type: item.changeType ?? (u.row.version === 0 ? 'golden.created' : 'golden.updated'),
        payload: u.mergedInto ? { mergedInto: u.mergedInto } : {},
      };
    }),
    { grouped: options.groupEvents === true },
  );
  return outcomes;
}

/**
 * Golden records made in this transaction from sources the caller holds (a bulk import's new records): written once,
 * in their final form (version 1), with history, keys and change events; no insert-then-update. The links are the
 * caller's to write, after this (they reference the records).
 */
export async function insertGoldens(
  tx: Queryable,
  module: ReferentialModule,
  entries: readonly NewGolden[],
  cause: HistoryCause,
  options: { groupEvents?: boolean } = {},
): Promise<Map<string, RefreshOutcome>> {
  const referential = module.name;
  const outcomes = new Map<string, RefreshOutcome>(entries.map((e) => [e.goldenId, { version: 1, changed: true, warnings: [] }]));
  if (entries.length === 0) return outcomes;
  // The records and their first history rows in one statement: the document is parsed once (jsonb, so that each
  // record's attributes are not parsed a second time on their own) and the history takes the rows as inserted.
  // The rows' texts as they are, joined (the brackets are PostgreSQL's to add), and their ids beside them, zipped in SQL:
  // neither a row nor the document is copied again to be sent.
  await tx.query(
    `WITH r AS MATERIALIZED (
       SELECT * FROM ROWS FROM (jsonb_to_recordset(('[' || $2 || ']')::jsonb) AS (attributes jsonb, attribute_values text, blocking_text text, match_fields jsonb, links jsonb), ${jsonList(4)})
              WITH ORDINALITY AS r(attributes, attribute_values, blocking_text, match_fields, links, id, ord)),
          g AS (INSERT INTO ref_golden (id, referential, version, status, attributes, attribute_values, blocking_text, match_fields, created_at, updated_at)
                SELECT r.id, $1, 1, 'active', r.attributes, r.attribute_values, r.blocking_text, r.match_fields, clock_timestamp(), clock_timestamp() FROM r)
     INSERT INTO ref_golden_history (golden_id, referential, version, status, merged_into, attributes, links, cause, valid_from)
     SELECT r.id, $1, 1, 'active', NULL, r.attributes, r.links, $3, clock_timestamp() FROM r ORDER BY r.ord`,
    [referential, entries.map((e) => e.rowJson).join(','), cause, JSON.stringify(entries.map((e) => e.goldenId))],
  );
  const held = await syncNaturalKeys(tx, referential, [], entries.flatMap((e) => e.keys.map((k): [string, NaturalKey] => [e.goldenId, k])));
  await syncBlockingKeys(tx, referential, [], entries.flatMap((e) => e.blockingKeys.map((k): [string, string] => [e.goldenId, k])), { newRecords: true });
  await recordChanges(tx, referential, entries.map((e) => ({ goldenId: e.goldenId, version: 1, type: 'golden.created' as const })), { grouped: options.groupEvents === true });
  for (const h of held) outcomes.get(h.goldenId)?.warnings.push(`natural key ${h.keyType} ${h.keyValue} already identifies golden record ${h.heldBy}`);
  return outcomes;
}

/** One record: see refreshGoldens. */
export async function refreshGolden(
  tx: Queryable,
  module: ReferentialModule,
  goldenId: string,
  cause: HistoryCause,
  options: Omit<RefreshItem, 'goldenId'> = {},
): Promise<RefreshOutcome> {
  const outcome = (await refreshGoldens(tx, module, [{ goldenId, ...options }], cause)).get(goldenId);
  if (!outcome) throw new Error(`golden record ${goldenId} was not refreshed`);
  return outcome;
}

/**
 * Points the records' natural keys at them (the records' other keys are dropped); a key already held by another
 * record stays there and is returned, for a warning.
 */
async function syncNaturalKeys(
  tx: Queryable,
  referential: string,
  ids: readonly string[],
  keys: ReadonlyArray<[string, NaturalKey]>,
): Promise<Array<{ goldenId: string; keyType: string; keyValue: string; heldBy: string }>> {
  const g = JSON.stringify(keys.map(([id]) => id));
  const t = JSON.stringify(keys.map(([, k]) => k.type));
  const v = JSON.stringify(keys.map(([, k]) => k.value));
  if (ids.length > 0) await tx.query(
    `DELETE FROM ref_natural_keys n WHERE n.referential = $1 AND n.golden_id = ANY(${hiddenArray(2)})
        AND NOT EXISTS (SELECT 1 FROM ROWS FROM (${jsonList(3)}, ${jsonList(4)}, ${jsonList(5)}) AS k(g, t, v) WHERE k.g = n.golden_id AND k.t = n.key_type AND k.v = n.key_value)`,
    [referential, JSON.stringify(ids), g, t, v],
  );
  if (keys.length === 0) return [];
  // The keys written come back; only the others (held already, or given twice) are looked up for their holder.
  const { rows: written } = await tx.query<{ key_type: string; key_value: string }>(
    `INSERT INTO ref_natural_keys (referential, key_type, key_value, golden_id)
     SELECT $1, t, v, g FROM ROWS FROM (${jsonList(2)}, ${jsonList(3)}, ${jsonList(4)}) AS k(g, t, v)
     ON CONFLICT (referential, key_type, key_value) DO NOTHING RETURNING key_type, key_value`,
    [referential, g, t, v],
  );
  const mine = new Set(written.map((r) => `${r.key_type}\u0000${r.key_value}`));
  const others = keys.filter(([, k]) => !mine.has(`${k.type}\u0000${k.value}`));
  if (others.length === 0) return [];
  const rows = await selectByPairs<{ key_type: string; key_value: string; golden_id: string }>(
    tx,
    'SELECT key_type, key_value, golden_id FROM ref_natural_keys WHERE referential = $1',
    referential,
    'key_type',
    'key_value',
    others.map(([, k]) => [k.type, k.value] as const),
  );
  const holder = new Map(rows.map((r) => [`${r.key_type}\u0000${r.key_value}`, r.golden_id]));
  return keys.flatMap(([id, k]) => {
    const heldBy = holder.get(`${k.type}\u0000${k.value}`);
    return heldBy !== undefined && heldBy !== id ? [{ goldenId: id, keyType: k.type, keyValue: k.value, heldBy }] : [];
  });
}

/**
 * The records' blocking keys, exactly `keys` (derived data: recomputed from the links whenever a record is).
 * `newRecords`: the records were made in this transaction and each key is given once, so none can be there already:
 * a plain insert (ON CONFLICT probes the primary key once more per key: a tenth of a bulk import's database time).
 */
export async function syncBlockingKeys(
  tx: Queryable,
  referential: string,
  ids: readonly string[],
  keys: ReadonlyArray<[string, string]>,
  options: { newRecords?: boolean } = {},
): Promise<void> {
  const g = JSON.stringify(keys.map(([id]) => id));
  const k = JSON.stringify(keys.map(([, key]) => key));
  if (ids.length > 0) await tx.query(
    `DELETE FROM ref_blocking_keys b WHERE b.referential = $1 AND b.golden_id = ANY(${hiddenArray(2)})
        AND NOT EXISTS (SELECT 1 FROM ROWS FROM (${jsonList(3)}, ${jsonList(4)}) AS k(g, key) WHERE k.g = b.golden_id AND k.key = b.key)`,
    [referential, JSON.stringify(ids), g, k],
  );
  if (keys.length === 0) return;
  await tx.query(
    `INSERT INTO ref_blocking_keys (referential, key, golden_id) SELECT $1, key, g FROM ROWS FROM (${jsonList(2)}, ${jsonList(3)}) AS k(g, key)${options.newRecords ? '' : ' ON CONFLICT DO NOTHING'}`,
    [referential, g, k],
  );
}

/** Recomputes the blocking keys of active records from their links (after an unmerge restores them, or a backfill). */
export async function reindexBlockingKeys(tx: Queryable, module: ReferentialModule, ids: readonly string[]): Promise<void> {
  if (!module.blockingKeys || ids.length === 0) return;
  const { rows } = await tx.query<{ id: string }>(`SELECT id FROM ref_golden WHERE id = ANY($1::text[]) AND status = 'active'`, [[...ids]]);
  const active = rows.map((r) => r.id);
  const sources = await linkedSourcesOf(tx, module.name, active);
  const keys = active.flatMap((id) => computeFromSources(module, sources.get(id) ?? []).blockingKeys.map((k): [string, string] => [id, k]));
  await syncBlockingKeys(tx, module.name, ids, keys);
}

// ---- reads -------------------------------------------------------------------------------------------------------

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
