// jsonFaults: what a JSON value holds that PostgreSQL cannot store, found in document order with its path.
import { describe, expect, it } from 'vitest';
import { jsonFaults, maxJsonDepth } from '../src/storage/storable.ts';

const nested = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { a: [v] };
  return v;
};

describe('jsonFaults', () => {
  it('names each fault by its path, in document order: strings, keys and depth', () => {
    const value = { a: 'ok', b: ['x', 'nul\u0000', { c: '\ud800' }], ['k\u0000ey']: 1, d: { e: nested(maxJsonDepth) } };
    expect(jsonFaults(value)).toEqual([
      { path: ['b', 1], message: 'contains U+0000 (NUL), which cannot be stored' },
      { path: ['b', 2, 'c'], message: 'contains a lone surrogate (U+D800 to U+DFFF alone is not Unicode text)' },
      { path: ['k\ufffdey'], message: 'its name contains U+0000 (NUL), which cannot be stored' },
      { path: ['d', 'e', ...Array.from({ length: maxJsonDepth / 2 - 1 }, () => ['a', 0]).flat()], message: `is nested more than ${maxJsonDepth} levels deep` },
    ]);
    expect(jsonFaults({ a: ['x', { b: 1, c: [null, true, 2.5] }] })).toEqual([]);
  });

  it('stops at 20 faults and at 1,000 levels whatever the caller asks, without overflowing the stack', () => {
    expect(jsonFaults(Array.from({ length: 100 }, () => '\u0000'))).toHaveLength(20);
    const deep = jsonFaults(nested(20_000), { maxDepth: 50_000 });
    expect(deep).toHaveLength(1);
    expect(deep[0]?.path).toHaveLength(1000);
  });

  it('reads own keys only', () => {
    const inherited = Object.create({ ['bad\u0000']: 'x\u0000' }) as Record<string, unknown>;
    inherited['fine'] = 'yes';
    expect(jsonFaults(inherited)).toEqual([]);
  });
});
