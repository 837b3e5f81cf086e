// Merge through score (issue 18, docs/decisions.md §27) on both drivers and on every contribution path (single,
// bulk a chunk a row, bulk one chunk): a source linked by score that also scores at link against a second record
// merges that record in, as the in-memory evaluator (referentials/persons/evaluate.ts) measures it; never two records
// holding different CINs, never a pair a steward declared distinct; the merge says why and can be undone.
import { describe, expect, it } from 'vitest';
import { contributeBulk } from '../src/golden/bulk.ts';
import type { BulkRow } from '../src/golden/bulk-prepare.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { getGolden } from '../src/golden/reads.ts';
import { markDistinct, matchingActor, unmerge } from '../src/golden/stewardship.ts';
import { personsModule } from '../referentials/index.ts';
import { matchPersons, pairwiseQuality } from '../referentials/persons/evaluate.ts';
import { drivers, referentialsDbPerBlock, type TestDb } from './helpers/db.ts';
import { generatedPersons } from './helpers/generated.ts';

const persons = personsModule as unknown as ReferentialModule;

const names = { firstNameLatin: 'Iman', lastNameLatin: 'El Gharbi', sex: 'F' };
const home = { addressCommune: '05.255.05.05', address: '248 rue de fes' };
/** A CIN and a birth date; a namesake's address (with a CIN of her own or not); then a source with both, no CIN. */
const sources = (secondCin?: string): BulkRow[] => [
  { line: 1, sourceSystem: 'civil-registry', sourceId: 'cr-1', attributes: { ...names, cin: 'G575444', birthDate: '1944-06-02' } },
  { line: 2, sourceSystem: 'cnss', sourceId: 'cn-2', attributes: { ...names, ...home, ...(secondCin ? { cin: secondCin } : {}) } },
  { line: 3, sourceSystem: 'marroute', sourceId: 'm-3', attributes: { ...names, ...home, birthDate: '1944-06-02' } },
];

type Path = 'single' | 'bulk, a chunk a row' | 'bulk, one chunk';
const paths: Path[] = ['single', 'bulk, a chunk a row', 'bulk, one chunk'];

/** Contributes the rows by `path`; the golden id each row went to (as its contribution answered). */
async function put(t: TestDb, path: Path, rows: readonly BulkRow[]): Promise<string[]> {
  if (path === 'bulk, one chunk') return (await contributeBulk(t.db, persons, rows)).map((o) => (o.ok ? o.goldenId : 'refused'));
  const ids: string[] = [];
  for (const row of rows) {
    if (path === 'single') ids.push((await contribute(t.db, persons, row)).goldenId);
    else ids.push((await contributeBulk(t.db, persons, [row])).map((o) => (o.ok ? o.goldenId : 'refused'))[0] ?? 'none');
  }
  return ids;
}

async function goldenOf(t: TestDb, row: BulkRow): Promise<string> {
  const { rows } = await t.db.query<{ golden_id: string }>('SELECT golden_id FROM ref_links WHERE source_system = $1 AND source_id = $2', [row.sourceSystem, row.sourceId]);
  return rows[0]?.golden_id ?? 'unlinked';
}

describe('the evaluator and the engine decide these sources alike', () => {
  it('the evaluator merges the two records through the third source, and not when each holds a CIN', () => {
    expect(matchPersons(sources()).clusters).toEqual([0, 0, 0]);
    const withCins = matchPersons(sources('Z999001')).clusters;
    expect(withCins[0]).not.toBe(withCins[1]);
  });
});

describe.each(drivers())('merge through score on %s', (driver) => {
  let t!: TestDb;
  referentialsDbPerBlock(driver, (db) => (t = db));

  for (const path of paths) {
    it(`${path}: the second record the source reaches at link is merged into the one it links to, saying why, undoably`, async () => {
      const rows = sources();
      const answered = await put(t, path, rows);
      const [first, second, third] = await Promise.all(rows.map((r) => goldenOf(t, r)));
      // One active record holds all three sources; the contribution answered that record.
      expect(first).toBe(second);
      expect(third).toBe(first);
      expect(answered[2]).toBe(first);
      const { rows: goldens } = await t.db.query<{ id: string; status: string; merged_into: string | null }>('SELECT id, status, merged_into FROM ref_golden ORDER BY status');
      expect(goldens.map((g) => g.status)).toEqual(['active', 'merged']);
      const survivor = goldens[0] as (typeof goldens)[number];
      const merged = goldens[1] as (typeof goldens)[number];
      expect(merged.merged_into).toBe(survivor.id);
      expect(await getGolden(t.db, 'persons', merged.id)).toMatchObject({ status: 'merged', survivorId: survivor.id });
      // Why: the engine's merge decision names the source and its two scores; the history and the change feed show the merge.
      const { rows: decisions } = await t.db.query<{ id: string; actor: string; reason: string; detail: { survivorId: string; mergedId: string } }>(
        "SELECT id, actor, reason, detail FROM ref_steward_decisions WHERE kind = 'merge'",
      );
      expect(decisions).toHaveLength(1);
      const decision = decisions[0] as (typeof decisions)[number];
      expect(decision).toMatchObject({ actor: matchingActor, detail: { survivorId: survivor.id, mergedId: merged.id } });
      expect(decision.reason).toMatch(/^source marroute m-3 was linked to this record by a score of [\d.]+ and scores [\d.]+ against the merged record/);
      const { rows: history } = await t.db.query<{ status: string; merged_into: string; cause: string }>(
        'SELECT status, merged_into, cause FROM ref_golden_history WHERE golden_id = $1 ORDER BY seq DESC LIMIT 1',
        [merged.id],
      );
      expect(history[0]).toEqual({ status: 'merged', merged_into: survivor.id, cause: 'merge' });
      const { rows: events } = await t.db.query<{ payload: { mergedInto?: string } }>("SELECT payload FROM ref_changes WHERE golden_id = $1 AND type = 'golden.merged'", [merged.id]);
      expect(events.map((e) => e.payload.mergedInto)).toEqual([survivor.id]);
      const { rows: moved } = await t.db.query<{ detail: { mergeDecision?: string } }>("SELECT detail FROM ref_links WHERE how = 'steward'");
      expect(moved.length).toBeGreaterThan(0);
      for (const l of moved) expect(l.detail.mergeDecision).toBe(decision.id);
      await unmerge(t.db, persons, { mergeDecisionId: decision.id, actor: 'steward-1', reason: 'checked: two people' });
      expect((await getGolden(t.db, 'persons', merged.id))?.status).toBe('active');
    });

    it(`${path}: never merges two records that each hold a CIN (the source links to one only)`, async () => {
      const rows = sources('Z999001');
      await put(t, path, rows);
      const [first, second, third] = await Promise.all(rows.map((r) => goldenOf(t, r)));
      expect(first).not.toBe(second);
      expect([first, second]).toContain(third);
      const { rows: merges } = await t.db.query("SELECT 1 FROM ref_steward_decisions WHERE kind = 'merge'");
      expect(merges).toHaveLength(0);
      const { rows: active } = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ref_golden WHERE status = 'active'");
      expect(active[0]?.n).toBe(2);
    });
  }

  for (const path of ['single', 'bulk, a chunk a row'] as const) {
    it(`${path}: never merges two records a steward declared distinct`, async () => {
      const rows = sources();
      await put(t, path, rows.slice(0, 2));
      const a = await goldenOf(t, rows[0] as BulkRow);
      const b = await goldenOf(t, rows[1] as BulkRow);
      expect(a).not.toBe(b);
      await markDistinct(t.db, 'persons', { a, b, actor: 'steward-1', reason: 'two women of one name' });
      await put(t, path, rows.slice(2));
      expect([a, b]).toContain(await goldenOf(t, rows[2] as BulkRow));
      const { rows: statuses } = await t.db.query<{ status: string }>('SELECT status FROM ref_golden WHERE id = ANY($1::text[])', [[a, b]]);
      expect(statuses.map((s) => s.status)).toEqual(['active', 'active']);
      const { rows: merges } = await t.db.query("SELECT 1 FROM ref_steward_decisions WHERE kind = 'merge'");
      expect(merges).toHaveLength(0);
    });
  }

  it('bulk, one chunk: a row after the merge sees one record (links to it, no tie, no second merge)', async () => {
    const rows = sources();
    const after: BulkRow = { line: 4, sourceSystem: 'dgsn', sourceId: 'd-4', attributes: { ...names, ...home, birthDate: '1944-06-02' } };
    const outcomes = await contributeBulk(t.db, persons, [...rows, after]);
    expect(outcomes[3]).toMatchObject({ ok: true, decision: 'linked-score' });
    const ids = await Promise.all([...rows, after].map((r) => goldenOf(t, r)));
    expect(new Set(ids).size).toBe(1);
    const { rows: merges } = await t.db.query("SELECT 1 FROM ref_steward_decisions WHERE kind = 'merge'");
    expect(merges).toHaveLength(1);
  });

  for (const path of ['bulk', 'single'] as const) it(`on generated persons the engine (${path}) and the evaluator make the same clusters, merges through score included`, { timeout: 300_000 }, async () => {
    const { rows } = generatedPersons(17, 600);
    if (path === 'bulk') for (let i = 0; i < rows.length; i += 500) await contributeBulk(t.db, persons, rows.slice(i, i + 500));
    else for (const row of rows) await contribute(t.db, persons, row, { assignPositions: false });
    const { rows: links } = await t.db.query<{ source_system: string; source_id: string; golden_id: string }>('SELECT source_system, source_id, golden_id FROM ref_links');
    const goldenOfSource = new Map(links.map((l) => [`${l.source_system}|${l.source_id}`, l.golden_id]));
    const ids = new Map<string, number>();
    const engine = rows.map((r) => {
      const g = goldenOfSource.get(`${r.sourceSystem}|${r.sourceId}`) ?? `unlinked-${r.line}`;
      if (!ids.has(g)) ids.set(g, ids.size);
      return ids.get(g) as number;
    });
    const run = matchPersons(rows);
    // The evaluator's clusters as the truth of the engine's: every pair one groups, the other groups too.
    const agreement = pairwiseQuality(engine, run.clusters.map(String));
    const { rows: merges } = await t.db.query<{ reason: string }>("SELECT reason FROM ref_steward_decisions WHERE kind = 'merge' AND actor = $1", [matchingActor]);
    const throughScore = merges.filter((m) => m.reason.includes('was linked to this record by a score')).length;
    console.log(`${driver}, ${path}: engine vs evaluator on ${rows.length} rows: ${agreement.correctPairs} pairs in common, ${agreement.predictedPairs} engine, ${agreement.truePairs} evaluator; engine merges ${merges.length} (${throughScore} through score), evaluator ${run.bridged}`);
    expect(throughScore).toBeGreaterThan(0);
    expect(agreement.predictedPairs).toBe(agreement.truePairs);
    expect(agreement.correctPairs).toBe(agreement.truePairs);
  });
});

/**
 * A CIN; the same person without one (a score link); a namesake born the same day with a CIN of her own. `n` keeps each
 * path's rows (source ids, CINs) apart in the block's one database.
 */
const secondCin = (n: number): BulkRow[] => {
  const zineb = { firstNameLatin: 'Zineb', lastNameLatin: 'Akhannouch', sex: 'F', birthDate: '1958-08-18' };
  return [
    { line: 1, sourceSystem: 'civil-registry', sourceId: `cr-k1-${n}`, attributes: { ...zineb, cin: `K${n}00001` } },
    { line: 2, sourceSystem: 'btp', sourceId: `b-k2-${n}`, attributes: { ...zineb } },
    { line: 3, sourceSystem: 'marroute', sourceId: `m-k3-${n}`, attributes: { ...zineb, cin: `K${n}00002` } },
  ];
};

describe.each(drivers())('a record never holds two CINs, whatever the path, on %s', (driver) => {
  let t!: TestDb;
  referentialsDbPerBlock(driver, (db) => (t = db));

  it('the evaluator keeps the namesake with her own CIN apart', () => {
    expect(matchPersons(secondCin(9)).clusters).toEqual([0, 0, 2]);
  });

  for (const path of paths) {
    it(`${path}: a row with a CIN of its own is not linked to a record holding another, even through that record's row without a CIN`, async () => {
      const ids = await put(t, path, secondCin(paths.indexOf(path) + 1));
      expect(ids[1]).toBe(ids[0]);
      expect(ids[2]).not.toBe(ids[0]);
      const { rows } = await t.db.query<{ golden_id: string; n: number }>(
        `SELECT n.golden_id, count(DISTINCT n.key_value)::int AS n FROM ref_natural_keys n JOIN ref_golden g ON g.id = n.golden_id AND g.status = 'active'
          WHERE n.referential = 'persons' AND n.key_type = 'cin' GROUP BY n.golden_id HAVING count(DISTINCT n.key_value) > 1`,
      );
      expect(rows).toEqual([]);
    });
  }
});
