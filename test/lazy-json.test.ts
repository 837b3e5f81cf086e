// lazyJsonObject: the object JSON.parse gives, parsed only when something looks inside it.
import { describe, expect, it } from 'vitest';
import { lazyJsonObject } from '../src/exchange/lazy-json.ts';
import { minimise } from '../src/exchange/minimise.ts';
import { extractSubjects } from '../src/exchange/subjects.ts';

describe('lazyJsonObject', () => {
  const text = '{"cin":"AB123456","names":{"latin":"Amina","arabic":"أمينة"},"tags":["a","b"],"__proto__":{"x":1}}';

  it('reads, lists and serialises as the parsed object does, __proto__ as data', () => {
    const lazy = lazyJsonObject(text);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(JSON.stringify(lazy)).toBe(JSON.stringify(parsed));
    expect(Object.keys(lazy)).toEqual(Object.keys(parsed));
    expect(Object.entries(lazy)).toEqual(Object.entries(parsed));
    expect(lazy['names']).toEqual({ latin: 'Amina', arabic: 'أمينة' });
    expect('cin' in lazy).toBe(true);
    expect('nope' in lazy).toBe(false);
    expect(Object.getOwnPropertyDescriptor(lazy, '__proto__')?.value).toEqual({ x: 1 });
    expect({ ...lazy }).toEqual({ ...parsed });
    // The text it keeps is not one of its keys.
    expect(Reflect.ownKeys(lazy)).toEqual(Reflect.ownKeys(parsed));
  });

  it('is an object to typeof and Array.isArray without parsing; parses, once, when looked into', () => {
    // Text that does not parse shows when the parse happens: not before a key is read.
    const broken = lazyJsonObject('{"cin": ');
    expect(typeof broken).toBe('object');
    expect(Array.isArray(broken)).toBe(false);
    expect(() => broken['cin']).toThrow(SyntaxError);
    expect(() => Object.keys(broken)).toThrow(SyntaxError);
    const lazy = lazyJsonObject(text);
    expect(lazy['names']).toBe(lazy['names']);
  });

  it('is read-only', () => {
    const lazy = lazyJsonObject(text);
    expect(() => {
      lazy['cin'] = 'x';
    }).toThrow(TypeError);
    expect(() => delete lazy['cin']).toThrow(TypeError);
    expect(() => Object.defineProperty(lazy, 'y', { value: 1 })).toThrow(TypeError);
    expect(lazy['cin']).toBe('AB123456');
  });

  it('gives what the parsed object gives to minimisation and to the subjects of an answer', () => {
    const answer = (attributes: Record<string, unknown>) => ({ results: [{ found: true, record: { goldenId: 'g1', attributes } }, { found: false }] });
    const lazy = answer(lazyJsonObject(text));
    const parsed = answer(JSON.parse(text) as Record<string, unknown>);
    for (const fields of [['results.record.attributes.cin'], ['results.found', 'results.record.attributes.names.latin'], ['results.record.attributes']]) {
      expect(JSON.stringify(minimise(lazy, fields))).toBe(JSON.stringify(minimise(parsed, fields)));
    }
    const where = [{ type: 'cin' as const, in: 'response' as const, name: 'results.record.attributes.cin' }];
    const input = (responseBody: unknown) => ({ pathParams: {}, query: new URLSearchParams(), responseBody });
    expect(extractSubjects(where, input(lazy))).toEqual([{ type: 'cin', value: 'AB123456', location: 'response.results.record.attributes.cin' }]);
    expect(extractSubjects(where, input(lazy))).toEqual(extractSubjects(where, input(parsed)));
  });
});
