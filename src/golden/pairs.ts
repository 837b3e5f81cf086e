// Lookups by a two-column key, for thousands of keys at once, that stay index probes at any table size.
import type { Queryable } from '../storage/db.ts';

/**
 * Rows of `select` (a statement ending in a WHERE clause, whose $1 is `leading`: the referential, say) whose (`a`, `b`)
 * is one of `pairs`: one branch per distinct value of `a`, each `a = $x AND b = ANY($y)`. A planner shown
 * `a = ANY(…) AND b = ANY(…)` costs the cross product of the two lists as index probes, and past a few thousand keys
 * scans the table instead (at 1,000,000 source records: 140 ms a call for what 5,000 probes answer in a few).
 */
export async function selectByPairs<T extends Record<string, unknown>>(
  tx: Queryable,
  select: string,
  leading: unknown,
  a: string,
  b: string,
  pairs: Iterable<readonly [string, string]>,
): Promise<T[]> {
  const groups = new Map<string, Set<string>>();
  for (const [x, y] of pairs) {
    const group = groups.get(x);
    if (group) group.add(y);
    else groups.set(x, new Set([y]));
  }
  if (groups.size === 0) return [];
  const params: unknown[] = [leading];
  const branches: string[] = [];
  for (const [x, ys] of groups) {
    params.push(x, [...ys]);
    branches.push(`(${select} AND ${a} = $${params.length - 1} AND ${b} = ANY($${params.length}::text[]))`);
  }
  const { rows } = await tx.query<T>(branches.join(' UNION ALL '), params as never);
  return rows;
}

/**
 * Lists sent to PostgreSQL as JSON arrays of strings (`JSON.stringify`, native) rather than as `text[]`, which the pg
 * driver serialises element by element through two regular expressions each: a bulk import sends some 40,000 keys and
 * ids a chunk, and that serialisation was a tenth of what the importer allocated. `jsonList(n)`: the elements of
 * parameter $n, a set-returning expression (to zip several: `ROWS FROM (jsonList(2), jsonList(3)) AS k(a, b)`).
 */
export const jsonList = (n: number): string => `json_array_elements_text($${n}::json)`;

/**
 * The elements of parameter $n (a JSON array of strings) as the operand of `= ANY(…)`, an array the planner cannot see
 * into: shown a list of tens of thousands of keys, it costs as many index probes above one scan of the table, and past
 * a million rows scans it, in parallel (three processes on two cores, 100 to 400 ms a call during an import, growing
 * with the table); not shown the list, it assumes a few keys. Only where the keys are the whole of the index's leading
 * columns, so that a few keys mean probes: with an index condition on leading columns already (source_system = $2 AND
 * source_id = ANY(…)), a planner that assumes a few keys may read every entry under the leading ones and filter them
 * (seen at 100,000 records), which is why selectByPairs shows its lists. (The cast makes it an expression: without
 * it, `= ANY((SELECT …))` compares with each row of the subquery.)
 */
export const hiddenArray = (n: number): string => `(SELECT ARRAY(SELECT ${jsonList(n)}))::text[]`;
