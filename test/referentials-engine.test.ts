// The golden-record engine on both drivers: matching, survivorship (invariant 1), asOf, merge/unmerge (invariant 2),
// distinct pairs (invariant 3), idempotency (invariant 5), reads and resolveMany.
import { describe, expect, it } from 'vitest';
import { ContributionRefusedError, StewardshipError, contribute, survive } from '../src/golden/engine.ts';
import { plainValues, surviveOneJson } from '../src/golden/engine-survivorship.ts';
import { computeGolden } from '../src/golden/compute.ts';
import { findByNaturalKey, findBySource, getGolden, resolveMany, sourceRefs } from '../src/golden/reads.ts';
import { decideReview, markDistinct, merge, reviewQueue, unmerge } from '../src/golden/stewardship.ts';
import type { Queryable } from '../src/storage/db.ts';
import type { FieldProblem, MatchProfile, ReferentialModule } from '../src/golden/module.ts';

interface Person extends Record<string, unknown> {
  name: string;
  birthDate: string | null;
  commune: string | null;
  cin: string | null;
}

const fold = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9 ]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

const optionalString = (v: unknown, location: string, problems: FieldProblem[], pattern?: RegExp): string | null => {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || (pattern && !pattern.test(v))) {
    problems.push({ location, message: 'invalid' });
    return null;
  }
  return v;
};

const persons: ReferentialModule<Person> = {
  name: 'persons-test',
  normalise(input) {
    const problems: FieldProblem[] = [];
    const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
    if (typeof body.name !== 'string' || body.name.trim() === '') problems.push({ location: 'body.name', message: 'required' });
    const birthDate = optionalString(body.birthDate, 'body.birthDate', problems, /^\d{4}-\d{2}-\d{2}$/);
    const commune = optionalString(body.commune, 'body.commune', problems);
    const cin = optionalString(body.cin, 'body.cin', problems, /^[A-Za-z]{1,2}\d{1,6}$/);
    if (problems.length > 0) return { ok: false, problems };
    return { ok: true, attributes: { name: String(body.name).trim(), birthDate, commune, cin: cin?.toUpperCase() ?? null }, warnings: [] };
  },
  naturalKeys: (p) => (p.cin ? [{ type: 'cin', value: p.cin }] : []),
  matchProfile: (p): MatchProfile => ({ blockingText: fold(p.name), fields: { name: fold(p.name), birthDate: p.birthDate, commune: p.commune } }),
  // Found under each word of the name: enough for this module's score, which needs the same name to link.
  blockingKeys: (p) => {
    const words = [...new Set(fold(p.name).split(' ').filter(Boolean))];
    return { index: words, probe: words };
  },
  score(a, b) {
    const weights: Record<string, number> = {};
    weights.name = a.name && b.name ? (a.name === b.name ? 4 : -2) : 0;
    // Missing values are neutral; different birth dates outweigh any name agreement (invariant 6).
    weights.birthDate = a.birthDate && b.birthDate ? (a.birthDate === b.birthDate ? 5 : -6) : 0;
    weights.commune = a.commune && b.commune ? (a.commune === b.commune ? 1 : -1) : 0;
    return { score: Object.values(weights).reduce((x, y) => x + y, 0), weights };
  },
  thresholds: { link: 8, review: 3 },
  trust: { default: ['civil-registry', 'btp', 'marroute'] },
};

import { blockingKeyRows, drivers, goldenRowsWithoutHistory, referentialsDbPerBlock, type TestDb } from './helpers/db.ts';

const at = (iso: string) => new Date(iso);
const P = (name: string, extra: Partial<Person> = {}) => ({ name, birthDate: null, commune: null, cin: null, ...extra });

describe('survivorship (pure)', () => {
  const trust = persons.trust;
  it('takes the most trusted source with a value, then the most recent, whatever the input order', () => {
    const sources = [
      { system: 'marroute', id: 'm1', attributes: { name: 'Zineb M', commune: 'Fès' }, receivedAt: at('2026-03-01T00:00:00Z') },
      { system: 'btp', id: 'b1', attributes: { name: 'Zineb B', commune: null }, receivedAt: at('2026-01-01T00:00:00Z') },
      { system: 'btp', id: 'b2', attributes: { name: 'Zineb B2', commune: null }, receivedAt: at('2026-02-01T00:00:00Z') },
      { system: 'unknown', id: 'u1', attributes: { name: 'Zineb U', birthDate: '1990-01-01' }, receivedAt: at('2026-04-01T00:00:00Z') },
    ];
    const golden = survive(sources, trust);
    expect(golden.name).toEqual({ value: 'Zineb B2', source: { system: 'btp', id: 'b2' }, at: '2026-02-01T00:00:00.000Z' });
    expect(golden.commune?.source).toEqual({ system: 'marroute', id: 'm1' });
    expect(golden.birthDate?.source).toEqual({ system: 'unknown', id: 'u1' });
    expect(survive([...sources].reverse(), trust)).toEqual(golden);
    expect(JSON.stringify(survive([...sources].reverse(), trust))).toBe(JSON.stringify(golden));
  });
  it('per-attribute trust overrides the default order', () => {
    const sources = [
      { system: 'civil-registry', id: 'c', attributes: { commune: 'Rabat' }, receivedAt: at('2026-01-01T00:00:00Z') },
      { system: 'marroute', id: 'm', attributes: { commune: 'Salé' }, receivedAt: at('2026-01-01T00:00:00Z') },
    ];
    expect(survive(sources, { default: trust.default, attributes: { commune: ['marroute'] } }).commune?.value).toBe('Salé');
  });
  it('one source: surviveOneJson is the JSON text of survive and of its plain values (empty values left out, keys sorted, nested values)', () => {
    const source = {
      system: 'marroute',
      id: 'm-"1"',
      attributes: { zeta: 'z', name: 'Zineb "Z" \\ ع', empty: '', none: null, gone: undefined, owner: { kind: 'person', ids: [1, 2] }, count: 0, flag: false },
      receivedAt: at('2026-03-01T10:20:30.456Z'),
    };
    const golden = survive([source], trust);
    expect(surviveOneJson(source)).toEqual({ attributes: JSON.stringify(golden), values: JSON.stringify(plainValues(golden)) });
    expect(Object.keys(JSON.parse(surviveOneJson(source).values) as object)).toEqual(['count', 'flag', 'name', 'owner', 'zeta']);
    expect(surviveOneJson({ ...source, attributes: {} })).toEqual({ attributes: '{}', values: '{}' });
  });
});

describe.each(drivers())('golden-record engine on %s', (driver) => {
  let t!: TestDb;
  referentialsDbPerBlock(driver, (db) => (t = db));
  const count = async (table: string) => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? -1;
  const give = (sourceSystem: string, sourceId: string, attributes: unknown, receivedAt?: Date) =>
    contribute(t.db, persons, { sourceSystem, sourceId, attributes, ...(receivedAt ? { receivedAt } : {}) });

  it('creates, refuses invalid input writing nothing, and ignores the same contribution sent again', async () => {
    await expect(give('btp', 'x', { name: '', cin: '12' })).rejects.toSatisfy(
      (e) => e instanceof ContributionRefusedError && e.problems.map((p) => p.location).join() === 'body.name,body.cin',
    );
    expect(await count('ref_source_records')).toBe(0);
    const first = await give('btp', 'b1', P('Amina Alaoui', { cin: 'ab123', birthDate: '1990-05-01' }));
    expect(first).toMatchObject({ decision: 'created', version: 1 });
    const again = await give('btp', 'b1', P('Amina Alaoui', { cin: 'ab123', birthDate: '1990-05-01' }));
    expect(again).toEqual({ goldenId: first.goldenId, decision: 'unchanged', version: 1, warnings: [] });
    // The one version is the current one: ref_source_versions keeps only superseded versions.
    expect(await count('ref_source_records')).toBe(1);
    expect(await count('ref_source_versions')).toBe(0);
    expect(await count('ref_golden_history')).toBe(1);
    expect(await count('ref_changes')).toBe(1);
    const golden = await getGolden(t.db, persons.name, first.goldenId);
    expect(golden?.attributes.cin).toMatchObject({ value: 'AB123', source: { system: 'btp', id: 'b1' } });
    expect(await getGolden(t.db, persons.name, 'nope')).toBeUndefined();
  });

  it('links by natural key, answers by key and by source, lists the source refs', async () => {
    const a = await give('marroute', 'm1', P('Amina Alaoui', { cin: 'AB123', commune: 'Fès' }));
    const b = await give('civil-registry', 'c1', P('Amina El Alaoui', { cin: 'AB123', birthDate: '1990-05-01' }));
    expect(b).toMatchObject({ goldenId: a.goldenId, decision: 'linked-identifier', version: 2 });
    expect((await findByNaturalKey(t.db, persons.name, { type: 'cin', value: 'AB123' }))?.id).toBe(a.goldenId);
    expect((await findBySource(t.db, persons.name, { system: 'civil-registry', id: 'c1' }))?.id).toBe(a.goldenId);
    expect((await sourceRefs(t.db, persons.name, a.goldenId)).map((r) => [r.system, r.id, r.how])).toEqual([
      ['civil-registry', 'c1', 'identifier'],
      ['marroute', 'm1', 'new'],
    ]);
    const golden = await getGolden(t.db, persons.name, a.goldenId);
    // The civil registry is trusted over marroute for the name; commune only marroute has.
    expect(golden?.attributes.name?.value).toBe('Amina El Alaoui');
    expect(golden?.attributes.commune?.source.system).toBe('marroute');
  });

  it('links by score, reviews a near match, never links on name alone across birth dates', async () => {
    const a = await give('civil-registry', 'c1', P('Youssef Bennani', { birthDate: '1985-02-03', commune: 'Rabat' }));
    const linked = await give('btp', 'b1', P('Youssef BENNANI', { birthDate: '1985-02-03' }));
    expect(linked).toMatchObject({ goldenId: a.goldenId, decision: 'linked-score' });
    const other = await give('btp', 'b2', P('Youssef Bennani', { birthDate: '1999-09-09' }));
    expect(other.decision).toBe('created');
    expect(other.goldenId).not.toBe(a.goldenId);
    const near = await give('marroute', 'm1', P('Youssef Bennani', { commune: 'Rabat' }));
    expect(near.decision).toBe('review');
    const queue = await reviewQueue(t.db, persons.name, { status: 'open' });
    expect(queue).toHaveLength(1);
    expect(queue[0]?.goldenId).toBe(near.goldenId);
    expect(queue[0]?.candidates.map((c) => c.goldenId)).toContain(a.goldenId);
    expect(queue[0]?.candidates.find((c) => c.goldenId === a.goldenId)?.score).toBe(5);
  });

  it('a review linked: the new record merges into the chosen one; deciding again changes nothing, differently is refused', async () => {
    const a = await give('civil-registry', 'c1', P('Youssef Bennani', { birthDate: '1985-02-03', commune: 'Rabat' }));
    const near = await give('marroute', 'm1', P('Youssef Bennani', { commune: 'Rabat' }));
    const reviewId = near.reviewId ?? '';
    const decided = await decideReview(t.db, { reviewId, decision: 'link', goldenId: a.goldenId, actor: 'steward-1', reason: 'same person', module: persons });
    expect(decided).toMatchObject({ unchanged: false, item: { status: 'linked', linkedTo: a.goldenId, decidedBy: 'steward-1' } });
    const old = await getGolden(t.db, persons.name, near.goldenId);
    expect(old).toMatchObject({ status: 'merged', mergedInto: a.goldenId, survivorId: a.goldenId });
    expect((await findBySource(t.db, persons.name, { system: 'marroute', id: 'm1' }))?.id).toBe(a.goldenId);
    const changesBefore = await count('ref_changes');
    const again = await decideReview(t.db, { reviewId, decision: 'link', goldenId: a.goldenId, actor: 'steward-1', reason: 'same person', module: persons });
    expect(again.unchanged).toBe(true);
    expect(await count('ref_changes')).toBe(changesBefore);
    await expect(decideReview(t.db, { reviewId, decision: 'distinct', actor: 'steward-2', reason: 'no', module: persons })).rejects.toBeInstanceOf(StewardshipError);
    const audits = (await t.db.query<{ actor: string; action: string }>('SELECT actor, action FROM admin_audit ORDER BY id')).rows;
    expect(audits).toEqual([
      { actor: 'steward-1', action: 'referential.persons-test.merge' },
      { actor: 'steward-1', action: 'referential.persons-test.review' },
    ]);
  });

  it('a distinct pair is never proposed nor auto-linked again, whatever arrives later (invariant 3)', async () => {
    const a = await give('civil-registry', 'c1', P('Youssef Bennani', { birthDate: '1985-02-03', commune: 'Rabat', cin: 'K1' }));
    const near = await give('marroute', 'm1', P('Youssef Bennani', { commune: 'Rabat' }));
    const decided = await decideReview(t.db, { reviewId: near.reviewId ?? '', decision: 'distinct', actor: 'steward-1', reason: 'two people', module: persons });
    expect(decided.item.status).toBe('distinct');
    // The same source now sends data that would score a link, then even the other record's CIN.
    const later = await give('marroute', 'm1', P('Youssef Bennani', { commune: 'Rabat', birthDate: '1985-02-03' }));
    expect(later).toMatchObject({ goldenId: near.goldenId, decision: 'updated' });
    const withKey = await give('marroute', 'm1', P('Youssef Bennani', { commune: 'Rabat', birthDate: '1985-02-03', cin: 'K1' }));
    expect(withKey.goldenId).toBe(near.goldenId);
    expect(withKey.decision).not.toMatch(/linked|review/);
    expect(await reviewQueue(t.db, persons.name, { status: 'open' })).toEqual([]);
    expect((await getGolden(t.db, persons.name, a.goldenId))?.status).toBe('active');
    // Marking again is idempotent: no second decision, no second audit.
    const again = await markDistinct(t.db, persons.name, { a: a.goldenId, b: near.goldenId, actor: 'steward-1', reason: 'again' });
    expect(again.unchanged).toBe(true);
    expect(await count('ref_distinct_pairs')).toBe(1);
    expect(await count('admin_audit')).toBe(2);
  });

  it('without a distinct pair, a single-source record that gets better data joins its match', async () => {
    const a = await give('civil-registry', 'c1', P('Youssef Bennani', { birthDate: '1985-02-03', commune: 'Rabat' }));
    const near = await give('marroute', 'm1', P('Youssef Bennani', { commune: 'Rabat' }));
    const later = await give('marroute', 'm1', P('Youssef Bennani', { commune: 'Rabat', birthDate: '1985-02-03' }));
    expect(later).toMatchObject({ goldenId: a.goldenId, decision: 'linked-score' });
    expect(await getGolden(t.db, persons.name, near.goldenId)).toMatchObject({ status: 'merged', survivorId: a.goldenId });
  });

  it('stored attributes equal a recomputation from scratch (invariant 1), recency breaking trust ties', async () => {
    const g = await give('btp', 'b1', P('Salma Idrissi', { cin: 'S1', commune: 'Tanger' }), at('2026-01-01T00:00:00Z'));
    await give('btp', 'b2', P('Salma Idrissi-Fassi', { cin: 'S1' }), at('2026-02-01T00:00:00Z'));
    await give('marroute', 'm1', P('S. Idrissi', { cin: 'S1', commune: 'Tétouan', birthDate: '1970-07-07' }), at('2026-03-01T00:00:00Z'));
    const stored = await getGolden(t.db, persons.name, g.goldenId);
    expect(stored?.attributes.name).toEqual({ value: 'Salma Idrissi-Fassi', source: { system: 'btp', id: 'b2' }, at: '2026-02-01T00:00:00.000Z' });
    expect(stored?.attributes.commune?.value).toBe('Tanger');
    expect(stored?.attributes.birthDate?.source.system).toBe('marroute');
    const recomputed = await computeGolden(t.db, persons, g.goldenId);
    expect(recomputed.attributes).toEqual(stored?.attributes);
    expect(stored?.version).toBe(3);
  });

  it('reads as of an instant from the history', async () => {
    const before = new Date();
    await new Promise((r) => setTimeout(r, 5));
    const g = await give('btp', 'b1', P('Omar Tazi', { cin: 'T1' }));
    await new Promise((r) => setTimeout(r, 5));
    const mid = new Date();
    await new Promise((r) => setTimeout(r, 5));
    await give('civil-registry', 'c1', P('Omar Tazi Jr', { cin: 'T1' }));
    expect(await getGolden(t.db, persons.name, g.goldenId, { asOf: before })).toBeUndefined();
    expect(await getGolden(t.db, persons.name, g.goldenId, { asOf: mid })).toMatchObject({ version: 1, attributes: { name: { value: 'Omar Tazi' } } });
    expect(await getGolden(t.db, persons.name, g.goldenId, { asOf: new Date() })).toMatchObject({ version: 2, attributes: { name: { value: 'Omar Tazi Jr' } } });
  });

  it('merge then unmerge restores exactly the records, versions, links and keys (invariant 2)', async () => {
    const a = await give('civil-registry', 'c1', P('Hind Berrada', { cin: 'H1', birthDate: '1980-01-01' }));
    await give('btp', 'b1', P('Hind Berrada', { cin: 'H1', commune: 'Agadir' }));
    const b = await give('marroute', 'm1', P('Hind Beradda', { cin: 'H2', birthDate: '1980-01-01' }));
    const state = async () => ({
      // The unmerge's own history entry is checked below.
      goldens: await goldenRowsWithoutHistory(t.db),
      links: (await t.db.query('SELECT * FROM ref_links ORDER BY source_system, source_id')).rows,
      keys: (await t.db.query('SELECT * FROM ref_natural_keys ORDER BY key_type, key_value')).rows,
      // The blocking keys too: the merged record's are deleted through the list it holds (migration 0022), then restored.
      blocking: await blockingKeyRows(t.db),
    });
    const before = await state();
    const merged = await merge(t.db, persons, { survivorId: a.goldenId, mergedId: b.goldenId, actor: 'steward-1', reason: 'typo in name' });
    expect(merged.unchanged).toBe(false);
    expect(await getGolden(t.db, persons.name, b.goldenId)).toMatchObject({ status: 'merged', survivorId: a.goldenId });
    expect((await findByNaturalKey(t.db, persons.name, { type: 'cin', value: 'H2' }))?.id).toBe(a.goldenId);
    expect((await sourceRefs(t.db, persons.name, a.goldenId)).length).toBe(3);
    const mergeAgain = await merge(t.db, persons, { survivorId: a.goldenId, mergedId: b.goldenId, actor: 'steward-1', reason: 'typo in name' });
    expect(mergeAgain).toMatchObject({ unchanged: true, decisionId: merged.decisionId });

    const undone = await unmerge(t.db, persons, { mergeDecisionId: merged.decisionId, actor: 'steward-2', reason: 'different people after all' });
    expect(undone.unchanged).toBe(false);
    expect(await state()).toEqual(before);
    const causes = (await t.db.query<{ golden_id: string; cause: string; version: number }>('SELECT golden_id, cause, version FROM ref_golden_history ORDER BY seq')).rows;
    expect(causes.filter((c) => c.cause === 'unmerge').map((c) => [c.golden_id, c.version]).sort()).toEqual(
      [
        [a.goldenId, 2],
        [b.goldenId, 1],
      ].sort(),
    );
    const again = await unmerge(t.db, persons, { mergeDecisionId: merged.decisionId, actor: 'steward-2', reason: 'again' });
    expect(again).toMatchObject({ unchanged: true, decisionId: undone.decisionId });
    expect(await state()).toEqual(before);
    const audits = (await t.db.query<{ actor: string; action: string; detail: { reason: string } }>('SELECT actor, action, detail FROM admin_audit ORDER BY id')).rows;
    expect(audits.map((r) => [r.actor, r.action, r.detail.reason])).toEqual([
      ['steward-1', 'referential.persons-test.merge', 'typo in name'],
      ['steward-2', 'referential.persons-test.unmerge', 'different people after all'],
    ]);
  });

  it('refuses an unmerge once the survivor changed since the merge', async () => {
    const a = await give('civil-registry', 'c1', P('Hind Berrada', { cin: 'H1' }));
    const b = await give('marroute', 'm1', P('Hind Berrada', { cin: 'H2', birthDate: '1999-01-01' }));
    const merged = await merge(t.db, persons, { survivorId: a.goldenId, mergedId: b.goldenId, actor: 's', reason: 'r' });
    await give('btp', 'b9', P('Hind Berrada', { cin: 'H1', commune: 'Oujda' }));
    await expect(unmerge(t.db, persons, { mergeDecisionId: merged.decisionId, actor: 's', reason: 'r' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('resolveMany answers in order with explicit not-found, in one query for a mix of ids, keys and sources', async () => {
    const a = await give('btp', 'b1', P('Nadia Chraibi', { cin: 'N1' }));
    const b = await give('btp', 'b2', P('Karim Fassi', { cin: 'K2' }));
    const c = await give('btp', 'b3', P('Karim Fassi Fihri', { cin: 'K3', birthDate: '2001-01-01' }));
    await merge(t.db, persons, { survivorId: b.goldenId, mergedId: c.goldenId, actor: 's', reason: 'r' });
    let queries = 0;
    const counting: Queryable = {
      query: (sql, params) => {
        queries++;
        return t.db.query(sql, params);
      },
      exec: (sql) => t.db.exec(sql),
    };
    const items = [
      { goldenId: a.goldenId },
      { key: { type: 'cin', value: 'K2' } },
      { source: { system: 'btp', id: 'missing' } },
      { goldenId: c.goldenId },
      { key: { type: 'cin', value: 'NOPE' } },
      { source: { system: 'btp', id: 'b1' } },
      { goldenId: 'never-existed' },
    ];
    const many = Array.from({ length: 140 }, (_, i) => items[i % items.length] as (typeof items)[number]);
    const answers = await resolveMany(counting, persons.name, many);
    expect(queries).toBe(1);
    expect(answers.slice(0, 7).map((r) => (r.found ? [r.golden.id, r.golden.status, r.golden.survivorId] : 'not-found'))).toEqual([
      [a.goldenId, 'active', null],
      [b.goldenId, 'active', null],
      'not-found',
      [c.goldenId, 'merged', b.goldenId],
      'not-found',
      [a.goldenId, 'active', null],
      'not-found',
    ]);
    expect(answers).toHaveLength(140);
    await expect(resolveMany(t.db, persons.name, Array.from({ length: 1001 }, () => ({ goldenId: 'x' })))).rejects.toThrow(RangeError);
  });

  it('concurrent contributions with one natural key make one golden record', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => give('btp', `c-${i}`, P(`Person ${i}`, { cin: 'Z99' }))));
    expect(new Set(results.map((r) => r.goldenId)).size).toBe(1);
    expect(results.filter((r) => r.decision === 'created')).toHaveLength(1);
    expect(await count('ref_golden')).toBe(1);
    expect((await sourceRefs(t.db, persons.name, results[0]?.goldenId ?? '')).length).toBe(12);
  });
});
