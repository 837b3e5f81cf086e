// flat: the same string back, whatever it holds (it is only made flat in V8's heap; decisions §32).
import { describe, expect, it } from 'vitest';
import { flat } from '../src/text/flat.ts';

describe('flat', () => {
  it('returns its argument unchanged: built from pieces, number-like, empty, two-byte', () => {
    let built = '{"a":';
    for (let i = 0; i < 200; i++) built += `${i},"محمد ${i}"`;
    const copy = built.split('').join('');
    expect(flat(built)).toBe(copy);
    for (const s of ['', '12', '  3.5 ', '0x1f', 'Infinity', 'NaN', '1e400', 'عبد القادر', '\u0000', '\ud800']) expect(flat(s)).toBe(s);
  });
});
