// Data minimisation: only the fields a convention allows leave the hub, arrays applied per element, the input untouched.
import { describe, expect, it } from 'vitest';
import { compileMinimiser, minimise } from '../src/exchange/minimise.ts';

const classification = {
  ice: '001525458000088',
  raisonSociale: 'Bâtiments du Souss SARL',
  adresse: { ville: 'Agadir', rue: '12 rue Al Qods', geo: { lat: 30.42, lon: -9.6 } },
  gerant: { cin: 'JB123456', nom: 'Amrani', telephone: '0600000000' },
  classes: [
    { secteur: 'A', classe: 2, chiffreAffaires: 1_200_000 },
    { secteur: 'C', classe: 5, chiffreAffaires: 9_800_000 },
  ],
  tags: ['btp', 'public'],
  dateRetrait: null,
};

describe('minimise', () => {
  it('returns the body itself when the convention allows all fields', () => {
    expect(minimise(classification, undefined)).toBe(classification);
  });

  it('keeps only the allowed top-level fields, in the provider order', () => {
    const result = minimise(classification, ['raisonSociale', 'ice', 'dateRetrait', 'absent']);
    expect(result).toEqual({ ice: '001525458000088', raisonSociale: 'Bâtiments du Souss SARL', dateRetrait: null });
    expect(Object.keys(result as object)).toEqual(['ice', 'raisonSociale', 'dateRetrait']);
  });

  it('keeps parents of nested fields as pruned objects', () => {
    expect(minimise(classification, ['gerant.cin', 'adresse.geo.lat', 'adresse.ville'])).toEqual({
      adresse: { ville: 'Agadir', geo: { lat: 30.42 } },
      gerant: { cin: 'JB123456' },
    });
  });

  it('keeps a field naming an object or an array whole, even with narrower paths listed', () => {
    expect(minimise(classification, ['adresse.ville', 'adresse', 'tags'])).toEqual({ adresse: classification.adresse, tags: ['btp', 'public'] });
    expect(minimise(classification, ['gerant', 'gerant.cin'])).toEqual({ gerant: classification.gerant });
  });

  it('applies a path through an array to every element', () => {
    expect(minimise(classification, ['classes.secteur', 'classes.classe'])).toEqual({
      classes: [
        { secteur: 'A', classe: 2 },
        { secteur: 'C', classe: 5 },
      ],
    });
    expect(minimise({ pages: [[{ a: 1, b: 2 }], [{ a: 3 }]] }, ['pages.a'])).toEqual({ pages: [[{ a: 1 }], [{ a: 3 }]] });
  });

  it('applies the paths to each element of a top-level array', () => {
    expect(minimise([classification, { ...classification, ice: '002000000000001' }], ['ice', 'classes.secteur'])).toEqual([
      { ice: '001525458000088', classes: [{ secteur: 'A' }, { secteur: 'C' }] },
      { ice: '002000000000001', classes: [{ secteur: 'A' }, { secteur: 'C' }] },
    ]);
  });

  it('drops scalars where the paths expect objects, keeps null, and turns a scalar body into null', () => {
    expect(minimise({ gerant: 'Amrani', adresse: null, classes: ['A', { secteur: 'B', x: 1 }, null] }, ['gerant.cin', 'adresse.ville', 'classes.secteur'])).toEqual({
      adresse: null,
      classes: [{ secteur: 'B' }, null],
    });
    expect(minimise('secret', ['ice'])).toBeNull();
    expect(minimise(classification, [])).toEqual({});
  });

  it('never mutates the input and shares nothing with it', () => {
    const body = structuredClone(classification);
    const result = minimise(body, ['adresse', 'classes.secteur', 'gerant.cin']) as typeof classification;
    expect(body).toEqual(classification);
    result.adresse.geo.lat = 0;
    const [firstClass] = result.classes;
    if (firstClass !== undefined) firstClass.secteur = 'Z';
    expect(body.adresse.geo.lat).toBe(30.42);
    expect(body.classes[0]?.secteur).toBe('A');
  });

  it('treats __proto__ from JSON as data, not as a prototype', () => {
    const body = JSON.parse('{"__proto__": {"polluted": true}, "ice": "1"}') as unknown;
    const result = minimise(body, ['__proto__', 'ice']) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__', 'ice']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('compileMinimiser', () => {
  it('compiles once and gives the same result as minimise for every body', () => {
    const fields = ['ice', 'classes.secteur'];
    const cut = compileMinimiser(fields);
    for (const body of [classification, [classification], { ice: 'x' }, null]) expect(cut(body)).toEqual(minimise(body, fields));
  });

  it('is the identity without fields', () => {
    expect(compileMinimiser(undefined)(classification)).toBe(classification);
  });
});
