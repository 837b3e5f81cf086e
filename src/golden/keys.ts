// A golden record's keys, kept in line with it: its natural keys (strong identifiers, each held by one active record)
// and its blocking keys (what fuzzy matching finds it under), both derived from its linked sources.
import type { Queryable } from '../storage/db.ts';
import type { NaturalKey, ReferentialModule } from './module.ts';
import { hiddenArray, jsonList, selectByPairs } from './pairs.ts';
import { computeFromSources, linkedSourcesOf } from './compute.ts';

/**
 * Points the records' natural keys at them (the records' other keys are dropped); a key already held by another
 * record stays there and is returned, for a warning.
 */
export async function syncNaturalKeys(
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
 * `newRecords`: the records were made in this transaction, their key lists written with them (insertGoldens), and each
 * key is given once, so none can be there already: a plain insert (ON CONFLICT probes the primary key once more per
 * key: a tenth of a bulk import's database time).
 *
 * A key is stored as its hash (blockingKeyHash, migration 0026). A record's keys are found through the list it holds
 * (ref_golden.blocking_keys, migration 0022), not through an index on ref_blocking_keys.golden_id: that index cost a
 * second B-tree insert for each of the 7 to 30 keys of every record written, and only this function read it. The keys
 * it drops are deleted by their primary key (a key kept that hashes like one dropped is inserted again below); the list
 * is brought in line in the same call. A key row the list does not name (one written by hand) is left in place: it can only add a
 * candidate, which matching scores like any other.
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
  if (ids.length > 0) {
    const records = JSON.stringify(ids);
    await tx.query(
      `WITH held AS (SELECT r.id, unnest(r.blocking_keys) AS key FROM ref_golden r WHERE r.id = ANY(${hiddenArray(2)}))
       DELETE FROM ref_blocking_keys b USING held
        WHERE b.key_hash = ${blockingKeyHash('$1', 'held.key')} AND b.golden_id = held.id
          AND NOT EXISTS (SELECT 1 FROM ROWS FROM (${jsonList(3)}, ${jsonList(4)}) AS k(g, key) WHERE k.g = held.id AND k.key = held.key)`,
      [referential, records, g, k],
    );
    await tx.query(
      `UPDATE ref_golden r SET blocking_keys = n.keys
         FROM (SELECT i.id, COALESCE(array_agg(DISTINCT k.key ORDER BY k.key) FILTER (WHERE k.key IS NOT NULL), '{}') AS keys
                 FROM ${jsonList(1)} AS i(id) LEFT JOIN ROWS FROM (${jsonList(2)}, ${jsonList(3)}) AS k(g, key) ON k.g = i.id
                GROUP BY i.id) n
        WHERE r.id = n.id AND r.id = ANY(${hiddenArray(1)}) AND r.blocking_keys IS DISTINCT FROM n.keys`,
      [records, g, k],
    );
  }
  if (keys.length === 0) return;
  await tx.query(
    // DISTINCT: two keys of one record that hash alike are one row. In the primary key's order: the hashes fall all
    // over the index, and taken in order each insert descends where the one before it did, through pages still in the
    // CPU's cache (a chunk's 26,000 keys on the 1M database: 128 to 133 ms against 145 to 163, docs/decisions.md §38).
    `INSERT INTO ref_blocking_keys (key_hash, golden_id) SELECT DISTINCT ${blockingKeyHash('$1', 'key')}, g FROM ROWS FROM (${jsonList(2)}, ${jsonList(3)}) AS k(g, key) ORDER BY 1, 2${options.newRecords ? '' : ' ON CONFLICT DO NOTHING'}`,
    [referential, g, k],
  );
}

/**
 * SQL: the hash under which blocking key `key` of `referential` (both SQL text expressions) is stored in
 * ref_blocking_keys (migration 0026): PostgreSQL's own 64-bit text hash, computed by the server on both drivers, so that
 * no client code has to agree with it. Every reader and writer of ref_blocking_keys goes through it.
 */
export function blockingKeyHash(referential: string, key: string): string {
  return `hashtextextended(${referential} || ':' || ${key}, 0)`;
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

/**
 * Of `records` (active ones, with the list of keys each holds and whether its first listed key row is there), those
 * whose keys are not what the module computes today are keyed again: a record written before blocking keys existed,
 * or under an earlier definition of them (decisions §31). Returns how many were.
 */
export async function rekeyStale(tx: Queryable, module: ReferentialModule, records: ReadonlyArray<{ id: string; blocking_keys: string[] | null; keyed: boolean }>): Promise<number> {
  if (!module.blockingKeys || records.length === 0) return 0;
  const sources = await linkedSourcesOf(tx, module.name, records.map((r) => r.id));
  const stale = records.filter((r) => {
    const now = computeFromSources(module, sources.get(r.id) ?? []).blockingKeys;
    const held = r.blocking_keys ?? [];
    // A record with no key at all (a person with neither a birth date nor a commune) has no first key row to find: current when it should still have none.
    return (held.length > 0 && !r.keyed) || now.length !== held.length || now.some((k, i) => k !== held[i]);
  });
  await reindexBlockingKeys(tx, module, stale.map((r) => r.id));
  return stale.length;
}
