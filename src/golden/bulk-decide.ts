// Bulk contributions, second step: a round's rows decided against what the database holds (and what the round
// before it carries), as one-by-one contributions in order would decide them; nothing written. See bulk.ts.
import { linkCandidate, reviewProposals, reviewReason } from './tie.ts';
import { goldenRecordId } from './ids.ts';
import type { Queryable } from '../storage/db.ts';
import { bridgedByScore, type Candidate } from './engine.ts';
import type { ContributionDecision } from './engine-types.ts';
import type { NaturalKey, ReferentialModule } from './module.ts';
import { selectByPairs } from './pairs.ts';
import { yieldToLoop, type BulkOutcome, type Prepared } from './bulk-prepare.ts';
import { blockingKeyHash } from './keys.ts';

const keyId = (k: NaturalKey): string => `${k.type}\u0000${k.value}`;

export type Ok = (p: Prepared, goldenId: string, decision: ContributionDecision, warnings: string[]) => void;

/** A candidate as matching sees it: a golden record and the fields to score against. */
export interface IndexEntry {
  goldenId: string;
  fields: Record<string, string | null>;
}

/**
 * What a decided round changes that the next round's decisions read, so that the next round can decide while this
 * one is being written (bulk-pipeline.ts): its source records, the natural keys as it leaves them, and its rows'
 * blocking-key entries (each row under the record it went to, as the round's later rows see it).
 */
export interface RoundCarry {
  sources: ReadonlySet<string>;
  keyOwner: ReadonlyMap<string, string>;
  index: ReadonlyMap<string, readonly IndexEntry[]>;
  /**
   * The records this round's writes merge into another (its ties: merged id → survivor id). The next round reads
   * them as their survivors. (A tie a steward's "distinct" refuses leaves both; the next round then links to the
   * survivor what it would have linked to the other: a different decision, never a link to a merged record.)
   */
  merged: ReadonlyMap<string, string>;
  /**
   * Natural-key types this round gives records (its rows' keys, and a merged record's keys to its survivor): with what
   * the database holds, the next round knows which records hold a CIN before this one commits (a record linked by
   * score never merges two records that each hold one).
   */
  keyed: ReadonlyMap<string, ReadonlySet<string>>;
  /** Whether the next round may decide before this one commits: not when this round takes rows one by one. */
  complete: boolean;
}

/** A round decided and not yet written: what writeRound writes. */
export interface DecidedRound {
  receivedAt: Date;
  outcomes: Map<number, BulkOutcome>;
  fresh: FreshDecisions | undefined;
  again: Prepared[];
  carry: RoundCarry;
}

export interface FreshDecisions {
  fresh: readonly Prepared[];
  newGoldens: string[];
  links: Array<{ p: Prepared; goldenId: string; how: 'new' | 'identifier' | 'score'; detail: Record<string, unknown> }>;
  reviews: Array<{ p: Prepared; goldenId: string; candidates: Candidate[] }>;
  decisions: Map<number, { goldenId: string; decision: ContributionDecision }>;
  ties: Tie[];
}

/**
 * Two records a row ties, merged by the engine when the round is written: the row's natural key names the survivor,
 * or (`linkScore`) the row was linked to it by score (docs/decisions.md §27); the row scores `score` against the other.
 */
export type Tie = { p: Prepared; survivorId: string; mergedId: string; score: number } & ({ key: NaturalKey } | { linkScore: number });

export const sourceKey = (system: string, id: string): string => `${system}\u0000${id}`;

/**
 * Reads what the round's decisions need through `reader` and decides every row, writing nothing. `previous`: the
 * carry of a round decided before this one and possibly not committed yet; what it describes overrides what the
 * reader returns (which may or may not include it), as if both rounds were one.
 */
export async function decideRound(reader: Queryable, module: ReferentialModule, items: readonly Prepared[], receivedAt: Date, previous?: RoundCarry): Promise<DecidedRound> {
  const referential = module.name;
  const outcomes = new Map<number, BulkOutcome>();
  const ok: Ok = (p, goldenId, decision, warnings) => {
    outcomes.set(p.at, { line: p.row.line, sourceSystem: p.row.sourceSystem, sourceId: p.row.sourceId, ok: true, goldenId, decision, warnings: [...p.warnings, ...warnings] });
  };
  if (previous && !previous.complete) throw new Error('a round cannot be decided before the previous one commits: it merged records or took rows one by one');
  if (previous && items.some((p) => previous.sources.has(sourceKey(p.row.sourceSystem, p.row.sourceId)))) {
    throw new Error('a round cannot be decided before the previous one commits: they share source records');
  }

  // 1. What the database already holds for these source ids: unchanged rows end here, changed ones go one by one.
  // Ids first (an initial load finds none and sends no attributes); attributes compared only for the ids found.
  // Keys as index conditions (selectByPairs), matched back here: the plan stays index probes at any table size.
  const stored = await selectByPairs<{ source_system: string; source_id: string }>(
    reader,
    'SELECT source_system, source_id FROM ref_source_records WHERE referential = $1',
    referential,
    'source_system',
    'source_id',
    items.map((p) => [p.row.sourceSystem, p.row.sourceId] as const),
  );
  const storedSet = new Set(stored.map((r) => sourceKey(r.source_system, r.source_id)));
  const found = items.flatMap((p, i) => (storedSet.has(sourceKey(p.row.sourceSystem, p.row.sourceId)) ? [{ i: i + 1 }] : []));
  const { rows: existing } =
    found.length === 0
      ? { rows: [] }
      : await reader.query<{ i: number; same: boolean; golden_id: string | null }>(
          `SELECT u.i::int AS i, s.attributes = u.a AS same, l.golden_id
             FROM ROWS FROM (json_to_recordset($2::json) AS (sys text, sid text, a jsonb, i int)) AS u(sys, sid, a, i)
             JOIN ref_source_records s ON s.referential = $1 AND s.source_system = u.sys AND s.source_id = u.sid AND s.source_id = ANY($3::text[])
             LEFT JOIN ref_links l ON l.referential = s.referential AND l.source_system = s.source_system AND l.source_id = s.source_id AND l.source_id = ANY($3::text[])`,
          [
            referential,
            JSON.stringify(found.map((f) => { const p = items[f.i - 1] as Prepared; return { sys: p.row.sourceSystem, sid: p.row.sourceId, a: p.attributes, i: f.i }; })),
            found.map((f) => (items[f.i - 1] as Prepared).row.sourceId),
          ],
        );
  const known = new Map(existing.map((e) => [e.i - 1, e]));
  const fresh: Prepared[] = [];
  const again: Prepared[] = [];
  items.forEach((p, i) => {
    const e = known.get(i);
    if (!e) fresh.push(p);
    else if (e.same && e.golden_id) ok(p, e.golden_id, 'unchanged', []);
    else again.push(p);
  });

  const decided = fresh.length > 0 ? await decideFresh(reader, module, fresh, previous) : undefined;
  return {
    receivedAt,
    outcomes,
    fresh: decided?.decisions,
    again,
    carry: {
      sources: new Set(items.map((p) => sourceKey(p.row.sourceSystem, p.row.sourceId))),
      keyOwner: decided?.keyOwner ?? new Map(previous?.keyOwner ?? []),
      index: decided?.index ?? new Map(previous?.index ?? []),
      merged: mergedBy(decided?.decisions.ties ?? []),
      keyed: decided?.keyed ?? new Map(),
      complete: again.length === 0,
    },
  };
}

/** Where a chain of merges (merged id → survivor id) ends for `id`: the record that holds it now. */
export function endOfChain(merged: ReadonlyMap<string, string> | undefined, id: string): string {
  let at = id;
  for (let next = merged?.get(at); next !== undefined; next = merged?.get(at)) at = next;
  return at;
}

/** The merges a round's ties make, chains followed to their end (as writeFresh's step 6 applies them). */
function mergedBy(ties: FreshDecisions['ties']): Map<string, string> {
  const merged = new Map<string, string>();
  for (const t of ties) {
    const survivor = endOfChain(merged, t.survivorId);
    const gone = endOfChain(merged, t.mergedId);
    if (gone !== survivor) merged.set(gone, survivor);
  }
  return merged;
}

/**
 * A row bearing a natural key no record holds (a CIN not seen yet) is a person of its own: a record that already holds
 * a key of that type (another CIN) is another person. contributeIn's score sees that through the record's own fields
 * (its CIN caps the score below review); here a candidate may have been scored through one of its rows without a CIN
 * (this chunk's or the previous round's), so the key types it holds are read, for the candidates that could link or
 * be reviewed only (a query at most per record, cached by the caller). Without it a chunk gave one record two CINs.
 */
async function withoutOtherKeyHolders(
  ranked: readonly Candidate[],
  keys: readonly NaturalKey[],
  keyTypes: (id: string) => Promise<Set<string>>,
  thresholds: { link: number; review: number } | undefined,
): Promise<Candidate[]> {
  if (keys.length === 0 || !thresholds) return [...ranked];
  const types = new Set(keys.map((k) => k.type));
  const out: Candidate[] = [];
  for (const c of ranked) {
    if (reviewReason(c, thresholds) !== undefined && [...(await keyTypes(c.goldenId))].some((t) => types.has(t))) continue;
    out.push(c);
  }
  return out;
}

/**
 * Rows whose source ids the referential has never seen: looked up and matched, set-based; nothing written.
 * Long on purpose (about 120 lines): its numbered phases (keys held, blocking candidates and their fields, decisions in
 * row order) share the maps they build, and the decisions must reproduce one-by-one contributions exactly; split into
 * functions, each phase would take and return half a dozen of those maps.
 */
async function decideFresh(
  tx: Queryable,
  module: ReferentialModule,
  fresh: readonly Prepared[],
  previous: RoundCarry | undefined,
): Promise<{ decisions: FreshDecisions; keyOwner: Map<string, string>; index: Map<string, IndexEntry[]>; keyed: Map<string, Set<string>> }> {
  const referential = module.name;

  // 2. and 3. Natural keys already held by active golden records; blocking-key candidates (rows settled by a stored key
  // are probed too: they may tie another record to theirs, an engine merge below), then the candidates' fields.
  const keyOwner = new Map<string, string>();
  const allKeys = fresh.flatMap((p) => p.keys);
  const probing = module.score ? fresh.filter((p) => p.profile && p.probe.length > 0) : [];
  // Only active records hold natural keys (a merged or retired one gives its keys up).
  const held = await selectByPairs<{ key_type: string; key_value: string; golden_id: string }>(
    tx,
    'SELECT key_type, key_value, golden_id FROM ref_natural_keys WHERE referential = $1',
    referential,
    'key_type',
    'key_value',
    allKeys.map((k) => [k.type, k.value] as const),
  );
  const probeKeys = [...new Set(probing.flatMap((p) => p.probe))];
  // One index probe a key (the planner takes the list for a hundred rows: a nested loop), and the candidates' fields
  // in the same statement: a record is under one probed key of a chunk in 97 % of cases, so the join repeats few fields,
  // where a second statement sent back the 20,000 ids of a chunk's candidates. Each row names its key by its place in
  // the list, not by its text. Only active records are candidates, as before.
  const { rows: bucketRows } =
    probeKeys.length === 0
      ? { rows: [] }
      : await tx.query<{ k: number; id: string; match_fields: Record<string, string | null> | null }>(
          `SELECT u.ord::int AS k, g.id, g.match_fields FROM json_array_elements_text($2::json) WITH ORDINALITY AS u(key, ord)
             JOIN ref_blocking_keys b ON b.key_hash = ${blockingKeyHash('$1', 'u.key')}
             JOIN ref_golden g ON g.id = b.golden_id AND g.status = 'active'`,
          [referential, JSON.stringify(probeKeys)],
        );
  const buckets = new Map<string, string[]>();
  const candidateFields = new Map<string, Record<string, string | null>>();
  for (const r of bucketRows) {
    const key = probeKeys[r.k - 1] as string;
    const list = buckets.get(key);
    if (list) list.push(r.id);
    else buckets.set(key, [r.id]);
    candidateFields.set(r.id, r.match_fields ?? {});
  }
  // A record the previous round merges is read as its survivor.
  const survivor = (id: string): string => endOfChain(previous?.merged, id);
  for (const r of held) keyOwner.set(keyId({ type: r.key_type, value: r.key_value }), survivor(r.golden_id));
  // The previous round's keys (it writes them; an owner changes only by a merge, read through survivor()).
  if (previous) {
    for (const k of allKeys) {
      const owner = previous.keyOwner.get(keyId(k));
      if (owner !== undefined) keyOwner.set(keyId(k), survivor(owner));
    }
  }
  const dbCandidates = new Map<number, string[]>();
  for (const p of probing) {
    const ids = new Set(p.probe.flatMap((k) => buckets.get(k) ?? []));
    if (ids.size > 0) dbCandidates.set(p.at, [...ids]);
  }

  // 4. Decisions in row order, as one-by-one contributions would make them; earlier rows of the chunk are candidates too.
  const chunkIndex = new Map<string, IndexEntry[]>();
  const newGoldens: string[] = [];
  const links: Array<{ p: Prepared; goldenId: string; how: 'new' | 'identifier' | 'score'; detail: Record<string, unknown> }> = [];
  const reviews: Array<{ p: Prepared; goldenId: string; candidates: Candidate[] }> = [];
  const decisions = new Map<number, { goldenId: string; decision: ContributionDecision }>();
  const { score, thresholds } = module;
  const ties: Tie[] = [];
  // The round's merges (its ties), applied to the rows after them as one-by-one contributions would see them: one
  // record, scored by its best source (the evaluator's clusters). A tie the write refuses (a pair a steward declared
  // distinct) leaves both records; the rows after it went to the survivor (see RoundCarry.merged).
  const mergedHere = new Map<string, string>();
  const root = (id: string): string => endOfChain(mergedHere, survivor(id));
  // Natural-key types held, read only for the records a row would merge through its score (rare): what the database
  // holds (none for this round's new records), what the previous round gives, what this round gives.
  const created = new Set<string>();
  const gained = new Map<string, Set<string>>();
  const storedTypes = new Map<string, readonly string[]>();
  const gain = (id: string, types: Iterable<string>): void => {
    const set = gained.get(id) ?? new Set<string>();
    for (const t of types) set.add(t);
    if (set.size > 0) gained.set(id, set);
  };
  const keyTypes = async (id: string): Promise<Set<string>> => {
    let stored = storedTypes.get(id);
    if (stored === undefined) {
      stored = created.has(id)
        ? []
        : (await tx.query<{ key_type: string }>('SELECT DISTINCT key_type FROM ref_natural_keys WHERE referential = $1 AND golden_id = $2', [referential, id])).rows.map((r) => r.key_type);
      storedTypes.set(id, stored);
    }
    return new Set([...stored, ...(previous?.keyed.get(id) ?? []), ...(gained.get(id) ?? [])]);
  };
  const mergeHere = async (survivorId: string, mergedId: string): Promise<void> => {
    mergedHere.set(mergedId, survivorId);
    gain(survivorId, await keyTypes(mergedId));
  };
  for (let i = 0; i < fresh.length; i++) {
    // Rows are scored in slices: see prepareBulkSliced (this chunk is decided while the previous one is written).
    if (i > 0 && i % 250 === 0) await yieldToLoop();
    const p = fresh[i] as Prepared;
    const scored = new Map<string, Candidate>();
    const consider = (id: string, fields: Record<string, string | null>): void => {
      if (!score || !p.profile) return;
      const s = score(p.profile.fields, fields);
      const seen = scored.get(id);
      if (!seen || s.score > seen.score) scored.set(id, { goldenId: id, ...s });
    };
    for (const id of dbCandidates.get(p.at) ?? []) {
      const fields = candidateFields.get(id);
      if (fields) consider(root(id), fields);
    }
    for (const k of p.probe) {
      for (const e of previous?.index.get(k) ?? []) consider(root(e.goldenId), e.fields);
      for (const e of chunkIndex.get(k) ?? []) consider(root(e.goldenId), e.fields);
    }
    const hit = p.keys.find((k) => keyOwner.has(keyId(k)));
    const keyGolden = hit ? root(keyOwner.get(keyId(hit)) as string) : undefined;
    const ranked = [...scored.values()]
      .filter((c) => c.goldenId !== keyGolden)
      .sort((a, b) => b.score - a.score || (a.goldenId < b.goldenId ? -1 : 1))
      .slice(0, 20);
    const candidates = hit ? ranked : await withoutOtherKeyHolders(ranked, p.keys, keyTypes, thresholds);
    const best = candidates[0];
    const linkTo = linkCandidate(candidates, thresholds?.link);
    let goldenId: string;
    let decision: ContributionDecision;
    if (hit && keyGolden) {
      goldenId = keyGolden;
      decision = 'linked-identifier';
      links.push({ p, goldenId, how: 'identifier', detail: { key: hit } });
      if (best && thresholds && best.score >= thresholds.link) {
        ties.push({ p, survivorId: goldenId, mergedId: best.goldenId, key: hit, score: best.score });
        await mergeHere(goldenId, best.goldenId);
      }
    } else if (linkTo) {
      goldenId = linkTo.goldenId;
      decision = 'linked-score';
      links.push({ p, goldenId, how: 'score', detail: { score: linkTo.score, weights: linkTo.weights } });
      // A second record the row also scores at link against is merged in (§27), as contributeIn's step 2 does, unless
      // both hold a natural key of one type (autoMergeIn refuses it too: decided here, the next round reads it right).
      const other = bridgedByScore(candidates, thresholds?.link);
      if (other) {
        gain(goldenId, p.keys.map((k) => k.type));
        const [mine, theirs] = [await keyTypes(goldenId), await keyTypes(other.goldenId)];
        if (![...mine].some((t) => theirs.has(t))) {
          ties.push({ p, survivorId: goldenId, mergedId: other.goldenId, linkScore: linkTo.score, score: other.score });
          await mergeHere(goldenId, other.goldenId);
        }
      }
    } else {
      goldenId = goldenRecordId();
      newGoldens.push(goldenId);
      links.push({ p, goldenId, how: 'new', detail: {} });
      const proposed = reviewProposals(candidates, thresholds);
      decision = proposed.length > 0 ? 'review' : 'created';
      if (proposed.length > 0) reviews.push({ p, goldenId, candidates: proposed });
    }
    decisions.set(p.at, { goldenId, decision });
    if (decision === 'created' || decision === 'review') created.add(goldenId);
    gain(goldenId, p.keys.map((k) => k.type));
    for (const k of p.keys) if (!keyOwner.has(keyId(k))) keyOwner.set(keyId(k), goldenId);
    if (p.profile) {
      const entry = { goldenId, fields: p.profile.fields };
      for (const k of p.indexKeys) {
        const list = chunkIndex.get(k);
        if (list) list.push(entry);
        else chunkIndex.set(k, [entry]);
      }
    }
  }

  return { decisions: { fresh, newGoldens, links, reviews, decisions, ties }, keyOwner, index: chunkIndex, keyed: gained };
}
