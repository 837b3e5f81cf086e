import { describe, expect, it } from 'vitest';
import { parseVin, vinCheckDigit } from './vin.ts';

describe('VIN', () => {
  it('accepts VINs whose position 9 matches the North-American check digit', () => {
    // The textbook example (49 CFR 565 / Wikipedia): check digit X.
    expect(parseVin('1M8GDM9AXKP042788')).toEqual({
      ok: true,
      value: { value: '1M8GDM9AXKP042788', wmi: '1M8', vds: 'GDM9AX', vis: 'KP042788', checkDigitValid: true },
      warnings: [],
    });
    for (const vin of ['1HGCM82633A004352', 'JH4KA7561PC008269']) expect(parseVin(vin), vin).toMatchObject({ ok: true, value: { checkDigitValid: true }, warnings: [] });
  });

  it('computes the check digit by hand on a simple case', () => {
    // All ones: every value is 1, so the sum is the sum of the weights:
    // 8+7+6+5+4+3+2+10+0+9+8+7+6+5+4+3+2 = 89; 89 mod 11 = 1.
    expect(vinCheckDigit('11111111111111111')).toBe('1');
    expect(vinCheckDigit('1M8GDM9AXKP042788')).toBe('X');
  });

  it('warns, never refuses, when the check digit does not match', () => {
    const corrupted = parseVin('1M8GDM9A1KP042788');
    expect(corrupted).toEqual({
      ok: true,
      value: { value: '1M8GDM9A1KP042788', wmi: '1M8', vds: 'GDM9A1', vis: 'KP042788', checkDigitValid: false },
      warnings: ["check digit (position 9) is '1' where the North-American rule gives 'X'; VINs from outside North America often do not use it, so this is not an error on its own"],
    });
    // A digit changed elsewhere also shows up as a check-digit mismatch.
    expect(parseVin('1M8GDM9AXKP042789')).toMatchObject({ ok: true, value: { checkDigitValid: false }, warnings: [expect.stringContaining('check digit')] });
    // A European VIN (VW: ZZZ filler, position 9 a letter): accepted, with the warning.
    expect(parseVin('WVWZZZ1JZXW000001')).toMatchObject({ ok: true, value: { checkDigitValid: false }, warnings: [expect.stringContaining("is 'Z'")] });
  });

  it('normalises case, spaces and dashes', () => {
    expect(parseVin(' 1m8gdm9axkp042788 ')).toMatchObject({ ok: true, value: { value: '1M8GDM9AXKP042788' } });
    expect(parseVin('1M8-GDM9AX-KP042788')).toMatchObject({ ok: true, value: { value: '1M8GDM9AXKP042788' } });
  });

  it('refuses I, O and Q, the wrong length, other characters and non-strings', () => {
    expect(parseVin('1M8GDM9AXKP04278O')).toEqual({ ok: false, code: 'vin.letter', message: 'a VIN never contains I, O or Q; found O at position 17 (perhaps 0)' });
    expect(parseVin('IM8GDM9AXKP042788')).toMatchObject({ ok: false, code: 'vin.letter', message: expect.stringContaining('found I at position 1 (perhaps 1)') });
    expect(parseVin('1M8GDM9AXKP04278Q')).toMatchObject({ ok: false, code: 'vin.letter' });
    expect(parseVin('1M8GDM9AXKP04278')).toEqual({ ok: false, code: 'vin.length', message: 'a VIN is 17 characters; got 16' });
    expect(parseVin('1M8GDM9AXKP0427888')).toMatchObject({ ok: false, code: 'vin.length' });
    expect(parseVin('1M8GDM9AXKP04278*')).toMatchObject({ ok: false, code: 'vin.format', message: expect.stringContaining('position 17') });
    expect(parseVin('')).toMatchObject({ ok: false, code: 'vin.empty' });
    expect(parseVin(17)).toMatchObject({ ok: false, code: 'vin.type' });
  });
});
