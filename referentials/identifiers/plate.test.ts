import { describe, expect, it } from 'vitest';
import { formatPlate, parsePlate, plateLetter, type Plate } from './plate.ts';

function keyOf(written: string): string {
  const result = parsePlate(written);
  if (!result.ok) throw new Error(`${written}: ${result.message}`);
  return result.value.key;
}

function parsed(written: string): Plate {
  const result = parsePlate(written);
  if (!result.ok) throw new Error(`${written}: ${result.message}`);
  return result.value;
}

describe('standard plates (since 2000)', () => {
  it('gives one key for every written form, in both scripts', () => {
    const forms = [
      '12345-أ-6',
      '12345 | أ | 6',
      '12345|أ|6',
      '12345 أ 6',
      '12345أ6',
      '6-أ-12345', // typed right to left, as the plate is read in Arabic
      '6 | أ | 12345',
      '١٢٣٤٥-أ-٦', // Arabic-Indic digits
      '۱۲۳۴۵-أ-۶', // Eastern Arabic-Indic digits
      '12345-ا-6', // alif without hamza
      '12345-ﺃ-6', // presentation form
      '\u200f12345-أ-6\u200e', // bidi marks from a right-to-left interface
      '12345-A-6',
      '12345 A 6',
      '12345|a|6',
      '12345 A 6 MA', // with the country code carried abroad
      '012345-A-06', // zero-padded
    ];
    for (const form of forms) expect(keyOf(form), form).toBe('12345|A|6');
  });

  it('maps each documented letter to its Latin form, whatever the script', () => {
    const pairs: [string, string][] = [['أ', 'A'], ['ب', 'B'], ['د', 'D'], ['هـ', 'H'], ['و', 'W'], ['ط', 'T']];
    for (const [arabic, latin] of pairs) {
      expect(keyOf(`4321-${arabic}-33`), arabic).toBe(`4321|${latin}|33`);
      expect(keyOf(`4321-${latin}-33`), latin).toBe(`4321|${latin}|33`);
      expect(keyOf(`33 | ${arabic} | 4321`), `${arabic} reversed`).toBe(`4321|${latin}|33`);
    }
    // هـ is typed as ه, هـ, ھ or ة, and rendered E in some Latin copies.
    for (const form of ['4321-ه-33', '4321-ھ-33', '4321-ة-33', '4321-E-33']) expect(keyOf(form), form).toBe('4321|H|33');
  });

  it('returns the parts, the prefecture from the CSV and no warnings', () => {
    expect(parsePlate('12345-ب-40')).toEqual({
      ok: true,
      value: {
        type: 'standard',
        key: '12345|B|40',
        serial: 12345,
        letter: { latin: 'B', arabic: 'ب', documented: true },
        prefecture: expect.objectContaining({ code: 40, name: 'Tanger-Assilah', confidence: 'two-sources' }),
      },
      warnings: [],
    });
  });

  it('warns when both numbers could be the prefecture code, and reads them in the usual order', () => {
    const result = parsePlate('12-د-34');
    expect(result).toMatchObject({ ok: true, value: { key: '12|D|34' } });
    expect(result.ok ? result.warnings : []).toEqual(['both numbers could be the prefecture code; read as number 12 and prefecture 34 (the order 12345-د-6)']);
    // A number above 89 cannot be a code, so the order is clear.
    expect(parsePlate('6-أ-120')).toMatchObject({ ok: true, value: { key: '120|A|6' }, warnings: [] });
  });

  it('accepts codes 88 and 89 with a warning (in the range, named by no source)', () => {
    expect(parsePlate('12345-أ-88')).toMatchObject({ ok: true, value: { key: '12345|A|88', prefecture: { name: null, confidence: 'unverified' } }, warnings: ['prefecture code 88 is in the plate range but no source names it'] });
  });

  it('accepts a letter outside the documented six, with a warning (the set is open)', () => {
    expect(parsePlate('12345-ي-6')).toMatchObject({ ok: true, value: { key: '12345|Y|6', letter: { documented: false } }, warnings: [expect.stringContaining('not among those documented')] });
    expect(keyOf('12345-Y-6')).toBe('12345|Y|6');
    expect(keyOf('12345-ى-6')).toBe('12345|Y|6');
  });

  it('writes a plate back in either script', () => {
    expect(formatPlate(parsed('6|هـ|12345'))).toBe('12345-هـ-6');
    expect(formatPlate(parsed('6|هـ|12345'), 'latin')).toBe('12345-H-6');
    expect(plateLetter('ﻫ')).toMatchObject({ latin: 'H' });
  });
});

describe('other plate types', () => {
  it('old plates (before 2000): 1234-56 | 7, in either order', () => {
    expect(parsePlate('1234-56 | 7')).toEqual({ ok: true, value: { type: 'old', key: '1234|56|7', serial: 1234, series: 56, region: 7 }, warnings: [] });
    for (const form of ['1234-56-7', '1234 56 7', '7 | 56-1234', '١٢٣٤-٥٦-٧']) expect(keyOf(form), form).toBe('1234|56|7');
  });

  it('State plates: digits and M or المغرب', () => {
    for (const form of ['123456 المغرب', 'المغرب 123456', '123456-M', 'M 123456', 'M-123456', '123456 | M | المغرب', '١٢٣٤٥٦ المغرب']) {
      expect(parsePlate(form), form).toEqual({ ok: true, value: { type: 'state', key: 'M|123456', authority: 'state', serial: 123456, prefectureCode: null, prefecture: null }, warnings: [] });
    }
  });

  it('local authorities: ج or J, typed as State plates', () => {
    for (const form of ['12345 ج', 'ج 12345', '12345-J']) expect(parsePlate(form), form).toMatchObject({ ok: true, value: { type: 'state', authority: 'local', key: 'J|12345' } });
    for (const form of ['12345-ج-6', '6-ج-12345', '12345-J-6']) expect(parsePlate(form), form).toMatchObject({ ok: true, value: { type: 'state', authority: 'local', key: 'J|12345|6', prefectureCode: 6 } });
  });

  it('temporary plates: WW in Latin or as two waws, and W18', () => {
    for (const form of ['WW-123456', 'WW 123456', '123456 WW', 'ww123456', '123456-و و', 'وو 123456']) {
      expect(parsePlate(form), form).toEqual({ ok: true, value: { type: 'ww', key: 'WW|123456', series: 'WW', serial: 123456 }, warnings: [] });
    }
    expect(parsePlate('W18-4567')).toEqual({ ok: true, value: { type: 'ww', key: 'W18|4567', series: 'W18', serial: 4567 }, warnings: [] });
    expect(keyOf('W18 4567')).toBe('W18|4567');
    // Written after the number, W 18 is a standard plate: letter و, prefecture 18 (Sefrou).
    expect(parsed('4567 W 18')).toMatchObject({ type: 'standard', key: '4567|W|18' });
  });

  it('diplomatic plates: CD / CMD, or هـ د in Arabic', () => {
    for (const form of ['CD 123-19', 'CD-123-19', 'cd 123 19', 'هـ د 123-19', '123-19 هـ د', 'هد 123-19', 'CD 123-19 هـ د', 'MAROC CD 123-19 المغرب']) {
      expect(parsePlate(form), form).toEqual({ ok: true, value: { type: 'diplomatic', key: 'CD|123|19', category: 'CD', serial: 123, mission: 19 }, warnings: [] });
    }
    expect(parsePlate('CMD 5-19')).toMatchObject({ ok: true, value: { type: 'diplomatic', key: 'CMD|5|19', category: 'CMD' } });
    expect(parsePlate('CD 77')).toMatchObject({ ok: true, value: { key: 'CD|77', mission: null } });
    expect(formatPlate(parsed('CD 123-19'))).toBe('هـ د 123-19');
    expect(formatPlate(parsed('CD 123-19'), 'latin')).toBe('CD 123-19');
  });

  it('types never share a key', () => {
    const keys = ['12345-M-6', '123456-M', '1234-56-7', '1234-A-56', 'WW-1234', '1234-و-6', 'CD 1234-5', '1234-ج-5', '1234 ج'].map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('bad plates', () => {
  const cases: [written: unknown, code: string, message: string][] = [
    ['12345-أ-95', 'plate.prefecture', '95 is not a plate prefecture code (1 to 89)'],
    ['12345-أ-0', 'plate.prefecture', '0 is not a plate prefecture code (1 to 89)'],
    ['123456-أ-6', 'plate.serial', 'the registration number is at most 99999; got 123456 (up to 5 digits)'],
    ['0-أ-6', 'plate.serial', 'the registration number cannot be 0 (up to 5 digits)'],
    ['12345-6', 'plate.letter', 'the plate has no letter: since 2000 a letter sits between the number and the prefecture code (12345-أ-6 or 12345-A-6)'],
    ['12345-O-6', 'plate.letter', "'O' is not a plate letter; a plate has one letter (أ ب د هـ و ط …, or in Latin A B D H W T …)"],
    ['12345-أب-6', 'plate.letter', "'اب' is several letters; a plate has one letter (أ ب د هـ و ط …, or in Latin A B D H W T …)"],
    ['أ 12345 6', 'plate.order', 'the letter sits between the number and the prefecture code (12345-أ-6), not at an end'],
    ['12345 (A) 6', 'plate.character', "a plate has digits, one letter and separators; found '(' (U+0028)"],
    ['12345-أ', 'plate.form', 'a plate since 2000 is a number, a letter and a prefecture code (12345-أ-6); found 1 number'],
    ['WW 12-34', 'plate.form', 'a temporary plate is WW and one number (WW-123456); found 2 numbers'],
    ['12 المغرب 34', 'plate.form', 'a State plate is one number and M / المغرب (123456-M); found 2 numbers'],
    ['CD X 12', 'plate.form', "a diplomatic plate has CD or CMD and its numbers; 'X' does not belong on it"],
    ['', 'plate.empty', 'the plate is empty'],
    [' - | ', 'plate.empty', 'the plate is empty'],
    [12345, 'plate.type', 'a plate is a string such as 12345-أ-6, not a number'],
  ];
  it.each(cases)('%s → %s', (written, code, message) => {
    expect(parsePlate(written)).toEqual({ ok: false, code, message });
  });

  it('names the accepted forms when it cannot tell what the plate is', () => {
    const result = parsePlate('12345');
    expect(result).toMatchObject({ ok: false, code: 'plate.form' });
    expect(result.ok ? '' : result.message).toContain('12345-أ-6 or 12345-A-6 (since 2000)');
  });
});
