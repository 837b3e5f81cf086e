// Name search over the golden records (the referential services' search and the console's): the search form of a
// text, and the ranked reads of ref_search_names / ref_golden it drives.
import type { Db, Queryable } from '../storage/db.ts';
import { latinKey } from '../text/fold.ts';

/**
 * The form a query is searched in: its Latin key (referentials/text/fold.ts), which folds Arabic letters as foldArabic
 * does and keys Latin spellings, as the modules build the blocking text (the Latin names by their key, the Arabic ones
 * folded). One form serves both scripts and a mix of them.
 */
export function searchForm(text: string): string {
  return latinKey(text) || text.trim();
}

/**
 * The thresholds search asks at before the configured one (pg_trgm's `word_similarity_threshold`, 0.6 unless set),
 * highest first: the first that fills the page ends the search. A name typed as the records hold it, or one slip from
 * it, is found at the first, among a handful of names. Chosen on 499 names sampled from the bench's million persons,
 * searched one after another: p50 21.5 ms and p99 145 ms against 26.2 and 170 with 0.9, 0.8, 0.7 (decisions §31).
 */
export const searchTiers: readonly number[] = [0.9, 0.75, 0.65];

/**
 * How many names the last band (between the configured threshold and the lowest tier) reads at most. The names of
 * that band are the loosest matches, and for a common first name there are thousands of them (every Fatima with an
 * El before a surname is 0.67 similar to "Fatima El Jafrani": 23,004 names for the index to recheck, 150 ms at a
 * million persons); the page's tail is then the best of the first `bandNames` the index yields (decisions §31).
 */
export const bandNames = 500;

/**
 * The records whose blocking text is similar to the query's form (word_similarity at least the threshold of pg_trgm's
 * `<%`, 0.6 unless set), best first, then by id; a page of them. In one transaction: a statement a tier.
 *
 * Records share their names (a million persons bear 587,289 distinct names with the family names of decisions §30), so
 * the search reads the distinct names (ref_search_names, migration 0014) through their GIN trigram index (migration
 * 0023), at each threshold of searchTiers in turn: the names at least that similar, the first `offset + limit` of them
 * in (similarity, name) order that have an active record, each one's first `offset + limit` records by id from a
 * B-tree, ranked. Every name below a tier's threshold is less similar than every name it found, so a tier that finds
 * `offset + limit` records holds the page, exactly (but among records exactly as similar as the page's last one, which
 * make the page depends on which names of that similarity come first by name, as with the walk this replaces). When no
 * tier does, the page is the last tier's records, then the best records of the band below it, from at most
 * `bandNames` (at least `offset + limit`) of its names: work bounded whatever the query, and a ranking that may miss,
 * in the page's loosest part, a name of the band as similar as one it shows.
 *
 * Within a commune the commune's records are ranked, all of them (a few hundred even at full scale).
 */
export async function searchGoldens(
  db: Db,
  referential: string,
  query: { form: string; commune: string | null; limit: number; offset: number },
  options: { band?: number; tiers?: readonly number[] } = {},
): Promise<Array<{ id: string; sim: number }>> {
  const { form, commune, limit, offset } = query;
  if (commune !== null) {
    const { rows } = await db.query<{ id: string; sim: number }>(
      `SELECT id, word_similarity($2, blocking_text) AS sim FROM ref_golden
        WHERE referential = $1 AND status = 'active' AND match_fields->>'commune' = $5 AND $2 <% blocking_text
        ORDER BY sim DESC, id LIMIT $3 OFFSET $4`,
      [referential, form, limit, offset, commune],
    );
    return rows;
  }
  const need = offset + limit;
  return db.transaction(
    async (tx, prelude) => {
      // The configured threshold (NULL until pg_trgm is loaded in this session: its default then).
      const configured = Number(prelude?.rows[0]?.['threshold'] ?? 0.6);
      let found: Array<{ id: string; sim: number }> = [];
      // The lowest tier asked so far: the band below it is what the last statement reads, capped.
      let above: number | undefined;
      for (const threshold of [...(options.tiers ?? searchTiers).filter((t) => t > configured), configured]) {
        const last = threshold === configured;
        const band = last && above !== undefined ? { names: Math.max(need, options.band ?? bandNames), below: above } : undefined;
        await tx.query(`SELECT set_config('pg_trgm.word_similarity_threshold', $1, true)`, [String(threshold)]);
        const { rows } = await tx.query<{ id: string; sim: number }>(
          // A tier reads every name at least as similar as its threshold ($4 NULL: no LIMIT; $5 = 2: no bound). The band
          // reads at most $4 names, in the index's order, below $5, compared in double precision as pg_trgm compares a
          // similarity with its threshold (a name of 0.65 is 0.64999998 as a real: below the 0.65 tier, so in the band).
          // OFFSET 0 keeps the EXISTS above the sort: probed in order, only until the LIMIT is reached.
          `SELECT g.id, n.sim FROM (
             SELECT s.blocking_text, s.sim FROM (
               SELECT c.blocking_text, c.sim FROM (
                 SELECT n.blocking_text, word_similarity($2, n.blocking_text) AS sim FROM ref_search_names n
                  WHERE n.referential = $1 AND $2 <% n.blocking_text LIMIT $4
               ) c
               WHERE c.sim::float8 < $5::float8
               ORDER BY c.sim DESC, c.blocking_text OFFSET 0
             ) s
             WHERE EXISTS (SELECT 1 FROM ref_golden e WHERE e.referential = $1 AND e.blocking_text = s.blocking_text AND e.status = 'active')
             LIMIT $3
           ) n
           CROSS JOIN LATERAL (
             SELECT g.id FROM ref_golden g WHERE g.referential = $1 AND g.blocking_text = n.blocking_text AND g.status = 'active' ORDER BY g.id LIMIT $3
           ) g
           ORDER BY n.sim DESC, g.id LIMIT $3`,
          [referential, form, need, band?.names ?? null, band?.below ?? 2],
        );
        // Each tier reads again what the tier above it found (a statement cannot carry it over); the band does not.
        found = band ? [...found, ...rows].slice(0, need) : rows;
        if (found.length >= need || last) return found.slice(offset);
        above = threshold;
      }
      return [];
    },
    { prelude: `SELECT current_setting('pg_trgm.word_similarity_threshold', true) AS threshold` },
  );
}

/** Where a keyset page of the search continues: after this record of this name (the last row of the page before). */
export interface SearchAfter {
  blockingText: string;
  id: string;
}

/**
 * A keyset page of the records whose blocking text is similar to the query's form (the console's search, pages as
 * deep as the operator goes, each costing the same). The order is (similarity of the record's name DESC, the name,
 * the record's id): a record's similarity is its name's, so the name breaks the ties between names exactly as similar
 * and makes the order total and continuable from a (name, id) cursor, where "similarity, then id" is not (two names
 * of one similarity interleave by id, and no index gives that). The cursor's similarity is computed again from its
 * name in SQL, never carried as a float.
 *
 * The names are those above pg_trgm's `<%` threshold, found by the GIN trigram index of ref_search_names: their
 * number is bounded by the distinct names (587,289 for a million generated persons), not by the records or the depth. Of
 * the names after the cursor, the first `limit` in that order that have an active record are expanded, each to its
 * first `limit` records by id (B-tree), with the cursor's own name's records after its id; the page is the first
 * `limit` of those. The API's searchGoldens keeps its offset pages and its tiers of similarity (its own contract).
 */
export async function searchGoldensAfter(
  db: Queryable,
  referential: string,
  query: { form: string; after: SearchAfter | undefined; limit: number },
): Promise<Array<{ id: string; sim: number; blockingText: string }>> {
  const { form, after, limit } = query;
  const { rows } = await db.query<{ id: string; sim: number; blocking_text: string }>(
    `WITH later_names AS (
       SELECT n.blocking_text, word_similarity($2, n.blocking_text) AS sim FROM ref_search_names n
        WHERE n.referential = $1 AND $2 <% n.blocking_text
          AND ($3::text IS NULL OR word_similarity($2, n.blocking_text) < word_similarity($2, $3)
               OR (word_similarity($2, n.blocking_text) = word_similarity($2, $3) AND n.blocking_text > $3))
          AND EXISTS (SELECT 1 FROM ref_golden e WHERE e.referential = $1 AND e.blocking_text = n.blocking_text AND e.status = 'active')
        ORDER BY sim DESC, n.blocking_text LIMIT $5
     )
     SELECT id, sim, blocking_text FROM (
       SELECT g.id, n.sim, n.blocking_text FROM later_names n
        CROSS JOIN LATERAL (
          SELECT g.id FROM ref_golden g WHERE g.referential = $1 AND g.blocking_text = n.blocking_text AND g.status = 'active' ORDER BY g.id LIMIT $5
        ) g
       UNION ALL
       (SELECT g.id, word_similarity($2, $3) AS sim, g.blocking_text FROM ref_golden g
         WHERE $3::text IS NOT NULL AND g.referential = $1 AND g.blocking_text = $3 AND g.status = 'active' AND g.id > $4
         ORDER BY g.id LIMIT $5)
     ) page
     ORDER BY sim DESC, blocking_text, id LIMIT $5`,
    [referential, form, after?.blockingText ?? null, after?.id ?? null, limit],
  );
  return rows.map((r) => ({ id: r.id, sim: Number(r.sim), blockingText: r.blocking_text }));
}
