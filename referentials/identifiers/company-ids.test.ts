import { describe, expect, it } from 'vitest';
import { parseCnss, parseIf, parseRc } from './company-ids.ts';
import { findRcCourt, rcCourts } from './rc-courts.ts';

describe('IF (identifiant fiscal)', () => {
  it('accepts 7 or 8 digits, spaces and a label removed', () => {
    expect(parseIf('1234567')).toEqual({ ok: true, value: '1234567', warnings: [] });
    expect(parseIf('40 123 456')).toEqual({ ok: true, value: '40123456', warnings: [] });
    expect(parseIf('IF: 01234567')).toEqual({ ok: true, value: '01234567', warnings: [] });
  });
  it('refuses other shapes', () => {
    expect(parseIf('123456')).toEqual({ ok: false, code: 'if.length', message: 'an IF (identifiant fiscal) is 7 or 8 digits; got 6' });
    expect(parseIf('123456789')).toMatchObject({ ok: false, code: 'if.length' });
    expect(parseIf('12A4567')).toMatchObject({ ok: false, code: 'if.format', message: "an IF (identifiant fiscal) has only digits; found 'A' (U+0041)" });
    expect(parseIf('0000000')).toMatchObject({ ok: false, code: 'if.format' });
    expect(parseIf('')).toEqual({ ok: false, code: 'if.empty', message: 'the IF (identifiant fiscal) is empty' });
    expect(parseIf(1234567)).toMatchObject({ ok: false, code: 'if.type' });
  });
});

describe('CNSS employer number', () => {
  it('accepts 7 digits', () => {
    expect(parseCnss('1234567')).toEqual({ ok: true, value: '1234567', warnings: [] });
    expect(parseCnss('CNSS N° 123 45 67')).toEqual({ ok: true, value: '1234567', warnings: [] });
  });
  it('refuses other lengths and characters', () => {
    expect(parseCnss('12345678')).toEqual({ ok: false, code: 'cnss.length', message: 'a CNSS number is 7 digits; got 8' });
    expect(parseCnss('12345/67')).toMatchObject({ ok: false, code: 'cnss.format' });
    expect(parseCnss(undefined)).toMatchObject({ ok: false, code: 'cnss.type' });
  });
});

describe('RC (registre de commerce)', () => {
  it('keys the number by its court, however the court is written', () => {
    for (const court of ['Casablanca', 'casa', 'Tribunal de commerce de Casablanca', 'TC Casablanca', 'الدار البيضاء', 'المحكمة التجارية بالدار البيضاء']) {
      expect(parseRc('12345', court), court).toMatchObject({ ok: true, value: { number: '12345', courtId: 'casablanca', key: 'casablanca|12345', court: { kind: 'commerce', verified: true } }, warnings: [] });
    }
    expect(parseRc('RC n° 012345', 'Fès')).toMatchObject({ ok: true, value: { number: '012345', key: 'fes|12345' } });
    expect(parseRc(12345, 'Tanger')).toMatchObject({ ok: true, value: { key: 'tanger|12345' } });
  });

  it('the same number in two courts is two companies', () => {
    const rabat = parseRc('1000', 'Rabat');
    const fes = parseRc('1000', 'Fez');
    expect(rabat.ok && fes.ok && rabat.value.key !== fes.value.key).toBe(true);
  });

  it('knows the 8 commercial courts as verified and the first-instance courts as unverified', () => {
    expect(rcCourts.filter((c) => c.kind === 'commerce').map((c) => c.id).sort()).toEqual(['agadir', 'casablanca', 'fes', 'marrakech', 'meknes', 'oujda', 'rabat', 'tanger']);
    expect(rcCourts.filter((c) => c.kind === 'first-instance').every((c) => !c.verified)).toBe(true);
    expect(findRcCourt('Tribunal de première instance de Kénitra')).toMatchObject({ id: 'kenitra', kind: 'first-instance' });
    expect(findRcCourt('TPI El Jadida')).toMatchObject({ id: 'el-jadida' });
    expect(findRcCourt('بفاس')).toMatchObject({ id: 'fes' });
  });

  it('warns on a court it does not list, and refuses it only when asked to be strict', () => {
    const loose = parseRc('77', 'Ksar Sghir');
    expect(loose).toMatchObject({ ok: true, value: { court: null, courtId: 'ksar-sghir', key: 'ksar-sghir|77' } });
    expect(loose.ok ? loose.warnings : []).toHaveLength(1);
    expect(parseRc('77', 'Ksar Sghir', { strictCourt: true })).toEqual({
      ok: false,
      code: 'rc.court',
      message: "'Ksar Sghir' is not in the list of courts that keep a commercial register (the 8 tribunaux de commerce and the tribunaux de première instance)",
    });
  });

  it('refuses a bad number or a missing court, saying which', () => {
    expect(parseRc('12A45', 'Rabat')).toMatchObject({ ok: false, code: 'rc.number', message: "an RC number has only digits; found 'A' (U+0041)" });
    expect(parseRc('123456789', 'Rabat')).toMatchObject({ ok: false, code: 'rc.number' });
    expect(parseRc('0', 'Rabat')).toMatchObject({ ok: false, code: 'rc.number' });
    expect(parseRc('', 'Rabat')).toMatchObject({ ok: false, code: 'rc.empty' });
    expect(parseRc('123', '  ')).toMatchObject({ ok: false, code: 'rc.court', message: expect.stringContaining('the court is empty') });
    expect(parseRc('123', undefined)).toMatchObject({ ok: false, code: 'rc.court' });
  });
});
