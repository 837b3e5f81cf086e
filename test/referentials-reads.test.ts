// The referential services' read path on both drivers: resolve through merge chains, and fuzzy search (what it finds,
// its order, filters and pages), through the persons service as the exchange pipeline calls it.
import { beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { generateInMemory } from '../referentials/generator/generate.ts';
import { goldenService, searchForm, searchGoldens } from '../referentials/golden-service.ts';
import { searchTiers } from '../src/golden/search.ts';
import { foldArabic } from '../referentials/text/fold.ts';
import { normalisePerson, personMatchProfile, personsModule } from '../referentials/persons/module.ts';
import { companiesModule } from '../referentials/companies/module.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import type { Db } from '../src/storage/db.ts';
import { getGolden, resolveMany, resolveManyJson } from '../src/golden/reads.ts';
import { plainValues } from '../src/golden/engine.ts';
import { merge, unmerge } from '../src/golden/stewardship.ts';
import { contributeBulk } from '../src/golden/bulk.ts';
import { drivers, referentialsDbPerBlock, type TestDb } from './helpers/db.ts';
import { routedRequest, serviceContract } from './helpers/routed-request.ts';

const persons = personsModule as unknown as ReferentialModule;
const companies = companiesModule as unknown as ReferentialModule;
/** The persons service's contract, whose answers the exchange pipeline validates. */
const personsContract = serviceContract('MA/GOV/HUB/referentials/persons');
const companiesContract = serviceContract('MA/GOV/HUB/referentials/companies');

/** The search as it was before the nearest-first index (a GIN index, every record above the threshold ranked). */
const referenceSearch = `SELECT id, word_similarity($2, blocking_text) AS sim
   FROM ref_golden
  WHERE referential = $1 AND status = 'active' AND $2 <% blocking_text
    AND ($5::text IS NULL OR match_fields->>'commune' = $5)
  ORDER BY sim DESC, id LIMIT $3 OFFSET $4`;

/** Generated persons written straight as golden records (their blocking text as the module computes it): what search reads. */
function generatedGoldens(n: number): Array<{ id: string; attributes: Record<string, unknown>; blockingText: string; fields: Record<string, string | null> }> {
  const { records } = generateInMemory({ seed: 11, dupRate: 0.1, persons: n, companies: 0, vehicles: 0 });
  return records.persons.flatMap((r) => {
    const normalised = normalisePerson(r.attributes);
    if (!normalised.ok) return [];
    const profile = personMatchProfile(normalised.attributes);
    if (!profile.blockingText) return [];
    const attributes = Object.fromEntries(Object.entries(normalised.attributes).map(([k, v]) => [k, { value: v, source: { system: r.sourceSystem, id: r.sourceId }, at: '2026-01-01T00:00:00.000Z' }]));
    return [{ id: randomUUID(), attributes, blockingText: profile.blockingText, fields: profile.fields as Record<string, string | null> }];
  });
}

describe.each(drivers())('referential reads on %s', (driver) => {
  let t!: TestDb;
  referentialsDbPerBlock(driver, (db) => (t = db));

  const give = async (system: string, id: string, attributes: Record<string, unknown>) => (await contribute(t.db, persons, { sourceSystem: system, sourceId: id, attributes })).goldenId;
  const call = async (pathAndQuery: string, method = 'GET', body = '') => {
    const answer = await goldenService(persons, t.db).handle(
      routedRequest(personsContract, {
        serviceId: 'MA/GOV/HUB/referentials/persons',
        method,
        pathAndQuery,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: new TextEncoder().encode(body),
        client: 'MA/GOV/DGSN/cin',
        purpose: 'test',
        requestId: 'r1',
      }),
      new AbortController().signal,
    );
    const parsed = JSON.parse(Buffer.from(answer.body).toString('utf8')) as Record<string, unknown>;
    // The value handed to the hub beside the body (ProviderResponse.json) is what the body says, and what the
    // contract allows, as the pipeline checks it (its attributes parsed only when something reads them).
    if (answer.json !== undefined) {
      expect(answer.json).toEqual(parsed);
      const operation = personsContract.match(method, pathAndQuery.split('?')[0] ?? '');
      expect(operation?.validateResponse(answer.status, answer.headers['content-type'], answer.json), pathAndQuery).toEqual([]);
    }
    return { status: answer.status, body: parsed };
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
    const byKey = await call('/by-key/cin/ef3003');
    expect(byKey).toMatchObject({ status: 200, body: { goldenId: a, status: 'active', attributes: { cin: 'AB1001' } } });
    expect((await call('/by-source/btp/c')).body).toMatchObject({ goldenId: a });
    expect((await call('/by-key/cin/ZZ9999')).status).toBe(404);
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

  it('answers attributes as values, and with their provenance when asked, alike on every read', async () => {
    const id = await give('civil-registry', 'p1', { cin: 'GH4004', firstNameLatin: 'Salma', lastNameLatin: 'Idrissi', firstNameArabic: 'سلمى', birthDate: '1991-04-04', sex: 'F' });
    await give('marroute', 'p2', { cin: 'GH4004', firstNameLatin: 'Salma', lastNameLatin: 'Idrissi', birthPlace: 'Fès' });
    const golden = await getGolden(t.db, 'persons', id);
    if (!golden) throw new Error('no golden record');
    const withProvenance = golden.attributes;
    // The provenance names the source record each value came from.
    expect(withProvenance['birthPlace']).toMatchObject({ value: 'Fès', source: { system: 'marroute', id: 'p2' } });
    expect(withProvenance['firstNameArabic']).toMatchObject({ value: 'سلمى', source: { system: 'civil-registry', id: 'p1' } });
    const values = Object.fromEntries(Object.entries(withProvenance).map(([k, v]) => [k, v.value]));
    expect(Object.keys(values).length).toBeGreaterThan(5);

    const q = encodeURIComponent(`Salma Idrissi`);
    const reads: Array<[string, string, string, (body: Record<string, unknown>) => unknown]> = [
      ['record', 'GET', `/records/${id}`, (b) => b['attributes']],
      ['by key', 'GET', '/by-key/cin/gh4004', (b) => b['attributes']],
      ['by source', 'GET', '/by-source/marroute/p2', (b) => b['attributes']],
      ['history (last version)', 'GET', `/records/${id}/history`, (b) => (b['versions'] as Array<{ attributes: unknown }>).at(-1)?.attributes],
      ['resolve', 'POST', '/resolve', (b) => (b['results'] as Array<{ record: { attributes: unknown } }>)[0]?.record.attributes],
      ['search', 'GET', `/search?q=${q}`, (b) => (b['hits'] as Array<{ record: { goldenId: string; attributes: unknown } }>).find((h) => h.record.goldenId === id)?.record.attributes],
    ];
    const body = JSON.stringify({ items: [{ key: { type: 'cin', value: 'GH4004' } }] });
    for (const [what, method, path, attributesOf] of reads) {
      const sep = path.includes('?') ? '&' : '?';
      const plain = await call(path, method, method === 'POST' ? body : '');
      const asked = await call(`${path}${sep}provenance=true`, method, method === 'POST' ? body : '');
      const no = await call(`${path}${sep}provenance=false`, method, method === 'POST' ? body : '');
      expect([plain.status, asked.status, no.status], what).toEqual([200, 200, 200]);
      expect(attributesOf(plain.body), what).toEqual(values);
      expect(attributesOf(no.body), what).toEqual(values);
      expect(attributesOf(asked.body), what).toEqual(withProvenance);
    }
    // The check in call() can fail: attributes that are not an object break the contract.
    const resolve = personsContract.match('POST', '/resolve');
    const record = { goldenId: id, referential: 'persons', version: 1, status: 'active', mergedInto: null };
    expect(resolve?.validateResponse(200, 'application/json', { results: [{ found: true, record: { ...record, attributes: {} } }] })).toEqual([]);
    expect(resolve?.validateResponse(200, 'application/json', { results: [{ found: true, record: { ...record, attributes: 'x' } }] })).not.toEqual([]);
  });

  it('builds values in PostgreSQL as plainValues does, nested values and an empty record included', async () => {
    const company = (await contribute(t.db, companies, { sourceSystem: 'omp', sourceId: 'c1', attributes: { ice: '002145873000014', rc: { number: '12345', court: 'Casablanca' }, nameFr: "L'Atlas « Bâtiment »\n\"SARL\"" } })).goldenId;
    const golden = await getGolden(t.db, 'companies', company);
    if (!golden) throw new Error('no golden record');
    const [json] = await resolveManyJson(t.db, 'companies', [{ goldenId: company }], { provenance: false });
    expect(JSON.parse(json?.attributesJson ?? 'null')).toEqual(plainValues(golden.attributes));
    expect(plainValues(golden.attributes)['rc']).toMatchObject({ number: '12345', court: 'Casablanca' });
    const [withProvenance] = await resolveManyJson(t.db, 'companies', [{ goldenId: company }], { provenance: true });
    expect(JSON.parse(withProvenance?.attributesJson ?? 'null')).toEqual(golden.attributes);
    // A record without attributes (as a test may write one): {} both ways, not null.
    await t.db.query(`INSERT INTO ref_golden (id, referential, version, status, attributes, attribute_values, blocking_text, match_fields, created_at, updated_at) VALUES ('empty-1', 'companies', 1, 'active', '{}', '{}', '', '{}', now(), now())`);
    for (const provenance of [false, true]) expect((await resolveManyJson(t.db, 'companies', [{ goldenId: 'empty-1' }], { provenance }))[0]?.attributesJson.replace(/\s/g, '')).toBe('{}');
  });

  it('keeps the stored values equal to plainValues through every writer: contribution, bulk, update, merge, unmerge', async () => {
    // The values are a stored column derived from the attributes (migration 0013): every path that writes a golden
    // record must leave it equal to what the attributes say.
    const valuesOf = async (ids: string[]) => {
      const answers = await resolveManyJson(t.db, 'persons', ids.map((goldenId) => ({ goldenId })), { provenance: false });
      return Promise.all(
        ids.map(async (id, i) => {
          const golden = await getGolden(t.db, 'persons', id);
          if (!golden) throw new Error(`no golden record ${id}`);
          return { stored: JSON.parse(answers[i]?.attributesJson ?? 'null') as unknown, computed: plainValues(golden.attributes) };
        }),
      );
    };
    const expectInStep = async (ids: string[]) => {
      for (const { stored, computed } of await valuesOf(ids)) expect(stored).toEqual(computed);
    };
    const a = (await contribute(t.db, persons, { sourceSystem: 'dgsn', sourceId: 'v1', attributes: { cin: 'BK123456', firstNameLatin: 'Karim', lastNameLatin: 'Bennani', birthDate: '1980-02-03' } })).goldenId;
    const [bulk] = await contributeBulk(t.db, persons, [{ line: 1, sourceSystem: 'cnss', sourceId: 'v2', attributes: { cin: 'BK654321', firstNameLatin: 'Salma', lastNameLatin: 'Idrissi', sex: 'F' } }]);
    if (!bulk?.ok) throw new Error('the bulk row was refused');
    const b = bulk.goldenId;
    await expectInStep([a, b]);
    // A later contribution changes an attribute of a: its stored values follow.
    await contribute(t.db, persons, { sourceSystem: 'dgsn', sourceId: 'v1', attributes: { cin: 'BK123456', firstNameLatin: 'Karim', lastNameLatin: 'Bennani', birthDate: '1980-02-03', address: 'Rue 5, Fès' } });
    expect((await valuesOf([a]))[0]?.stored).toMatchObject({ address: 'Rue 5, Fès' });
    await expectInStep([a]);
    const merged = await merge(t.db, persons, { survivorId: a, mergedId: b, actor: 's', reason: 'r' });
    await expectInStep([a, b]);
    expect((await valuesOf([a]))[0]?.stored).toMatchObject({ sex: 'F', address: 'Rue 5, Fès' });
    const before = await valuesOf([a, b]);
    await unmerge(t.db, persons, { mergeDecisionId: merged.decisionId, actor: 's', reason: 'undo' });
    await expectInStep([a, b]);
    expect((await valuesOf([a]))[0]?.stored).not.toMatchObject({ sex: 'F' });
    expect(before).not.toEqual(await valuesOf([a, b]));
  });

  it('searches companies by their French or Arabic name, within a commune too; never links them by name', async () => {
    const service = goldenService(companies, t.db);
    const ask = async (pathAndQuery: string) => {
      const answer = await service.handle(
        routedRequest(companiesContract, { serviceId: 'MA/GOV/HUB/referentials/companies', method: 'GET', pathAndQuery, headers: {}, body: new Uint8Array(), client: 'MA/GOV/METLE/qualification-btp', purpose: 'test', requestId: 'r2' }),
        new AbortController().signal,
      );
      return JSON.parse(Buffer.from(answer.body).toString('utf8')) as { hits: Array<{ record: { goldenId: string; attributes: Record<string, unknown> }; similarity: number }> };
    };
    const add = async (id: string, attributes: Record<string, unknown>) => (await contribute(t.db, companies, { sourceSystem: 'ompic', sourceId: id, attributes })).goldenId;
    const atlas = await add('c1', { ice: '002145873000014', nameFr: 'Atlas Bâtiment et Travaux SARL', nameAr: 'أطلس للبناء والأشغال', commune: '06.141.01.0' });
    const other = await add('c2', { ice: '000153828600032', nameFr: 'Atlas Batiment Travaux', commune: '01.511.01.0' });
    await add('c3', { ice: '000000811960034', nameFr: 'Sahara Logistique', nameAr: 'الصحراء للوجستيك' });
    // Two companies as alike by name as these stay two: companies link on identifiers only.
    expect(atlas).not.toBe(other);
    const latin = await ask(`/search?q=${encodeURIComponent('ATLAS BATIMENT ET TRAVAUX')}`);
    expect(latin.hits.map((h) => h.record.goldenId)).toEqual([atlas, other]);
    expect(latin.hits[0]?.record.attributes['nameFr']).toBe('Atlas Bâtiment et Travaux SARL');
    const arabic = await ask(`/search?q=${encodeURIComponent('اطلس للبناء')}`);
    expect(arabic.hits.map((h) => h.record.goldenId)).toEqual([atlas]);
    const inCommune = await ask(`/search?q=${encodeURIComponent('atlas batiment')}&commune=01.511.01.0`);
    expect(inCommune.hits.map((h) => h.record.goldenId)).toEqual([other]);
  });

  it('searches the names every writer leaves: new records, renamed ones, and none left without an active record', async () => {
    // Search walks the distinct names (ref_search_names, kept by triggers on ref_golden), then their records.
    const find = async (q: string, limit = 20) => (await searchGoldens(t.db, 'persons', { form: searchForm(q), commune: null, limit, offset: 0 })).map((r) => r.id);
    const karim = await give('dgsn', 'n1', { cin: 'CD100200', firstNameLatin: 'Karim', lastNameLatin: 'Bennani' });
    const [bulk] = await contributeBulk(t.db, persons, [{ line: 1, sourceSystem: 'cnss', sourceId: 'n2', attributes: { cin: 'CD100300', firstNameLatin: 'Karima', lastNameLatin: 'Benanni' } }]);
    if (!bulk?.ok) throw new Error('the bulk row was refused');
    const karima = bulk.goldenId;
    expect(await find('Karim Bennani', 1)).toEqual([karim]);
    expect(await find('Karima Benanni', 1)).toEqual([karima]);
    // Renamed by a later contribution: found under the new name, first.
    await give('cnss', 'n2', { cin: 'CD100300', firstNameLatin: 'Karim', lastNameLatin: 'Bennani Alami' });
    expect(await find('Karim Bennani Alami', 1)).toEqual([karima]);
    // Merged away (the survivor keeps its own name: dgsn outranks cnss): karima's name stays in ref_search_names with no
    // active record, and a page of one is not left empty by it: the next name, the survivor's, fills it.
    await merge(t.db, persons, { survivorId: karim, mergedId: karima, actor: 's', reason: 'r' });
    expect((await getGolden(t.db, 'persons', karim))?.attributes['lastNameLatin']?.value).toBe('Bennani');
    const names = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ref_search_names WHERE referential = 'persons' AND blocking_text = $1`, [searchForm('Karim Bennani Alami')]);
    expect(names.rows[0]?.n).toBe(1);
    expect(await find('Karim Bennani Alami', 1)).toEqual([karim]);
    expect(await find('Karim Bennani Alami')).not.toContain(karima);
  });

  describe('search', () => {
    const goldens = generatedGoldens(700);
    // Before each test (the file's afterEach empties the tables): the generated records, as golden records.
    beforeEach(async () => {
      await t.db.query(
        `INSERT INTO ref_golden (id, referential, version, status, attributes, attribute_values, blocking_text, match_fields, created_at, updated_at)
         SELECT g.id, 'persons', 1, 'active', g.attributes, ref_attribute_values(g.attributes), g.blocking_text, g.match_fields, now(), now()
           FROM json_to_recordset($1::json) AS g(id text, attributes jsonb, blocking_text text, match_fields jsonb)`,
        [JSON.stringify(goldens.map((g) => ({ id: g.id, attributes: g.attributes, blocking_text: g.blockingText, match_fields: g.fields })))],
      );
    });

    const reference = async (q: string, limit: number, offset: number, commune: string | null = null) =>
      (await t.db.query<{ id: string; sim: number }>(referenceSearch, ['persons', searchForm(q), limit, offset, commune])).rows;
    const search = (q: string, limit: number, offset: number, commune: string | null = null, db: Db = t.db) => searchGoldens(db, 'persons', { form: searchForm(q), commune, limit, offset });
    /** Runs fn with a Db whose statements all run in one transaction where the planner may only read through indexes. */
    const indexOnly = <T>(fn: (db: Db) => Promise<T>): Promise<T> =>
      t.db.transaction(async (tx) => {
        // The names' GIN index is read by bitmap scans only: those stay allowed.
        await tx.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = on');
        const inner: Db = { driver: t.db.driver, query: (sql, params) => tx.query(sql, params), exec: (sql) => tx.exec(sql), transaction: async (f, o) => f(inner, o?.prelude ? await tx.query(o.prelude) : undefined), ping: async () => undefined, close: async () => undefined };
        return fn(inner);
      });
    const name = (g: (typeof goldens)[number], script: 'Latin' | 'Arabic') =>
      [g.attributes[`firstName${script}`], g.attributes[`lastName${script}`]].map((a) => (a as { value?: string } | undefined)?.value).filter(Boolean).join(' ');

    it('gives the page the reference search gives: the same similarities in order, the same records but among ties with the last one', async () => {
      const queries = [
        ...goldens.slice(0, 32).flatMap((g, i) => [name(g, i % 2 === 0 ? 'Latin' : 'Arabic')]).filter((q) => q.length >= 2),
        // Spellings the Latin key rewrites (two forms of the query), a typo, a first name alone.
        'Fatima Zahra Seqqat', 'Mohammed Benali', 'MHOAMED SQALLI', 'Fatima',
      ];
      let compared = 0;
      for (const q of queries) {
        // A page of one is filled by the first tier (similarity 0.9) when the name is there as typed; the others go on to
        // the configured threshold.
        for (const [limit, offset] of [[20, 0], [5, 5], [1, 0]] as const) {
          const expected = await reference(q, limit, offset);
          // As the planner likes it for this small table, and through the names' GIN index as it reads them at scale.
          for (const got of [await search(q, limit, offset), await indexOnly((db) => search(q, limit, offset, null, db))]) {
            expect(got.map((r) => r.sim), q).toEqual(expected.map((r) => r.sim));
            const last = expected.at(-1)?.sim;
            expect(got.filter((r) => r.sim !== last).map((r) => r.id), q).toEqual(expected.filter((r) => r.sim !== last).map((r) => r.id));
          }
          compared += expected.length;
        }
      }
      expect(compared).toBeGreaterThan(200);
    });

    it('reads at most the band\'s quota of names below the lowest tier: the records above it exactly, the rest similar and in order', async () => {
      const lowest = Math.min(...searchTiers);
      let banded = 0;
      for (const q of goldens.slice(40, 72).map((g, i) => name(g, i % 2 === 0 ? 'Latin' : 'Arabic')).filter((x) => x.length >= 2)) {
        const all = await reference(q, 10_000, 0);
        const got = await searchGoldens(t.db, 'persons', { form: searchForm(q), commune: null, limit: 20, offset: 0 }, { band: 20 });
        const high = (rows: Array<{ id: string; sim: number }>) => rows.filter((r) => r.sim >= lowest);
        // Above the band, the reference's page: the same similarities, the same records but among ties with the last one.
        const [mine, theirs] = [high(got), high(all).slice(0, 20)];
        expect(mine.map((r) => r.sim), q).toEqual(theirs.map((r) => r.sim));
        const tied = mine.at(-1)?.sim;
        expect(mine.filter((r) => r.sim !== tied).map((r) => r.id), q).toEqual(theirs.filter((r) => r.sim !== tied).map((r) => r.id));
        const similar = new Map(all.map((r) => [r.id, r.sim]));
        for (const r of got) expect(similar.get(r.id), q).toBe(r.sim);
        expect(got, q).toEqual([...got].sort((a, b) => b.sim - a.sim || (a.id < b.id ? -1 : 1)));
        if (high(got).length < got.length) banded++;
      }
      expect(banded).toBeGreaterThan(5);
    });

    it('searches one form for both scripts: an Arabic name as the blocking text folds it, a Latin one by its key', () => {
      // The blocking text holds Latin names by their key and Arabic names folded: the key of an Arabic name must be its fold.
      const arabic = goldens.map((g) => name(g, 'Arabic')).filter(Boolean);
      expect(arabic.length).toBeGreaterThan(300);
      for (const n of arabic) expect(searchForm(n), n).toBe(foldArabic(n));
      for (const n of arabic.slice(0, 50)) expect(searchForm(n.replace(/ا/g, 'أ').replace(/ه(?= |$)/g, 'ة')), n).toBe(foldArabic(n));
      expect(searchForm('Fatima Zahra Seqqat')).toBe(personMatchProfile({ firstNameLatin: 'Fatima Zahra', lastNameLatin: 'Seqqat' }).blockingText);
      expect(searchForm('Mohamed محمد')).toBe(personMatchProfile({ firstNameLatin: 'Mohamed', firstNameArabic: 'محمد' }).blockingText);
    });

    it('filters by commune as the reference does, and answers through the service with the records', async () => {
      const g = goldens.find((x) => x.fields['commune']) ?? goldens[0];
      const commune = g?.fields['commune'] ?? null;
      const q = g ? name(g, 'Latin') || name(g, 'Arabic') : 'Amina';
      expect(await search(q, 20, 0, commune)).toEqual(await reference(q, 20, 0, commune));
      const answer = await call(`/search?q=${encodeURIComponent(q)}&limit=3`);
      expect(answer.status).toBe(200);
      const hits = answer.body.hits as Array<{ record: { goldenId: string; attributes: unknown }; similarity: number }>;
      expect(hits.map((h) => [h.record.goldenId, h.similarity])).toEqual((await search(q, 3, 0)).map((r) => [r.id, r.sim]));
      expect(hits[0]?.similarity).toBe(1);
      expect((await call('/search?q=a')).status).toBe(400);
    });
  });
});
