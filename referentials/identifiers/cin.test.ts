import { describe, expect, it } from 'vitest';
import { isValidCin, parseCin } from './cin.ts';

describe('CIN', () => {
  it('accepts one or two letters then digits, upper-cased, without spaces, dashes, dots or slashes', () => {
    expect(parseCin('AB123456')).toEqual({ ok: true, value: { value: 'AB123456', letters: 'AB', digits: '123456', key: 'AB123456' }, warnings: [] });
    expect(parseCin('K45678')).toEqual({ ok: true, value: { value: 'K45678', letters: 'K', digits: '45678', key: 'K45678' }, warnings: [] });
    for (const written of ['ab123456', 'AB 123 456', 'AB-123456', ' ab.123.456 ', 'AB/123456', 'Ab１２３４５６', 'AB١٢٣٤٥٦', '\u200fAB123456']) {
      expect(parseCin(written), written).toMatchObject({ ok: true, value: { value: 'AB123456', key: 'AB123456' } });
    }
  });

  it('keeps leading zeros in the value and drops them from the key', () => {
    expect(parseCin('A012345')).toEqual({ ok: true, value: { value: 'A012345', letters: 'A', digits: '012345', key: 'A12345' }, warnings: [] });
    expect(parseCin('A12345')).toMatchObject({ ok: true, value: { key: 'A12345' } });
  });

  it('refuses other shapes, naming what is wrong', () => {
    expect(parseCin('123456')).toEqual({ ok: false, code: 'cin.letters', message: "a CIN starts with 1 or 2 letters (the issuing office); '123456' has none" });
    expect(parseCin('ABC123')).toEqual({ ok: false, code: 'cin.letters', message: "a CIN starts with 1 or 2 letters (the issuing office); 'ABC123' has 3" });
    expect(parseCin('AB')).toEqual({ ok: false, code: 'cin.digits', message: "a CIN has digits after its letters; 'AB' has none" });
    expect(parseCin('A1234567890')).toMatchObject({ ok: false, code: 'cin.digits', message: expect.stringContaining('at most 8 digits') });
    expect(parseCin('AB000000')).toMatchObject({ ok: false, code: 'cin.digits' });
    expect(parseCin('AB12C34')).toMatchObject({ ok: false, code: 'cin.format' });
    expect(parseCin('أب123456')).toMatchObject({ ok: false, code: 'cin.format', message: expect.stringContaining('only Latin letters and digits') });
    expect(parseCin('')).toEqual({ ok: false, code: 'cin.empty', message: 'the CIN is empty' });
    expect(parseCin(123456)).toMatchObject({ ok: false, code: 'cin.type' });
    expect(isValidCin('BE 987654')).toBe(true);
  });
});
