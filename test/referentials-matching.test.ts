// Issue 18 through the engine, on both drivers: a record tying two namesakes goes to review (one by one and in bulk),
// and one bad field (an unknown commune code, an invalid CIN) drops that field, keeps the person and says so.
import { describe, expect, it } from 'vitest';
import { contribute } from '../src/golden/engine.ts';
import { contributeBulk } from '../src/golden/bulk.ts';
import { personsModule } from '../referentials/persons/module.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { drivers, referentialsDbPerBlock, type TestDb } from './helpers/db.ts';

const persons = personsModule as unknown as ReferentialModule;

// Two namesakes with their own CINs, born the same day in the same commune, at the same address (twins would do).
const namesake = { firstNameLatin: 'Youssef', lastNameLatin: 'Tazi', firstNameArabic: 'يوسف', lastNameArabic: 'التازي', birthDate: '1984-03-09', birthCommune: '01.511.01.01', sex: 'M', address: '12 Rue de Fès', addressCommune: '01.511.01.01' };
// A third record without a CIN that scores exactly the same against both.
const unsure = { ...namesake };

describe.each(drivers())('persons matching (issue 18) on %s', (driver) => {
  let t!: TestDb;
  referentialsDbPerBlock(driver, (db) => (t = db));

  it('sends a record that ties two namesakes to review instead of linking it to the oldest', async () => {
    const a = await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 'a', attributes: { ...namesake, cin: 'BK123456' } });
    const b = await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 'b', attributes: { ...namesake, cin: 'BK654321' } });
    expect(b.goldenId).not.toBe(a.goldenId);
    const c = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 'c', attributes: unsure });
    expect(c.decision).toBe('review');
    const { rows } = await t.db.query<{ candidates: Array<{ goldenId: string }> }>(`SELECT candidates FROM ref_review_items WHERE source_id = 'c'`);
    expect(rows[0]?.candidates.map((x) => x.goldenId).sort()).toEqual([a.goldenId, b.goldenId].sort());
  });

  it('sends the same tie to review in a bulk import', async () => {
    const outcomes = await contributeBulk(t.db, persons, [
      { line: 1, sourceSystem: 'civil-registry', sourceId: 'ba', attributes: { ...namesake, cin: 'BK111111' } },
      { line: 2, sourceSystem: 'civil-registry', sourceId: 'bb', attributes: { ...namesake, cin: 'BK222222' } },
      { line: 3, sourceSystem: 'complaints', sourceId: 'bc', attributes: unsure },
    ]);
    expect(outcomes.map((o) => (o.ok ? o.decision : 'refused'))).toEqual(['created', 'created', 'review']);
  });

  // The classes of the issue through the engine: what links, what goes to review, what stays apart.
  const person = { lastNameLatin: 'Bennani', lastNameArabic: 'بناني', birthDate: '1980-04-11', birthCommune: '01.511.01.01', sex: 'M', address: '7 Derb Sidi Bouloukat', addressCommune: '01.511.01.01' };

  it('links compound names written with and without the space, in Arabic and in Latin (class 1)', async () => {
    const a = await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 'k1', attributes: { ...person, firstNameArabic: 'عبد القادر', cin: 'BK100001' } });
    const b = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 'k2', attributes: { ...person, firstNameArabic: 'عبدالقادر' } });
    expect(b.decision).toBe('linked-score');
    expect(b.goldenId).toBe(a.goldenId);
    const c = await contribute(t.db, persons, { sourceSystem: 'btp', sourceId: 'k3', attributes: { ...person, lastNameArabic: undefined, firstNameLatin: 'Abdel Kader' } });
    expect(c.goldenId).toBe(a.goldenId);
  });

  it("links Latin spelling variants of one name (class 3) and never links M'hamed to Mohamed (class 2)", async () => {
    const a = await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 'v1', attributes: { ...person, firstNameLatin: 'Mustapha', cin: 'BK100002' } });
    const b = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 'v2', attributes: { ...person, lastNameArabic: undefined, firstNameLatin: 'Mostafa' } });
    expect(b.goldenId).toBe(a.goldenId);
    const m = await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 'v3', attributes: { ...person, birthDate: '1971-02-03', firstNameArabic: 'محمد', cin: 'BK100003' } });
    const mh = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 'v4', attributes: { ...person, birthDate: '1971-02-03', lastNameArabic: undefined, firstNameLatin: "M'hamed" } });
    expect(mh.goldenId).not.toBe(m.goldenId);
  });

  it('sends a day/month swap with names alone to review instead of losing it (class 4)', async () => {
    const a = await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 's1', attributes: { ...person, firstNameLatin: 'Youssef', cin: 'BK100004' } });
    const namesOnly = { lastNameLatin: person.lastNameLatin, lastNameArabic: person.lastNameArabic, sex: 'M', firstNameLatin: 'Youssef' };
    const b = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 's2', attributes: { ...namesOnly, birthDate: '1980-11-04' } });
    expect(b.decision).toBe('review');
    const { rows } = await t.db.query<{ candidates: Array<{ goldenId: string }> }>(`SELECT candidates FROM ref_review_items WHERE source_id = 's2'`);
    expect(rows[0]?.candidates.map((x) => x.goldenId)).toEqual([a.goldenId]);
  });

  it('links a date slip that the names and the address corroborate, and not a father and son named alike (class 4)', async () => {
    const a = await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 'd1', attributes: { ...person, firstNameLatin: 'Youssef', cin: 'BK100007' } });
    const swap = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 'd2', attributes: { ...person, firstNameLatin: 'Youssef', birthDate: '1980-11-04' } });
    expect(swap.decision).toBe('linked-score');
    expect(swap.goldenId).toBe(a.goldenId);
    // The same names at the same address, born ten years later on the same day (one digit of the year): a generation,
    // not a slip: neither linked nor reviewed (docs/decisions.md §26).
    const son = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 'd3', attributes: { ...person, firstNameLatin: 'Youssef', birthDate: '1990-04-11' } });
    expect(son.goldenId).not.toBe(a.goldenId);
    expect(son.decision).toBe('created');
    // The same in a bulk import.
    const outcomes = await contributeBulk(t.db, persons, [
      { line: 1, sourceSystem: 'civil-registry', sourceId: 'd4', attributes: { ...person, birthDate: '1975-02-17', firstNameLatin: 'Samira', sex: 'F', cin: 'BK100008' } },
      { line: 2, sourceSystem: 'complaints', sourceId: 'd5', attributes: { ...person, birthDate: '1975-02-18', firstNameLatin: 'Samira', sex: 'F' } },
      { line: 3, sourceSystem: 'complaints', sourceId: 'd6', attributes: { ...person, birthDate: '1985-02-17', firstNameLatin: 'Samira', sex: 'F' } },
    ]);
    expect(outcomes.map((o) => (o.ok ? o.decision : 'refused'))).toEqual(['created', 'linked-score', 'created']);
  });

  it('keeps twins apart: same family, date, commune and address, two different first names (neither linked nor reviewed)', async () => {
    const a = await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 't1', attributes: { ...person, birthDate: '1990-06-21', firstNameLatin: 'Adel', firstNameArabic: 'عادل', cin: 'BK100005' } });
    const b = await contribute(t.db, persons, { sourceSystem: 'complaints', sourceId: 't2', attributes: { ...person, birthDate: '1990-06-21', firstNameLatin: 'Mustapha', firstNameArabic: 'مصطفى' } });
    expect(b.goldenId).not.toBe(a.goldenId);
    expect(b.decision).toBe('created');
    // The same in a bulk import.
    const outcomes = await contributeBulk(t.db, persons, [
      { line: 1, sourceSystem: 'civil-registry', sourceId: 't3', attributes: { ...person, birthDate: '1991-07-22', firstNameLatin: 'Nadia', firstNameArabic: 'نادية', sex: 'F', cin: 'BK100006' } },
      { line: 2, sourceSystem: 'complaints', sourceId: 't4', attributes: { ...person, birthDate: '1991-07-22', firstNameLatin: 'Layla', firstNameArabic: 'ليلى', sex: 'F' } },
    ]);
    expect(outcomes.map((o) => (o.ok ? o.decision : 'refused'))).toEqual(['created', 'created']);
  });

  it('keeps a person whose commune code is unknown or whose CIN is invalid, without that field, and says so', async () => {
    const outcomes = await contributeBulk(t.db, persons, [
      { line: 1, sourceSystem: 'btp', sourceId: 'x1', attributes: { ...namesake, cin: 'BK777777', birthCommune: '99.999.99.99' } },
      { line: 2, sourceSystem: 'btp', sourceId: 'x2', attributes: { ...namesake, firstNameLatin: 'Karima', firstNameArabic: 'كريمة', sex: 'F', cin: '12-ABC', addressCommune: 'Casablanca' } },
    ]);
    const [first, second] = outcomes;
    expect(first?.ok && first.warnings.some((w) => w.startsWith('birthCommune: dropped:'))).toBe(true);
    expect(second?.ok && second.warnings.some((w) => w.startsWith('cin: dropped:'))).toBe(true);
    expect(second?.ok && second.warnings.some((w) => w.startsWith('addressCommune: dropped:'))).toBe(true);
    const { rows } = await t.db.query<{ attributes: Record<string, unknown> }>(
      `SELECT g.attributes FROM ref_golden g JOIN ref_links l ON l.golden_id = g.id WHERE l.source_id = 'x1'`,
    );
    expect(rows[0]?.attributes).not.toHaveProperty('birthCommune');
    const single = await contribute(t.db, persons, { sourceSystem: 'btp', sourceId: 'x3', attributes: { ...namesake, firstNameLatin: 'Karima', firstNameArabic: 'كريمة', sex: 'F', cin: 'not a cin' } });
    expect(single.warnings.some((w) => w.startsWith('cin: dropped:'))).toBe(true);
  });
});
