// The referential services' read path on both drivers: resolve through merge chains, and fuzzy search (what it finds,
// its order, filters and pages), through the persons service as the exchange pipeline calls it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { goldenService } from '../referentials/golden-service.ts';
import { personsModule } from '../referentials/persons/module.ts';
import type { ProviderRequest } from '../src/exchange/bindings.ts';
import { contribute } from '../src/referentials/engine.ts';
import type { ReferentialModule } from '../src/referentials/module.ts';
import { getGolden, resolveMany } from '../src/referentials/store.ts';
import { merge } from '../src/referentials/stewardship.ts';
import { drivers, openTestDb, type TestDb } from './helpers/db.ts';

const persons = personsModule as unknown as ReferentialModule;

describe.each(drivers)('referential reads on %s', (driver) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(driver);
  });
  afterEach(async () => {
    await t.db.exec(
      `TRUNCATE ref_source_records, ref_source_versions, ref_golden, ref_blocking_keys, ref_golden_history, ref_links, ref_natural_keys,
         ref_review_items, ref_distinct_pairs, ref_steward_decisions, ref_changes, outbox, admin_audit RESTART IDENTITY CASCADE`,
    );
  });
  afterAll(async () => {
    await t.dispose();
  });

  const give = async (system: string, id: string, attributes: Record<string, unknown>) => (await contribute(t.db, persons, { sourceSystem: system, sourceId: id, attributes })).goldenId;
  const call = async (pathAndQuery: string, method = 'GET', body = '') => {
    const answer = await goldenService(persons, t.db).handle(
      {
        serviceId: 'MA/GOV/HUB/referentials/persons',
        operationId: 'x',
        method,
        pathAndQuery,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: new TextEncoder().encode(body),
        client: 'MA/GOV/DGSN/cin',
        purpose: 'test',
        requestId: 'r1',
      } satisfies ProviderRequest,
      new AbortController().signal,
    );
    return { status: answer.status, body: JSON.parse(Buffer.from(answer.body).toString('utf8')) as Record<string, unknown> };
  };

  it('resolves a record at the end of a merge chain from every link of it, by id, key and source', async () => {
    const a = await give('civil-registry', 'a', { cin: 'AB1001', firstNameLatin: 'Amina', lastNameLatin: 'Alaoui', birthDate: '1980-01-01' });
    const b = await give('marroute', 'b', { cin: 'CD2002', firstNameLatin: 'Karim', lastNameLatin: 'Bennani', birthDate: '1970-02-02' });
    const c = await give('btp', 'c', { cin: 'EF3003', firstNameLatin: 'Youssef', lastNameLatin: 'Chraibi', birthDate: '1960-03-03' });
    await merge(t.db, persons, { survivorId: b, mergedId: c, actor: 's', reason: 'r' });
    await merge(t.db, persons, { survivorId: a, mergedId: b, actor: 's', reason: 'r' });
    // c → b → a: c still points at b, which points at a.
    expect(await getGolden(t.db, 'persons', c)).toMatchObject({ id: c, status: 'merged', mergedInto: b, survivorId: a });
    expect(await getGolden(t.db, 'persons', b)).toMatchObject({ id: b, status: 'merged', mergedInto: a, survivorId: a });
    expect(await getGolden(t.db, 'persons', a)).toMatchObject({ id: a, status: 'active', mergedInto: null, survivorId: null });
    const answers = await resolveMany(t.db, 'persons', [
      { goldenId: c },
      { key: { type: 'cin', value: 'EF3003' } },
      { source: { system: 'btp', id: 'c' } },
      { goldenId: b },
      { key: { type: 'cin', value: 'AB1001' } },
      { key: { type: 'cin', value: 'AB1001' } },
      { source: { system: 'btp', id: 'nope' } },
      { goldenId: 'nope' },
    ]);
    expect(answers.map((r) => (r.found ? [r.golden.id, r.golden.status, r.golden.survivorId] : 'not-found'))).toEqual([
      [c, 'merged', a],
      // The merged records gave up their natural keys and links to the survivor.
      [a, 'active', null],
      [a, 'active', null],
      [b, 'merged', a],
      [a, 'active', null],
      [a, 'active', null],
      'not-found',
      'not-found',
    ]);
    const batch = await call('/resolve', 'POST', JSON.stringify({ items: [{ goldenId: c }, { key: { type: 'cin', value: 'ab 1001' } }, { key: { type: 'cin', value: '12' } }] }));
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({
      results: [
        { found: true, record: { goldenId: c, status: 'merged', mergedInto: b } },
        { found: true, record: { goldenId: a, status: 'active', mergedInto: null } },
        { found: false, reason: 'invalid identifier' },
      ],
      warnings: [{ location: 'body.items.2.key.value' }],
    });
  });
});
