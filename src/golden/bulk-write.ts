// Bulk contributions, third step: a decided round written set-based in the caller's transaction (source records, new
// golden records in their final form, links, recomputed records, review items, the engine's merges), and the rows
// that take the single-row path. See bulk.ts.
import type { Queryable } from '../storage/db.ts';
import { bridgeReason, contributeIn, tieReason } from './engine.ts';
import { autoMergeIn } from './stewardship.ts';
import type { ContributionDecision } from './engine-types.ts';
import type { ReferentialModule } from './module.ts';
import { computeFromSources, newGolden, type NewGolden } from './compute.ts';
import { insertGoldens, refreshGoldens, type RefreshItem } from './store.ts';
import { writeNumberedChanges, type ChangeEvent } from './changes.ts';
import { jsonArrayBytes, jsonArrayParam } from './json-rows.ts';
import type { BulkOutcome, Prepared } from './bulk-prepare.ts';
import { endOfChain, type DecidedRound, type FreshDecisions, type Ok } from './bulk-decide.ts';

/** Writes a decided round in the caller's transaction (which holds the referential's lock); outcomes by position. */
export async function writeRound(tx: Queryable, module: ReferentialModule, decided: DecidedRound): Promise<Map<number, BulkOutcome>> {
  const outcomes = new Map(decided.outcomes);
  const ok: Ok = (p, goldenId, decision, warnings) => {
    outcomes.set(p.at, { line: p.row.line, sourceSystem: p.row.sourceSystem, sourceId: p.row.sourceId, ok: true, goldenId, decision, warnings: [...p.warnings, ...warnings] });
  };
  if (decided.fresh) await writeFresh(tx, module, decided.fresh, decided.receivedAt, ok);
  for (const p of decided.again) {
    const r = await contributeIn(tx, module, { sourceSystem: p.row.sourceSystem, sourceId: p.row.sourceId, attributes: p.attributes, receivedAt: decided.receivedAt }, p.attributes, p.keys, true);
    ok(p, r.goldenId, r.decision, r.warnings);
  }
  return outcomes;
}

/** Writes what decideFresh decided, set-based, in the caller's transaction. */
async function writeFresh(tx: Queryable, module: ReferentialModule, decided: FreshDecisions, receivedAt: Date, ok: Ok): Promise<void> {
  const referential = module.name;
  const { fresh, newGoldens, links, reviews, decisions, ties } = decided;
  // 5. Writes: source records (their first versions: nothing to keep in ref_source_versions yet), new golden records in
  // their final form, links, the existing records that gained links recomputed, review items. Large parameters go as
  // one JSON document (parsed by the server).
  await tx.query(
    `INSERT INTO ref_source_records (referential, source_system, source_id, version, attributes, received_at, recorded_at)
     SELECT $1, sys, sid, 1, a, $3, now() FROM jsonb_to_recordset(${jsonArrayParam(2)}) AS u(sys text, sid text, a jsonb)`,
    [referential, jsonArrayBytes(fresh.map((p) => p.sourceRow)), receivedAt],
  );
  const fresher = new Set(newGoldens);
  const sourcesOf = new Map<string, Prepared[]>(newGoldens.map((id) => [id, []]));
  for (const l of links) sourcesOf.get(l.goldenId)?.push(l.p);
  const created = newGoldens.map((goldenId): NewGolden => {
    const rows = sourcesOf.get(goldenId) ?? [];
    const only = rows.length === 1 ? rows[0] : undefined;
    // One source (the common case): what was computed for matching is the record's profile and keys already.
    if (only) return { goldenId, keys: only.keys, blockingKeys: only.soloKeys, row: only.soloRow };
    const sourceRows = rows.map((p) => ({ system: p.row.sourceSystem, id: p.row.sourceId, version: 1, attributes: p.attributes, receivedAt }));
    return newGolden(goldenId, computeFromSources(module, sourceRows.sort((a, b) => (a.system < b.system ? -1 : a.system > b.system ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))));
  });
  // The golden records before the links that reference them.
  const changes: ChangeEvent[] = [];
  const refreshed = await insertGoldens(tx, module, created, 'contribution', { changes });
  await tx.query(
    `INSERT INTO ref_links (referential, source_system, source_id, golden_id, how, detail, at)
     SELECT $1, sys, sid, g, how, d, clock_timestamp() FROM jsonb_to_recordset($2::jsonb) AS u(sys text, sid text, g text, how text, d jsonb)`,
    [referential, JSON.stringify(links.map((l) => ({ sys: l.p.row.sourceSystem, sid: l.p.row.sourceId, g: l.goldenId, how: l.how, d: l.detail })))],
  );
  const linkedToExisting: RefreshItem[] = [...new Set(links.map((l) => l.goldenId))].filter((id) => !fresher.has(id)).map((goldenId) => ({ goldenId, force: true }));
  for (const [id, outcome] of await refreshGoldens(tx, module, linkedToExisting, 'contribution', { changes })) refreshed.set(id, outcome);
  if (reviews.length > 0) {
    await tx.query(
      `INSERT INTO ref_review_items (referential, source_system, source_id, golden_id, candidates)
       SELECT $1, sys, sid, g, c FROM ROWS FROM (json_to_recordset($2::json) AS (sys text, sid text, g text, c jsonb)) WITH ORDINALITY AS u(sys, sid, g, c, ord) ORDER BY ord`,
      [referential, JSON.stringify(reviews.map((r) => ({ sys: r.p.row.sourceSystem, sid: r.p.row.sourceId, g: r.goldenId, c: r.candidates })))],
    );
  }
  // The new and refreshed records' changes, numbered as they are written, above any the transaction wrote before them
  // (an earlier round's, in a sync job). The ties' merges below and the rows then taken one by one record theirs
  // unnumbered, numbered after (at commit, or by the next round), so above these: changes keep the order they were
  // written in.
  await writeNumberedChanges(tx, referential, changes);
  // 6. Records tied by a row (its key or its score names one, its score another): the engine merges them, as a single
  // contribution would.
  const survivorOf = new Map<string, string>();
  const current = (id: string): string => endOfChain(survivorOf, id);
  for (const t of ties) {
    const survivorId = current(t.survivorId);
    const mergedId = current(t.mergedId);
    const source = { sourceSystem: t.p.row.sourceSystem, sourceId: t.p.row.sourceId };
    const merged = await autoMergeIn(tx, module, survivorId, mergedId, 'key' in t ? tieReason(source, t.key, t.score) : bridgeReason(source, t.linkScore, t.score));
    if (merged) survivorOf.set(mergedId, survivorId);
  }

  // A warning about the record (a key held by another) goes with the last row that touched it.
  const lastRowOf = new Map(links.map((l) => [l.goldenId, l.p.at]));
  for (const p of fresh) {
    const d = decisions.get(p.at) as { goldenId: string; decision: ContributionDecision };
    ok(p, current(d.goldenId), d.decision, lastRowOf.get(d.goldenId) === p.at ? (refreshed.get(d.goldenId)?.warnings ?? []) : []);
  }
}
