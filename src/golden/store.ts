// Golden-record writes inside the caller's transaction: records brought in line with their links (recomputed by
// compute.ts, keys kept by keys.ts), new records written in their final form, each change with its history (a record's
// row holds its current version's; the versions it replaced move to ref_golden_superseded) and a change event. The row
// shapes of ref_golden and ref_links. The reads are in reads.ts.
import type { Queryable } from '../storage/db.ts';
import type { NaturalKey, ReferentialModule } from './module.ts';
import { recordChanges, type ChangeEvent, type ChangeType } from './changes.ts';
import { jsonList } from './pairs.ts';
import type { GoldenAttributes, GoldenStatus } from './engine-types.ts';
import { canonicalize } from '../conventions/canonical-json.ts';
import { computeFromSources, linkedSourcesOf, valuesJson, type ComputedGolden, type NewGolden, type SourceRow } from './compute.ts';
import { syncBlockingKeys, syncNaturalKeys } from './keys.ts';
import { jsonArrayBytes, jsonArrayParam } from './json-rows.ts';

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

export async function lockGolden(tx: Queryable, goldenId: string): Promise<GoldenRow | undefined> {
  const { rows } = await tx.query<GoldenRow>(`SELECT ${goldenRowColumns} FROM ref_golden WHERE id = $1 FOR UPDATE`, [goldenId]);
  return rows[0];
}

/** Several records locked in one statement, in id order (rows are locked as the sorted scan returns them). */
export async function lockGoldens(tx: Queryable, goldenIds: readonly string[]): Promise<GoldenRow[]> {
  const { rows } = await tx.query<GoldenRow>(`SELECT ${goldenRowColumns} FROM ref_golden WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [[...goldenIds]]);
  return rows;
}

/**
 * Moves the current versions of `ids` to ref_golden_superseded (migration 0027): called before a write replaces them.
 * A record's current version lives in ref_golden only; the view ref_golden_history reads both.
 */
export async function supersede(tx: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(
    `INSERT INTO ref_golden_superseded (seq, golden_id, referential, version, status, merged_into, attributes, links, cause, valid_from)
     SELECT version_seq, id, referential, version, status, merged_into, attributes, links, cause, valid_from
       FROM ref_golden WHERE id = ANY($1::text[]) AND version_seq IS NOT NULL ORDER BY version_seq`,
    [ids],
  );
}

/**
 * Records what a version's history says of it (the sources it was computed from, why it was written, since when) on
 * the record itself, written as it now is by the caller (who superseded the version before, if it had one). Its place
 * among versions (version_seq) is drawn in `entries`' order. clock_timestamp, not now(): writes to one golden are
 * serialised by its row lock, so its history stays in time order.
 */
export async function stampVersions(tx: Queryable, entries: ReadonlyArray<{ goldenId: string; links: unknown }>, cause: HistoryCause): Promise<void> {
  if (entries.length === 0) return;
  await tx.query(
    `UPDATE ref_golden g SET links = u.links, cause = $2, valid_from = clock_timestamp(), version_seq = u.seq
       FROM (SELECT o.id, o.links, nextval('ref_golden_version_seq') AS seq
               FROM (SELECT id, links FROM ROWS FROM (json_to_recordset($1::json) AS (id text, links jsonb)) WITH ORDINALITY AS x(id, links, ord) ORDER BY ord) o) u
      WHERE g.id = u.id AND g.id = ANY($3::text[])`,
    [JSON.stringify(entries.map((e) => ({ id: e.goldenId, links: e.links }))), cause, entries.map((e) => e.goldenId)],
  );
}

export interface WriteOptions {
  /**
   * Where the change events go when given (a bulk import's chunk: it writes them numbered, in one statement, with
   * writeNumberedChanges); otherwise each is recorded now, unnumbered, with its outbox row.
   */
  changes?: ChangeEvent[];
}

async function changed(tx: Queryable, referential: string, events: ChangeEvent[], options: WriteOptions): Promise<void> {
  if (options.changes) for (const e of events) options.changes.push(e);
  else await recordChanges(tx, referential, events);
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
 * statements for one record or five thousand. Rows are locked here, in id order. In named steps: the items merged by
 * record, the rows locked, the plan (planRefresh), the keys, then the changed records written (writeRefreshed).
 */
export async function refreshGoldens(
  tx: Queryable,
  module: ReferentialModule,
  items: readonly RefreshItem[],
  cause: HistoryCause,
  options: WriteOptions = {},
): Promise<Map<string, RefreshOutcome>> {
  const referential = module.name;
  const byId = itemsByRecord(items);
  const ids = [...byId.keys()].sort();
  if (ids.length === 0) return new Map<string, RefreshOutcome>();
  const { rows } = await tx.query<GoldenRow>(`SELECT ${goldenRowColumns} FROM ref_golden WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [ids]);
  const current = new Map(rows.map((r) => [r.id, r]));
  const missing = ids.find((id) => !current.has(id));
  if (missing) throw new Error(`golden record ${missing} does not exist`);
  const plan = planRefresh(module, ids, byId, current, await linkedSourcesOf(tx, referential, ids));
  const held = await syncNaturalKeys(tx, referential, ids, plan.natural);
  for (const h of held) plan.outcomes.get(h.goldenId)?.warnings.push(`natural key ${h.keyType} ${h.keyValue} already identifies golden record ${h.heldBy}`);
  await syncBlockingKeys(tx, referential, ids, plan.blocking);
  if (plan.updates.length > 0) await writeRefreshed(tx, referential, plan.updates, byId, cause, options);
  return plan.outcomes;
}

/** One item per record: a record named twice is refreshed once, forced if either item forces it. */
function itemsByRecord(items: readonly RefreshItem[]): Map<string, RefreshItem> {
  const byId = new Map<string, RefreshItem>();
  for (const item of items) {
    const seen = byId.get(item.goldenId);
    byId.set(item.goldenId, seen ? { ...seen, ...item, force: seen.force === true || item.force === true } : item);
  }
  return byId;
}

/** A record that changed, as refreshGoldens writes it. */
interface RefreshedRecord {
  row: GoldenRow;
  version: number;
  status: GoldenStatus;
  mergedInto: string | null;
  next: Omit<ComputedGolden, 'keys' | 'blockingKeys'>;
}

/** What a refresh makes of its records, computed before anything is written. */
interface RefreshPlan {
  outcomes: Map<string, RefreshOutcome>;
  updates: RefreshedRecord[];
  /** The keys the active records hold once refreshed (a merged or retired record holds none). */
  natural: Array<[string, NaturalKey]>;
  blocking: Array<[string, string]>;
}

/** Each record recomputed from its sources (`sources`) and compared with its row (`current`): pure computation. */
function planRefresh(
  module: ReferentialModule,
  ids: readonly string[],
  byId: ReadonlyMap<string, RefreshItem>,
  current: ReadonlyMap<string, GoldenRow>,
  sources: ReadonlyMap<string, SourceRow[]>,
): RefreshPlan {
  const plan: RefreshPlan = { outcomes: new Map(), updates: [], natural: [], blocking: [] };
  for (const id of ids) {
    const row = current.get(id) as GoldenRow;
    const item = byId.get(id) as RefreshItem;
    const status = item.status ?? { status: row.status, mergedInto: row.merged_into };
    const computed = computeFromSources(module, sources.get(id) ?? []);
    // A merged or retired record keeps its last attributes (what a reader of the old id sees) and gives up its keys.
    const active = status.status === 'active';
    const next = active ? computed : { attributes: row.attributes, blockingText: null, fields: row.match_fields, links: computed.links };
    if (active) {
      for (const k of computed.keys) plan.natural.push([id, k]);
      for (const k of computed.blockingKeys) plan.blocking.push([id, k]);
    }
    const changed =
      item.force === true ||
      row.version === 0 ||
      status.status !== row.status ||
      status.mergedInto !== row.merged_into ||
      canonical(next.attributes) !== canonical(row.attributes) ||
      next.blockingText !== row.blocking_text;
    if (changed) plan.updates.push({ row, version: row.version + 1, status: status.status, mergedInto: status.mergedInto, next });
    plan.outcomes.set(id, { version: changed ? row.version + 1 : row.version, changed, warnings: [] });
  }
  return plan;
}

/** The changed records written, set-based: their rows (each with its history), the versions they replace kept, a change event each. */
async function writeRefreshed(
  tx: Queryable,
  referential: string,
  updates: readonly RefreshedRecord[],
  byId: ReadonlyMap<string, RefreshItem>,
  cause: HistoryCause,
  options: WriteOptions,
): Promise<void> {
  // The versions replaced go to ref_golden_superseded; each record's new version carries its history (stampVersions).
  await supersede(tx, updates.map((u) => u.row.id));
  await tx.query(
    `UPDATE ref_golden g SET version = u.version, status = u.status, merged_into = u.merged_into, attributes = u.attributes,
            attribute_values = u.attribute_values, blocking_text = u.blocking_text, match_fields = u.match_fields, updated_at = clock_timestamp(),
            links = u.links, cause = $3, valid_from = clock_timestamp(), version_seq = u.seq
       FROM (SELECT r.*, nextval('ref_golden_version_seq') AS seq
               FROM (SELECT * FROM ROWS FROM (json_to_recordset($1::json) AS (id text, version int, status text, merged_into text, attributes jsonb, attribute_values text, blocking_text text, match_fields jsonb, links jsonb))
                       WITH ORDINALITY AS x(id, version, status, merged_into, attributes, attribute_values, blocking_text, match_fields, links, ord) ORDER BY ord) r) u
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
          links: u.next.links,
        })),
      ),
      updates.map((u) => u.row.id),
      cause,
    ],
  );
  await changed(
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
    options,
  );
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
  options: WriteOptions = {},
): Promise<Map<string, RefreshOutcome>> {
  const referential = module.name;
  const outcomes = new Map<string, RefreshOutcome>(entries.map((e) => [e.goldenId, { version: 1, changed: true, warnings: [] }]));
  if (entries.length === 0) return outcomes;
  // The records with their history (links, cause, place among versions): a record's current version is written once,
  // here (migration 0027). The rows' bytes as they are, joined (json-rows.ts), and their ids beside them, zipped in
  // SQL; the versions' places drawn in the rows' order.
  await tx.query(
    `INSERT INTO ref_golden (id, referential, version, status, attributes, attribute_values, blocking_text, match_fields, blocking_keys, links, cause, valid_from, version_seq, created_at, updated_at)
     SELECT r.id, $1, 1, 'active', r.attributes, r.attribute_values, r.blocking_text, r.match_fields, r.blocking_keys, r.links, $3, clock_timestamp(), nextval('ref_golden_version_seq'), clock_timestamp(), clock_timestamp()
       FROM (SELECT * FROM ROWS FROM (jsonb_to_recordset(${jsonArrayParam(2)}) AS (attributes jsonb, attribute_values text, blocking_text text, match_fields jsonb, blocking_keys text[], links jsonb), ${jsonList(4)})
                     WITH ORDINALITY AS r(attributes, attribute_values, blocking_text, match_fields, blocking_keys, links, id, ord) ORDER BY ord) r`,
    [referential, jsonArrayBytes(entries.map((e) => e.row)), cause, JSON.stringify(entries.map((e) => e.goldenId))],
  );
  const held = await syncNaturalKeys(tx, referential, [], entries.flatMap((e) => e.keys.map((k): [string, NaturalKey] => [e.goldenId, k])));
  await syncBlockingKeys(tx, referential, [], entries.flatMap((e) => e.blockingKeys.map((k): [string, string] => [e.goldenId, k])), { newRecords: true });
  await changed(tx, referential, entries.map((e) => ({ goldenId: e.goldenId, version: 1, type: 'golden.created' as const })), options);
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
