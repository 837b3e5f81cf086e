// Golden-record storage: recomputation with history and change events (inside a transaction), and the reads.
import type { Queryable, SqlValue } from '../storage/db.ts';
import type { NaturalKey, ReferentialModule } from './module.ts';
import { recordChange, type ChangeType } from './changes.ts';
import { plainValues, survive, type SurvivorshipSource } from './engine-survivorship.ts';
import type { GoldenAttributes, GoldenRecord, GoldenStatus, Resolved, ResolveItem, SourceRef } from './engine-types.ts';

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

export interface LinkRow {
  referential: string;
  source_system: string;
  source_id: string;
  golden_id: string;
  how: 'new' | 'identifier' | 'score' | 'steward';
  detail: Record<string, unknown>;
  at: Date;
}

/** Key order never matters for equality of JSON values (jsonb reorders keys). */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const json = (value: unknown): string => JSON.stringify(value);

export async function linkedSources(tx: Queryable, referential: string, goldenId: string): Promise<Array<SurvivorshipSource & { version: number }>> {
  const { rows } = await tx.query<{ source_system: string; source_id: string; version: number; attributes: Record<string, unknown>; received_at: Date }>(
    `SELECT s.source_system, s.source_id, s.version, s.attributes, s.received_at
       FROM ref_links l JOIN ref_source_records s USING (referential, source_system, source_id)
      WHERE l.referential = $1 AND l.golden_id = $2 ORDER BY s.source_system, s.source_id`,
    [referential, goldenId],
  );
  return rows.map((r) => ({ system: r.source_system, id: r.source_id, version: r.version, attributes: r.attributes, receivedAt: r.received_at }));
}

/** Recomputes a golden record from scratch, out of its links (invariant 1). */
export async function computeGolden(
  tx: Queryable,
  module: ReferentialModule,
  goldenId: string,
): Promise<{ attributes: GoldenAttributes; blockingText: string | null; fields: Record<string, string | null> | null; keys: NaturalKey[]; links: Array<{ system: string; id: string; version: number }> }> {
  const sources = await linkedSources(tx, module.name, goldenId);
  const attributes = survive(sources, module.trust);
  const profile = sources.length > 0 ? module.matchProfile?.(plainValues(attributes)) : undefined;
  const keyMap = new Map<string, NaturalKey>();
  for (const s of sources) for (const k of module.naturalKeys(s.attributes)) keyMap.set(`${k.type}\u0000${k.value}`, k);
  return {
    attributes,
    blockingText: profile?.blockingText ?? null,
    fields: profile?.fields ?? null,
    keys: [...keyMap.values()],
    links: sources.map((s) => ({ system: s.system, id: s.id, version: s.version })),
  };
}

export async function lockGolden(tx: Queryable, goldenId: string): Promise<GoldenRow | undefined> {
  const { rows } = await tx.query<GoldenRow>('SELECT * FROM ref_golden WHERE id = $1 FOR UPDATE', [goldenId]);
  return rows[0];
}

export async function writeHistory(tx: Queryable, goldenId: string, cause: HistoryCause, links: unknown): Promise<void> {
  // clock_timestamp, not now(): writes to one golden are serialised by its row lock, so its history stays in time order.
  await tx.query(
    `INSERT INTO ref_golden_history (golden_id, referential, version, status, merged_into, attributes, links, cause, valid_from)
     SELECT id, referential, version, status, merged_into, attributes, $2::jsonb, $3, clock_timestamp() FROM ref_golden WHERE id = $1`,
    [goldenId, json(links), cause],
  );
}

/**
 * Brings a golden record in line with its links: attributes, match profile, natural keys; when anything changed (or
 * `force`, e.g. its links changed), bumps the version and writes history and a change event. The caller holds the row lock.
 */
export async function refreshGolden(
  tx: Queryable,
  module: ReferentialModule,
  goldenId: string,
  cause: HistoryCause,
  options: { force?: boolean; changeType?: ChangeType; status?: { status: GoldenStatus; mergedInto: string | null } } = {},
): Promise<{ version: number; changed: boolean; warnings: string[] }> {
  const row = await lockGolden(tx, goldenId);
  if (!row) throw new Error(`golden record ${goldenId} does not exist`);
  const status = options.status ?? { status: row.status, mergedInto: row.merged_into };
  const computed = await computeGolden(tx, module, goldenId);
  // A merged or retired record keeps its last attributes (what a reader of the old id sees) and gives up its keys.
  const next =
    status.status === 'active' ? computed : { attributes: row.attributes, blockingText: null, fields: row.match_fields, keys: [], links: computed.links };
  const warnings = await syncKeys(tx, module.name, goldenId, next.keys);
  const changed =
    options.force === true ||
    row.version === 0 ||
    status.status !== row.status ||
    status.mergedInto !== row.merged_into ||
    canonical(next.attributes) !== canonical(row.attributes) ||
    next.blockingText !== row.blocking_text;
  if (!changed) return { version: row.version, changed: false, warnings };
  const version = row.version + 1;
  await tx.query(
    `UPDATE ref_golden SET version = $2, status = $3, merged_into = $4, attributes = $5::jsonb, blocking_text = $6, match_fields = $7::jsonb,
            updated_at = clock_timestamp() WHERE id = $1`,
    [goldenId, version, status.status, status.mergedInto, json(next.attributes), next.blockingText, next.fields === null ? null : json(next.fields)],
  );
  await writeHistory(tx, goldenId, cause, next.links);
  const type: ChangeType = options.changeType ?? (row.version === 0 ? 'golden.created' : 'golden.updated');
  await recordChange(tx, { referential: module.name, goldenId, version, type, payload: status.mergedInto ? { mergedInto: status.mergedInto } : {} });
  return { version, changed: true, warnings };
}

/** Points the golden's natural keys at it; a key already held by another golden stays there and becomes a warning. */
async function syncKeys(tx: Queryable, referential: string, goldenId: string, keys: NaturalKey[]): Promise<string[]> {
  const types = keys.map((k) => k.type);
  const values = keys.map((k) => k.value);
  await tx.query(
    `DELETE FROM ref_natural_keys n WHERE n.referential = $1 AND n.golden_id = $2
        AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::text[]) AS k(t, v) WHERE k.t = n.key_type AND k.v = n.key_value)`,
    [referential, goldenId, types, values],
  );
  if (keys.length === 0) return [];
  await tx.query(
    `INSERT INTO ref_natural_keys (referential, key_type, key_value, golden_id)
     SELECT $1, t, v, $2 FROM unnest($3::text[], $4::text[]) AS k(t, v)
     ON CONFLICT (referential, key_type, key_value) DO NOTHING`,
    [referential, goldenId, types, values],
  );
  const { rows: held } = await tx.query<{ key_type: string; key_value: string; golden_id: string }>(
    `SELECT key_type, key_value, golden_id FROM ref_natural_keys
      WHERE referential = $1 AND golden_id <> $2 AND (key_type, key_value) IN (SELECT t, v FROM unnest($3::text[], $4::text[]) AS k(t, v))`,
    [referential, goldenId, types, values],
  );
  return held.map((h) => `natural key ${h.key_type} ${h.key_value} already identifies golden record ${h.golden_id}`);
}

// ---- reads -------------------------------------------------------------------------------------------------------

function toGolden(row: GoldenRow, survivorId: string | null): GoldenRecord {
  return {
    id: row.id,
    referential: row.referential,
    version: row.version,
    status: row.status,
    mergedInto: row.merged_into,
    survivorId: row.status === 'merged' ? survivorId : null,
    attributes: row.attributes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Golden rows by id with, for merged ones, the active record at the end of the merge chain: one query. */
async function goldensById(db: Queryable, referential: string, ids: readonly string[]): Promise<Map<string, GoldenRecord>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<GoldenRow & { survivor_id: string }>(
    `WITH RECURSIVE chain (start, id, merged_into, depth) AS (
       SELECT id, id, merged_into, 0 FROM ref_golden WHERE referential = $1 AND id = ANY($2::text[])
       UNION ALL
       SELECT c.start, g.id, g.merged_into, c.depth + 1 FROM chain c JOIN ref_golden g ON g.id = c.merged_into WHERE c.depth < 64
     ), ends AS (SELECT DISTINCT ON (start) start, id AS survivor_id FROM chain ORDER BY start, depth DESC)
     SELECT g.*, e.survivor_id FROM ref_golden g JOIN ends e ON e.start = g.id WHERE g.version > 0`,
    [referential, [...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, toGolden(r, r.survivor_id)]));
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

/** Answers each item in order, not-found explicit; three queries whatever the number of items. */
export async function resolveMany(db: Queryable, referential: string, items: readonly ResolveItem[]): Promise<Resolved[]> {
  if (items.length > resolveManyLimit) throw new RangeError(`resolveMany takes at most ${resolveManyLimit} items, got ${items.length}`);
  const keys = items.flatMap((i) => ('key' in i ? [i.key] : []));
  const sources = items.flatMap((i) => ('source' in i ? [i.source] : []));
  const pair = (a: string, b: string) => `${a}\u0000${b}`;
  const byKey = new Map<string, string>();
  const bySource = new Map<string, string>();
  if (keys.length > 0) {
    const { rows } = await db.query<{ key_type: string; key_value: string; golden_id: string }>(
      `SELECT n.key_type, n.key_value, n.golden_id FROM ref_natural_keys n JOIN unnest($2::text[], $3::text[]) AS k(t, v) ON n.key_type = k.t AND n.key_value = k.v
        WHERE n.referential = $1`,
      [referential, keys.map((k) => k.type), keys.map((k) => k.value)] as SqlValue[],
    );
    for (const r of rows) byKey.set(pair(r.key_type, r.key_value), r.golden_id);
  }
  if (sources.length > 0) {
    const { rows } = await db.query<{ source_system: string; source_id: string; golden_id: string }>(
      `SELECT l.source_system, l.source_id, l.golden_id FROM ref_links l JOIN unnest($2::text[], $3::text[]) AS s(sys, sid) ON l.source_system = s.sys AND l.source_id = s.sid
        WHERE l.referential = $1`,
      [referential, sources.map((s) => s.system), sources.map((s) => s.id)],
    );
    for (const r of rows) bySource.set(pair(r.source_system, r.source_id), r.golden_id);
  }
  const idOf = (item: ResolveItem): string | undefined =>
    'goldenId' in item ? item.goldenId : 'key' in item ? byKey.get(pair(item.key.type, item.key.value)) : bySource.get(pair(item.source.system, item.source.id));
  const ids = items.map(idOf);
  const goldens = await goldensById(
    db,
    referential,
    ids.filter((id): id is string => id !== undefined),
  );
  return ids.map((id) => {
    const golden = id === undefined ? undefined : goldens.get(id);
    return golden ? { found: true as const, golden } : { found: false as const };
  });
}
