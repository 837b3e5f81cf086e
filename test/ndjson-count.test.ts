// The import's first pass on an NDJSON file's bytes (src/cli/ndjson-count.ts): the same count and the same refusal as
// decoding the file and trimming its lines, however the reads cut the bytes.
import { describe, expect, it } from 'vitest';
import { incompleteTail, NdjsonCounter, NotUtf8Error } from '../src/cli/ndjson-count.ts';

/** The reference: the file decoded strictly, split on line feeds, each line trimmed (what the second pass skips). */
function decodedCount(bytes: Uint8Array): number {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  return text.split('\n').filter((line) => line.trim() !== '').length;
}

/** The counter fed `bytes` cut at `cuts` (offsets, ascending). */
function countInPieces(bytes: Uint8Array, cuts: readonly number[]): number {
  const counter = new NdjsonCounter();
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    counter.push(bytes.subarray(from, cut));
    from = cut;
  }
  return counter.end();
}

function refusal(bytes: Uint8Array, cuts: readonly number[]): number | undefined {
  try {
    countInPieces(bytes, cuts);
    return undefined;
  } catch (err) {
    if (err instanceof NotUtf8Error) return err.line;
    throw err;
  }
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('counting NDJSON rows on the bytes', () => {
  const lines = [
    '{"sourceId":"a","attributes":{"lastNameArabic":"العلوي"}}',
    '',
    '   \t  ',
    '\r',
    '\uFEFF{"sourceId":"bom"}',
    '\u00A0\u3000 ',
    '\u2028',
    '\u00A0 x',
    'محمد',
    '😀',
    'not json at all',
    '\uFEFF',
  ];

  it('counts as decoding and trimming does, cut anywhere, every line ending kept or not', () => {
    for (const ending of ['\n', '\r\n']) {
      for (const last of ['', ending]) {
        const bytes = utf8(lines.join(ending) + last);
        const expected = decodedCount(bytes);
        expect(expected).toBe(6);
        for (let cut = 0; cut <= bytes.length; cut++) expect(countInPieces(bytes, [cut])).toBe(expected);
        for (let cut = 1; cut + 3 <= bytes.length; cut += 7) expect(countInPieces(bytes, [cut, cut + 1, cut + 3])).toBe(expected);
      }
    }
  });

  it('counts an empty file, a file of blank lines, and a line of white space only beyond a read', () => {
    expect(countInPieces(new Uint8Array(0), [])).toBe(0);
    expect(countInPieces(utf8('\n\n \n'), [1])).toBe(0);
    const spaces = utf8(`${'\u00A0'.repeat(1000)}\n${' '.repeat(1000)}{}\n`);
    expect(countInPieces(spaces, [3, 999, 1500])).toBe(1);
  });

  it('refuses bytes that are not UTF-8 on the line the decoder names, cut anywhere', () => {
    const good = utf8('{"a":"é"}\n{"b":"محمد"}\n');
    const cases: Array<[Uint8Array, number]> = [
      [Uint8Array.from([...good, 0xff, 0x0a]), 3],
      [Uint8Array.from([...good, 0x7b, 0xe2, 0x28, 0xa1, 0x7d]), 3],
      [Uint8Array.from([0xc3, 0x0a, ...good]), 1],
      [Uint8Array.from([...good, 0x0a, 0xed, 0xa0, 0x80]), 4], // a surrogate
      [Uint8Array.from([...good, 0xc0, 0xaf]), 3], // an overlong slash
      [Uint8Array.from([...good, 0x7b, 0xe2, 0x82]), 3], // cut off by the end of the file
    ];
    for (const [bytes, line] of cases) {
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
      for (let cut = 0; cut <= bytes.length; cut++) expect(refusal(bytes, [cut]), `cut at ${cut}`).toBe(line);
    }
  });

  it('keeps only the start of a sequence for the next read', () => {
    expect(incompleteTail(utf8('ab'))).toBe(0);
    expect(incompleteTail(utf8('é').subarray(0, 1))).toBe(1);
    expect(incompleteTail(utf8('é'))).toBe(0);
    expect(incompleteTail(utf8('😀').subarray(0, 3))).toBe(3);
    expect(incompleteTail(utf8('😀'))).toBe(0);
    expect(incompleteTail(Uint8Array.from([0x80, 0x80, 0x80, 0x80]))).toBe(0);
  });
});
