// Persons module: validation naming every field at fault, 2014 commune codes, natural keys, match profile.

import { describe, expect, it } from 'vitest';
import { personsModule } from './module.ts';

const valid = {
  cin: 'ab 12345', firstNameLatin: 'Mohamed', lastNameLatin: 'El Idrissi', firstNameArabic: 'محمد', lastNameArabic: 'الإدريسي',
  birthDate: '1980-02-29', birthCommune: '01.511.01.01', sex: 'm', address: '12 Rue de Fès', addressCommune: '001511010', status: 'alive',
};

describe('persons: normalise', () => {
  it('accepts a valid record and normalises it', () => {
    const result = personsModule.normalise(valid);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.attributes.cin).toBe('AB12345');
    expect(result.attributes.sex).toBe('M');
    expect(result.attributes.addressCommune).toBe('01.511.01.0');
    expect(result.warnings).toEqual([]);
  });

  it('names every field at fault at once', () => {
    const result = personsModule.normalise({
      ...valid, cin: '12345', birthDate: '1980-02-30', birthCommune: '99.999.99.99', addressCommune: 'casa', sex: 'x', status: 'gone', deathDate: '2999-01-01',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.location).sort()).toEqual(
      // An unknown commune code and an invalid CIN are dropped with a warning, not refused (issue 18 item 7).
      ['body.birthDate', 'body.deathDate', 'body.sex', 'body.status'].sort(),
    );
    for (const p of result.problems) expect(p.message.length).toBeGreaterThan(5);
  });

  it('refuses birth dates in the future, malformed dates, and a record without a name', () => {
    const future = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
    const result = personsModule.normalise({ birthDate: future, cin: 'K1' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.location).sort()).toEqual(['body.birthDate', 'body.lastNameLatin']);
    const bad = personsModule.normalise({ lastNameLatin: 'Tazi', birthDate: '12/03/1980' });
    expect(bad.ok ? [] : bad.problems.map((p) => p.location)).toEqual(['body.birthDate']);
  });

  it('maps a 2014 commune code to today\'s, with a warning', () => {
    const result = personsModule.normalise({ lastNameLatin: 'Tazi', birthCommune: '01.051.05.01' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.attributes.birthCommune).toBe('01.051.11.01');
    expect(result.warnings.join(' ')).toMatch(/2014 commune code 01\.051\.05\.01/);
  });

  it('marks a person with a death date deceased, and refuses a death before birth', () => {
    const dead = personsModule.normalise({ lastNameLatin: 'Tazi', birthDate: '1950-01-01', deathDate: '2001-01-01' });
    expect(dead.ok && dead.attributes.status).toBe('deceased');
    const bad = personsModule.normalise({ lastNameLatin: 'Tazi', birthDate: '1950-01-01', deathDate: '1940-01-01' });
    expect(bad.ok ? [] : bad.problems.map((p) => p.location)).toEqual(['body.deathDate']);
  });

  it('refuses a non-object', () => {
    const result = personsModule.normalise('hello');
    expect(result.ok ? [] : result.problems.map((p) => p.location)).toContain('body');
  });
});

describe('persons: keys and profile', () => {
  it('keys on the CIN key (letters + digits without leading zeros)', () => {
    const result = personsModule.normalise({ ...valid, cin: 'ab-012345' });
    if (!result.ok) throw new Error('expected valid');
    expect(personsModule.naturalKeys(result.attributes)).toEqual([{ type: 'cin', value: 'AB12345' }]);
    expect(personsModule.naturalKeys({ lastNameLatin: 'Tazi' })).toEqual([]);
  });

  it('builds a profile with the Latin key and the Arabic folded name in the blocking text', () => {
    const result = personsModule.normalise(valid);
    if (!result.ok) throw new Error('expected valid');
    const profile = personsModule.matchProfile?.(result.attributes);
    expect(profile?.blockingText).toBe('muhamad al idrisi محمد الادريسي');
    expect(profile?.fields).toMatchObject({ birthDate: '1980-02-29', birthYear: '1980', sex: 'M', commune: '01.511.01.01', cin: 'AB12345' });
  });
});
