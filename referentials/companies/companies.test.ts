// Companies module: ICE control key refused, every field at fault named, RC with its court, natural keys, trust order.

import { describe, expect, it } from 'vitest';
import { makeIce } from '../identifiers/index.ts';
import { companiesModule } from './module.ts';

const ice = makeIce('001234567');
const valid = {
  ice, if: '12345678', rc: { number: '12345', court: 'Tribunal de commerce de Casablanca' }, cnss: '1234567',
  nameFr: 'Atlas Négoce', nameAr: 'شركة الأطلس للتجارة', legalForm: 'sarl', status: 'active', address: '12 Zone industrielle',
  commune: '01.051.05.01', createdOn: '2001-05-12',
};

describe('companies: normalise', () => {
  it('accepts a valid record; 2014 commune code mapped with a warning', () => {
    const result = companiesModule.normalise(valid);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.attributes).toMatchObject({ ice, legalForm: 'SARL', rc: { number: '12345', court: 'Casablanca', key: 'casablanca|12345' }, commune: '01.051.11.01' });
    expect(result.warnings.join(' ')).toMatch(/2014 commune code/);
  });

  it('refuses an ICE whose mod-97 control key is wrong', () => {
    const bad = `${ice.slice(0, 13)}${String((Number(ice.slice(13)) + 1) % 100).padStart(2, '0')}`;
    const result = companiesModule.normalise({ ...valid, ice: bad });
    expect(result.ok ? [] : result.problems.map((p) => p.location)).toEqual(['body.ice']);
    expect(result.ok ? '' : result.problems[0]?.message).toMatch(/control key/);
  });

  it('names every field at fault at once', () => {
    const result = companiesModule.normalise({
      ...valid, ice: '123', if: 'abc', rc: { number: 'x1', court: 'Casablanca' }, cnss: '12', legalForm: 'LLC', status: 'sleeping', commune: '00', createdOn: '2001-13-01',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.location).sort()).toEqual(
      ['body.cnss', 'body.commune', 'body.createdOn', 'body.ice', 'body.if', 'body.legalForm', 'body.rc.number', 'body.status'].sort(),
    );
  });

  it('needs an identifier and a name; an RC without its court is refused', () => {
    const none = companiesModule.normalise({ legalForm: 'SA' });
    expect(none.ok ? [] : none.problems.map((p) => p.location).sort()).toEqual(['body.ice', 'body.nameFr']);
    const noCourt = companiesModule.normalise({ nameFr: 'X', rc: { number: '12' } });
    expect(noCourt.ok ? [] : noCourt.problems.map((p) => p.location)).toEqual(['body.rc.court']);
    const flat = companiesModule.normalise({ nameFr: 'X', ice, rc: '12345 Casablanca' });
    expect(flat.ok ? [] : flat.problems.map((p) => p.location)).toEqual(['body.rc']);
  });
});

describe('companies: keys', () => {
  it('keys on the ICE and the RC key; matches on identifiers only', () => {
    const result = companiesModule.normalise(valid);
    if (!result.ok) throw new Error('expected valid');
    expect(companiesModule.naturalKeys(result.attributes)).toEqual([{ type: 'ice', value: ice }, { type: 'rc', value: 'casablanca|12345' }]);
    // A profile for search (the names), but no score: nothing links companies but their identifiers.
    expect(companiesModule.score).toBeUndefined();
    expect(companiesModule.blockingKeys).toBeUndefined();
    expect(companiesModule.matchProfile?.(result.attributes)?.blockingText).toBeTruthy();
    expect(companiesModule.trust.default[0]).toBe('ompic');
  });
});
