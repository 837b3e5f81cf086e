// The JSON budget (src/http/json-budget.ts): what it counts, what it skips, and that it refuses before a parse would
// hold the event loop; strict UTF-8 decoding of bodies.
import { describe, expect, it } from 'vitest';
import { exceedsJsonBudget, jsonBudget, strictUtf8 } from '../src/http/json-budget.ts';

const small = { maxValues: 10, maxDepth: 3 };

describe('exceedsJsonBudget', () => {
  it('counts containers and separators, not the text inside strings', () => {
    expect(exceedsJsonBudget('{"a":[1,2,3],"b":{"c":1}}', small)).toBeUndefined();
    expect(exceedsJsonBudget(`[${'1,'.repeat(10)}1]`, small)).toEqual({ location: 'body', message: 'holds more than 10 JSON values' });
    // Brackets, commas and escaped quotes inside strings are text.
    expect(exceedsJsonBudget(`["${',[{'.repeat(100)}\\"${',,'.repeat(100)}"]`, small)).toBeUndefined();
  });

  it('refuses nesting past the depth, however few values', () => {
    expect(exceedsJsonBudget('[[[1]]]', small)).toBeUndefined();
    expect(exceedsJsonBudget('[[[[1]]]]', small)).toEqual({ location: 'body', message: 'nested more than 3 levels deep' });
    expect(exceedsJsonBudget('{"a":{"b":{"c":{"d":1}}}}', small)?.message).toMatch(/nested/);
  });

  it('refuses the 1 MiB body of empty objects that JSON.parse takes 100 ms or more to build, and admits a resolve of 1,000 items', () => {
    const flood = `{"items":[${Array.from({ length: 349_000 }, () => '{}').join(',')}]}`;
    expect(exceedsJsonBudget(flood)?.message).toBe(`holds more than ${jsonBudget.maxValues} JSON values`);
    const resolve = JSON.stringify({ items: Array.from({ length: 1000 }, (_, i) => ({ key: { type: 'ice', value: String(i).padStart(15, '0') }, source: { system: 'S', id: `id-${i}` } })) });
    expect(exceedsJsonBudget(resolve)).toBeUndefined();
  });

  it('ends on text that is not JSON (an unterminated string) without reading past it', () => {
    expect(exceedsJsonBudget('{"a":"unterminated', small)).toBeUndefined();
    expect(exceedsJsonBudget('"\\', small)).toBeUndefined();
  });
});

describe('strictUtf8', () => {
  it('decodes UTF-8 and refuses any other byte sequence rather than replacing it with U+FFFD', () => {
    expect(strictUtf8(Buffer.from('{"nom":"محمد"}', 'utf8'))).toBe('{"nom":"محمد"}');
    expect(strictUtf8(Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]))).toBeUndefined();
    expect(strictUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBeUndefined();
  });
});
