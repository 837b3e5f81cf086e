// The admin API's golden-record stewardship routes on both drivers: the review queue and its decisions, merge,
// unmerge and distinct pairs, with operator roles, the operator as the recorded actor, and the refusals as problems.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { personsModule, referentialModules } from '../referentials/index.ts';
import { registerAdminRoutes } from '../src/admin/http/index.ts';
import type { DistinctResultBody, MergeResultBody, ReviewDecisionResultBody, ReviewItemBody, UnmergeResultBody } from '../src/admin/http/stewardship.ts';
import type { ProblemBody } from '../src/http/problem.ts';
import { addOperator } from '../src/identity/operators.ts';
import { createMemoryQueue } from '../src/queue/memory.ts';
import type { Queue } from '../src/queue/queue.ts';
import { contribute } from '../src/golden/engine.ts';
import { ReferentialCatalog } from '../src/golden/catalog.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { findBySource, getGolden } from '../src/golden/reads.ts';
import { drivers, emptyReferentials, goldenRowsWithoutHistory, openTestDb, type TestDb } from './helpers/db.ts';
import { buildTestApp } from './helpers/hub.ts';

const persons = personsModule as unknown as ReferentialModule;
const base = '/admin/v1/referentials/persons';

describe.each(drivers())('admin stewardship API on %s', (driver) => {
  let t: TestDb;
  let queue: Queue;
  let app: ReturnType<typeof buildTestApp>['app'];
  const tokens = { admin: '', auditor: '' };
  let adminActor = '';

  beforeAll(async () => {
    t = await openTestDb(driver);
    queue = createMemoryQueue();
    app = buildTestApp(t.db, queue, {}, { referentials: new ReferentialCatalog(referentialModules) }).app;
    registerAdminRoutes(app);
    const admin = await addOperator(t.db, { name: 'Amina (admin)', role: 'admin', actor: 'test' });
    tokens.admin = admin.token;
    adminActor = `operator:${admin.operator.id}`;
    tokens.auditor = (await addOperator(t.db, { name: 'Youssef (auditor)', role: 'auditor', actor: 'test' })).token;
  });
  afterEach(async () => {
    await emptyReferentials(t.db);
  });
  afterAll(async () => {
    await queue.close();
    await t.dispose();
  });

  interface Answer<T> {
    status: number;
    contentType: string | null;
    body: T;
  }
  async function call<T>(method: string, path: string, token: string, body?: unknown): Promise<Answer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, contentType: res.headers.get('content-type'), body: (await res.json()) as T };
  }
  const asAdmin = <T>(method: string, path: string, body?: unknown) => call<T>(method, path, tokens.admin, body);
  const asAuditor = <T>(method: string, path: string, body?: unknown) => call<T>(method, path, tokens.auditor, body);

  const give = (sourceSystem: string, sourceId: string, attributes: Record<string, unknown>) => contribute(t.db, persons, { sourceSystem, sourceId, attributes });
  const count = async (table: string) => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? -1;
  const state = async () => ({
    goldens: await goldenRowsWithoutHistory(t.db),
    links: (await t.db.query('SELECT * FROM ref_links ORDER BY source_system, source_id')).rows,
    keys: (await t.db.query('SELECT * FROM ref_natural_keys ORDER BY key_type, key_value')).rows,
  });

  /**
   * Two contributions of one person from two systems, the second with the birth date's day and month swapped and no
   * address: a near match sent to review (a date slip with nothing but the names is doubtful and scores at most
   * link − 1, 21 here; with an agreeing commune it would be corroborated and link, docs/decisions.md §20; a pair
   * without a date, same name and commune, scores 16.6 and left review when the threshold rose to fit 1M persons).
   */
  async function nearDuplicates() {
    const a = await give('civil-registry', 'c1', { firstNameLatin: 'Youssef', lastNameLatin: 'Bennani', birthDate: '1985-02-03', sex: 'M', addressCommune: '07.191.05.05' });
    const b = await give('marroute', 'm1', { firstNameLatin: 'Youssef', lastNameLatin: 'Bennani', birthDate: '1985-03-02', sex: 'M' });
    expect(a.decision).toBe('created');
    expect(b.decision).toBe('review');
    expect(b.goldenId).not.toBe(a.goldenId);
    return { a, b };
  }

  /** Two persons with their own CINs: separate golden records that only a steward would merge. */
  async function twoRecords() {
    const a = await give('civil-registry', 'c1', { cin: 'AB123456', firstNameLatin: 'Hind', lastNameLatin: 'Berrada', birthDate: '1980-01-01' });
    await give('btp', 'b1', { cin: 'AB123456', firstNameLatin: 'Hind', lastNameLatin: 'Berrada', address: '12 rue Ibn Sina' });
    const b = await give('marroute', 'm1', { cin: 'AB654321', firstNameLatin: 'Hind', lastNameLatin: 'Beradda', birthDate: '1981-01-01' });
    expect(b.goldenId).not.toBe(a.goldenId);
    return { a: a.goldenId, b: b.goldenId };
  }

  it('an auditor lists the open review item that two near-duplicate contributions made; an admin decides it', async () => {
    const { a, b } = await nearDuplicates();
    const open = await asAuditor<{ items: ReviewItemBody[] }>('GET', `${base}/review?status=open`);
    expect(open.status).toBe(200);
    expect(open.body.items).toHaveLength(1);
    const item = open.body.items[0];
    expect(item).toMatchObject({ id: b.reviewId, referential: 'persons', source: { system: 'marroute', id: 'm1' }, goldenId: b.goldenId, status: 'open', decidedBy: null });
    expect(item?.candidates.map((c) => c.goldenId)).toContain(a.goldenId);
    // Why it is proposed: a swap with names alone scores at its cap, link − 1, at or above review (no place corroborates it).
    expect(item?.candidates.find((c) => c.goldenId === a.goldenId)).toMatchObject({ why: 'score' });
    expect(new Date(item?.createdAt ?? '').getTime()).not.toBeNaN();
    expect((await asAuditor<{ items: ReviewItemBody[] }>('GET', `${base}/review?status=linked`)).body.items).toEqual([]);
    expect((await asAuditor<{ items: ReviewItemBody[] }>('GET', `${base}/review?limit=0`)).status).toBe(400);

    // Deciding is an admin's: the auditor is refused and nothing changes.
    const decision = { decision: 'link', goldenId: a.goldenId, reason: 'same person, birth date confirmed by phone' };
    expect((await asAuditor<ProblemBody>('POST', `${base}/review/${b.reviewId}/decision`, decision)).status).toBe(403);
    const decided = await asAdmin<ReviewDecisionResultBody>('POST', `${base}/review/${b.reviewId}/decision`, decision);
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ unchanged: false, item: { id: b.reviewId, status: 'linked', linkedTo: a.goldenId, decidedBy: adminActor, reason: decision.reason } });
    expect(decided.body.mergeDecisionId).toMatch(/^\d+$/);
    expect(await getGolden(t.db, 'persons', b.goldenId)).toMatchObject({ status: 'merged', survivorId: a.goldenId });
    expect((await asAuditor<{ items: ReviewItemBody[] }>('GET', `${base}/review?status=open`)).body.items).toEqual([]);
    const again = await asAdmin<ReviewDecisionResultBody>('POST', `${base}/review/${b.reviewId}/decision`, decision);
    expect(again.body.unchanged).toBe(true);
    const otherwise = await asAdmin<ProblemBody>('POST', `${base}/review/${b.reviewId}/decision`, { decision: 'distinct', reason: 'changed my mind' });
    expect(otherwise.status).toBe(409);
    expect(otherwise.body.type).toBe('urn:tabadol:problem:conflict');
    // The item belongs to persons: under another referential it is not found.
    expect((await asAdmin<ProblemBody>('POST', `/admin/v1/referentials/companies/review/${b.reviewId}/decision`, decision)).status).toBe(404);
  });

  it('a link decision must name a candidate of the item', async () => {
    const { b } = await nearDuplicates();
    const noGolden = await asAdmin<ProblemBody>('POST', `${base}/review/${b.reviewId}/decision`, { decision: 'link', reason: 'same' });
    expect(noGolden.status).toBe(400);
    expect(noGolden.body.errors?.map((e) => e.location)).toEqual(['body.goldenId']);
    const notCandidate = await asAdmin<ProblemBody>('POST', `${base}/review/${b.reviewId}/decision`, { decision: 'link', goldenId: b.goldenId, reason: 'same' });
    expect(notCandidate.status).toBe(422);
    expect(notCandidate.body.type).toBe('urn:tabadol:problem:unprocessable');
    expect((await asAdmin<ProblemBody>('POST', `${base}/review/999999/decision`, { decision: 'distinct', reason: 'r' })).status).toBe(404);
    expect((await asAdmin<ProblemBody>('POST', `${base}/review/not-a-number/decision`, { decision: 'distinct', reason: 'r' })).status).toBe(400);
    expect(await count('ref_steward_decisions')).toBe(0);
  });

  it('an auditor is refused a merge (403), and nothing changes', async () => {
    const { a, b } = await twoRecords();
    const before = await state();
    const refused = await asAuditor<ProblemBody>('POST', `${base}/merges`, { survivorId: a, mergedId: b, reason: 'same person' });
    expect(refused.status).toBe(403);
    expect(refused.contentType).toBe('application/problem+json');
    expect(refused.body.type).toBe('urn:tabadol:problem:forbidden');
    expect(await state()).toEqual(before);
    expect(await count('ref_steward_decisions')).toBe(0);
  });

  it('merges of one pair in both directions and through a third record at once: no deadlock, each record merged once', async () => {
    // The pair is locked in one statement, in id order (lockGoldens): whichever direction a merge names, two merges of
    // records in common wait for each other rather than deadlock, and the later one finds a record merged already.
    const { a, b } = await twoRecords();
    const c = (await give('dgsn', 'd1', { cin: 'ZZ100001', firstNameLatin: 'Hind', lastNameLatin: 'Berrada', birthDate: '1982-01-01' })).goldenId;
    const answers = await Promise.all([
      asAdmin<ProblemBody>('POST', `${base}/merges`, { survivorId: a, mergedId: b, reason: 'same person' }),
      asAdmin<ProblemBody>('POST', `${base}/merges`, { survivorId: b, mergedId: a, reason: 'same person' }),
      asAdmin<ProblemBody>('POST', `${base}/merges`, { survivorId: c, mergedId: b, reason: 'same person' }),
      asAdmin<ProblemBody>('POST', `${base}/merges`, { survivorId: a, mergedId: c, reason: 'same person' }),
    ]);
    const merged = answers.filter((r) => r.status === 201).length;
    const refused = answers.filter((r) => r.status === 409);
    expect(merged + refused.length).toBe(answers.length);
    expect(merged).toBeGreaterThanOrEqual(1);
    for (const r of refused) expect(r.body.detail).toBe('only two active golden records can be merged');
    // Three records, each merge taking one of them out of the active ones; every merged record resolves to an active
    // one (through a chain when a survivor was merged in turn).
    expect((await Promise.all([a, b, c].map((id) => getGolden(t.db, 'persons', id)))).filter((g) => g?.status === 'active')).toHaveLength(3 - merged);
    for (const id of [a, b, c]) {
      const g = await getGolden(t.db, 'persons', id);
      const survivor = g?.survivorId ? await getGolden(t.db, 'persons', g.survivorId) : g;
      expect(survivor?.status).toBe('active');
    }
  });

  it('an admin merges: the merged id resolves to the survivor, the operator is the recorded actor', async () => {
    const { a, b } = await twoRecords();
    const merged = await asAdmin<MergeResultBody>('POST', `${base}/merges`, { survivorId: a, mergedId: b, reason: 'typo in the CIN' });
    expect(merged.status).toBe(201);
    expect(merged.body).toMatchObject({ survivorId: a, mergedId: b, unchanged: false });
    expect(merged.body.decisionId).toMatch(/^\d+$/);
    expect(await getGolden(t.db, 'persons', b)).toMatchObject({ id: b, status: 'merged', mergedInto: a, survivorId: a });
    expect((await findBySource(t.db, 'persons', { system: 'marroute', id: 'm1' }))?.id).toBe(a);
    expect(merged.body.survivorVersion).toBe((await getGolden(t.db, 'persons', a))?.version);
    const audits = (await t.db.query<{ actor: string; action: string; detail: { reason: string } }>("SELECT actor, action, detail FROM admin_audit WHERE action LIKE 'referential.%'")).rows;
    expect(audits.map((r) => [r.actor, r.action, r.detail.reason])).toEqual([[adminActor, 'referential.persons.merge', 'typo in the CIN']]);
    const decision = (await t.db.query<{ actor: string; reason: string }>('SELECT actor, reason FROM ref_steward_decisions WHERE id = $1', [merged.body.decisionId])).rows[0];
    expect(decision).toEqual({ actor: adminActor, reason: 'typo in the CIN' });
    // The same merge again changes nothing; merging the merged record elsewhere is a conflict.
    const again = await asAdmin<MergeResultBody>('POST', `${base}/merges`, { survivorId: a, mergedId: b, reason: 'typo in the CIN' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ unchanged: true, decisionId: merged.body.decisionId });
    const c = await give('cnss', 'n1', { cin: 'ZT998877', firstNameLatin: 'Rachid', lastNameLatin: 'Jettou' });
    const conflict = await asAdmin<ProblemBody>('POST', `${base}/merges`, { survivorId: c.goldenId, mergedId: b, reason: 'r' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.type).toBe('urn:tabadol:problem:conflict');
  });

  it('unmerge restores exactly the records, links and keys the merge replaced', async () => {
    const { a, b } = await twoRecords();
    const before = await state();
    const merged = await asAdmin<MergeResultBody>('POST', `${base}/merges`, { survivorId: a, mergedId: b, reason: 'typo in the CIN' });
    expect(merged.status).toBe(201);
    expect(await state()).not.toEqual(before);
    // A merge decision of persons is not found under another referential, nor is an unknown one.
    expect((await asAdmin<ProblemBody>('POST', `/admin/v1/referentials/vehicles/merges/${merged.body.decisionId}/unmerge`, { reason: 'r' })).status).toBe(404);
    expect((await asAdmin<ProblemBody>('POST', `${base}/merges/999999/unmerge`, { reason: 'r' })).status).toBe(404);
    expect((await asAuditor<ProblemBody>('POST', `${base}/merges/${merged.body.decisionId}/unmerge`, { reason: 'r' })).status).toBe(403);

    const undone = await asAdmin<UnmergeResultBody>('POST', `${base}/merges/${merged.body.decisionId}/unmerge`, { reason: 'two people after all' });
    expect(undone.status).toBe(200);
    expect(undone.body.unchanged).toBe(false);
    expect(undone.body.restored.map((r) => r.goldenId).sort()).toEqual([a, b].sort());
    expect(await state()).toEqual(before);
    expect(await getGolden(t.db, 'persons', b)).toMatchObject({ status: 'active', survivorId: null });
    expect((await findBySource(t.db, 'persons', { system: 'marroute', id: 'm1' }))?.id).toBe(b);
    const again = await asAdmin<UnmergeResultBody>('POST', `${base}/merges/${merged.body.decisionId}/unmerge`, { reason: 'again' });
    expect(again.body).toMatchObject({ unchanged: true, decisionId: undone.body.decisionId });
    expect(await state()).toEqual(before);
    const audits = (await t.db.query<{ actor: string; action: string }>("SELECT actor, action FROM admin_audit WHERE action LIKE 'referential.%' ORDER BY id")).rows;
    expect(audits).toEqual([
      { actor: adminActor, action: 'referential.persons.merge' },
      { actor: adminActor, action: 'referential.persons.unmerge' },
    ]);
  });

  it('distinct is remembered: a later contribution that would link stays on its own record', async () => {
    const { a, b } = await nearDuplicates();
    const marked = await asAdmin<DistinctResultBody>('POST', `${base}/distinct`, { a: a.goldenId, b: b.goldenId, reason: 'two people, different fathers' });
    expect(marked.status).toBe(201);
    expect(marked.body).toMatchObject({ a: a.goldenId, b: b.goldenId, unchanged: false });
    const again = await asAdmin<DistinctResultBody>('POST', `${base}/distinct`, { a: b.goldenId, b: a.goldenId, reason: 'again' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ unchanged: true, decisionId: marked.body.decisionId });
    expect(await count('ref_distinct_pairs')).toBe(1);
    // The same source now sends the birth date that would make it score a link with a: it stays on b.
    const later = await give('marroute', 'm1', { firstNameLatin: 'Youssef', lastNameLatin: 'Bennani', birthDate: '1985-02-03', sex: 'M' });
    expect(later.goldenId).toBe(b.goldenId);
    expect(later.decision).toBe('updated');
    expect((await getGolden(t.db, 'persons', a.goldenId))?.status).toBe('active');
    const self = await asAdmin<ProblemBody>('POST', `${base}/distinct`, { a: a.goldenId, b: a.goldenId, reason: 'r' });
    expect(self.status).toBe(422);
    expect(self.body.type).toBe('urn:tabadol:problem:unprocessable');
  });

  it('a missing or blank reason is a problem naming body.reason, and nothing is written', async () => {
    const { a, b } = await nearDuplicates();
    const merged = await asAdmin<MergeResultBody>('POST', `${base}/merges`, { survivorId: a.goldenId, mergedId: b.goldenId, reason: 'same' });
    expect(merged.status).toBe(201);
    const decisions = await count('ref_steward_decisions');
    const audits = await count('admin_audit');
    const attempts: Array<[string, Record<string, unknown>]> = [
      [`${base}/merges`, { survivorId: a.goldenId, mergedId: b.goldenId }],
      [`${base}/merges`, { survivorId: a.goldenId, mergedId: b.goldenId, reason: '   ' }],
      [`${base}/merges/${merged.body.decisionId}/unmerge`, {}],
      [`${base}/merges/${merged.body.decisionId}/unmerge`, { reason: '' }],
      [`${base}/distinct`, { a: a.goldenId, b: b.goldenId }],
      [`${base}/review/${b.reviewId}/decision`, { decision: 'distinct' }],
    ];
    for (const [path, body] of attempts) {
      const res = await asAdmin<ProblemBody>('POST', path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.contentType).toBe('application/problem+json');
      expect(res.body.type).toBe('urn:tabadol:problem:request-invalid');
      expect(res.body.errors?.map((e) => e.location)).toEqual(['body.reason']);
    }
    expect(await count('ref_steward_decisions')).toBe(decisions);
    expect(await count('admin_audit')).toBe(audits);
    expect(await getGolden(t.db, 'persons', b.goldenId)).toMatchObject({ status: 'merged' });
  });

  it('an unknown golden id is a 404 problem', async () => {
    const { a } = await twoRecords();
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const [path, body] of [
      [`${base}/merges`, { survivorId: a, mergedId: unknown, reason: 'r' }],
      [`${base}/merges`, { survivorId: unknown, mergedId: a, reason: 'r' }],
      [`${base}/distinct`, { a, b: unknown, reason: 'r' }],
    ] as const) {
      const res = await asAdmin<ProblemBody>('POST', path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(404);
      expect(res.body.type).toBe('urn:tabadol:problem:not-found');
      expect(res.body.detail).toContain(unknown);
    }
    // A golden id of persons is unknown to vehicles.
    const other = await give('civil-registry', 'c2', { cin: 'CD112233', firstNameLatin: 'Omar', lastNameLatin: 'Tazi' });
    expect((await asAdmin<ProblemBody>('POST', '/admin/v1/referentials/vehicles/merges', { survivorId: a, mergedId: other.goldenId, reason: 'r' })).status).toBe(404);
    expect(await count('ref_steward_decisions')).toBe(0);
  });

  it('an unknown referential is a 404 problem', async () => {
    const { a, b } = await twoRecords();
    const list = await asAuditor<ProblemBody>('GET', '/admin/v1/referentials/planets/review');
    expect(list.status).toBe(404);
    expect(list.contentType).toBe('application/problem+json');
    expect(list.body).toMatchObject({ type: 'urn:tabadol:problem:not-found', errors: [{ location: 'path.referential' }] });
    for (const [path, body] of [
      ['/admin/v1/referentials/planets/merges', { survivorId: a, mergedId: b, reason: 'r' }],
      ['/admin/v1/referentials/planets/distinct', { a, b, reason: 'r' }],
      ['/admin/v1/referentials/planets/merges/1/unmerge', { reason: 'r' }],
      ['/admin/v1/referentials/planets/review/1/decision', { decision: 'distinct', reason: 'r' }],
    ] as const) {
      const res = await asAdmin<ProblemBody>('POST', path, body);
      expect(res.status, path).toBe(404);
      expect(res.body.detail).toContain('planets');
    }
    // The registered referentials answer (an empty queue for a referential with nothing in it).
    for (const name of ['persons', 'companies', 'vehicles']) {
      expect((await asAuditor<{ items: unknown[] }>('GET', `/admin/v1/referentials/${name}/review`)).status, name).toBe(200);
    }
    expect(await count('ref_steward_decisions')).toBe(0);
  });
});
