import { describe, expect, it } from 'vitest';
import { generateIce, iceControlKey, isValidIce, makeIce, parseIce } from './ice.ts';

// Real ICEs published online, collected in python-stdnum's tests (tests/test_ma_ice.doctest, LGPL; issue 226).
const realIces = [
  '001561191000066', '001527456000081', '002163624000014', '000039557000028', '000030205000041',
  '002968168000088', '000206981000071', '002838477000045', '003004995000009', '000106304000022',
  '000303003000093', '000084803000004', '003102867000036', '002143108000076',
];

describe('ICE', () => {
  it('accepts real ICEs and splits them into company, establishment and key', () => {
    for (const ice of realIces) expect(parseIce(ice), ice).toMatchObject({ ok: true, value: { value: ice }, warnings: [] });
    expect(parseIce('001561191000066')).toEqual({
      ok: true,
      value: { value: '001561191000066', company: '001561191', establishment: '0000', controlKey: '66' },
      warnings: [],
    });
  });

  it('strips spaces (the way ICEs are printed on invoices) and reads Arabic-Indic digits', () => {
    expect(parseIce('00 21 36 09 30 00 040')).toMatchObject({ ok: true, value: { value: '002136093000040' } });
    expect(parseIce(' 001561191000066\u00a0')).toMatchObject({ ok: true, value: { value: '001561191000066' } });
    expect(parseIce('٠٠١٥٦١١٩١٠٠٠٠٦٦')).toMatchObject({ ok: true, value: { value: '001561191000066' } });
  });

  it('refuses a bad control key: one digit changed, two digits swapped', () => {
    // 001561191000067 = 001561191000066 + 1 ≡ 1 (mod 97).
    const bumped = parseIce('001561191000067');
    expect(bumped).toMatchObject({ ok: false, code: 'ice.checksum' });
    expect(bumped.ok ? '' : bumped.message).toBe('ICE 001561191000067 fails its control key (the 15-digit number must be divisible by 97): a digit is probably mistyped');
    // Adjacent transpositions: 0015611910000|66 → …000|606 (≡ 55) and 0001561191…: both caught.
    expect(parseIce('001561191000606')).toMatchObject({ ok: false, code: 'ice.checksum' });
    expect(parseIce('001651191000066')).toMatchObject({ ok: false, code: 'ice.checksum' });
    expect(isValidIce('002163624000041')).toBe(false);
  });

  it('refuses the wrong length, with a hint when only leading zeros were lost', () => {
    expect(parseIce('1561191000066')).toEqual({
      ok: false,
      code: 'ice.length',
      message: 'an ICE is 15 digits; got 13 (if leading zeros were lost, 001561191000066 would be valid)',
    });
    expect(parseIce('12345')).toEqual({ ok: false, code: 'ice.length', message: 'an ICE is 15 digits; got 5' });
    expect(parseIce('0015611910000660')).toMatchObject({ ok: false, code: 'ice.length' });
  });

  it('refuses non-digits, empty input, placeholders and non-strings', () => {
    expect(parseIce('X0156119100006Z')).toEqual({ ok: false, code: 'ice.format', message: "an ICE has only digits; found 'X' (U+0058) at position 1" });
    expect(parseIce('001-561191-000066')).toMatchObject({ ok: false, code: 'ice.format' });
    expect(parseIce('   ')).toEqual({ ok: false, code: 'ice.empty', message: 'the ICE is empty' });
    expect(parseIce('000000000000000')).toMatchObject({ ok: false, code: 'ice.placeholder' });
    expect(parseIce(1561191000066)).toEqual({
      ok: false,
      code: 'ice.type',
      message: 'an ICE is a string of 15 digits, not a number (as a number it loses its leading zeros)',
    });
    expect(parseIce(null)).toMatchObject({ ok: false, code: 'ice.type' });
  });

  it('computes control keys that match hand computation', () => {
    // 000000001 0000 → 1000000 mod 97: 97 × 10309 = 999973, remainder 27; key = 97 − 27 = 70.
    // Check: 1000070 = 97 × 10310.
    expect(iceControlKey('0000000010000')).toBe('70');
    expect(makeIce('000000001')).toBe('000000001000070');
    // 123456789 0001 → 1234567890001 mod 97 = 61; × 100: 6100 = 97 × 62 + 86; key = 97 − 86 = 11.
    expect(makeIce('123456789', '0001')).toBe('123456789000111');
    expect(isValidIce('123456789000111')).toBe(true);
    // The key of a real ICE is found again from its first 13 digits.
    for (const ice of realIces) expect(iceControlKey(ice.slice(0, 13))).toBe(ice.slice(13));
  });

  it('generates valid ICEs, repeatably from a seeded source', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const first = Array.from({ length: 200 }, () => generateIce(random));
    for (const ice of first) expect(parseIce(ice), ice).toMatchObject({ ok: true });
    seed = 42;
    expect(Array.from({ length: 200 }, () => generateIce(random))).toEqual(first);
    expect(generateIce(() => 0.5, '0002').slice(9, 13)).toBe('0002');
  });

  it('throws on generator misuse (a programming error, not input)', () => {
    expect(() => makeIce('12345')).toThrow(RangeError);
    expect(() => makeIce('000000000')).toThrow(RangeError);
    expect(() => iceControlKey('12')).toThrow(RangeError);
  });
});
