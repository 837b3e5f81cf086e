// The RFC 4180 reader (quoting rules, line numbers, loud failures) and the writer (formula neutralisation).
import { describe, expect, it } from 'vitest';
import { CsvError, csvField, csvRecord, parseCsv, parseCsvTable } from '../src/golden/csv.ts';

describe('parseCsv', () => {
  it('reads plain records with LF or CRLF and an optional final line end', () => {
    expect(parseCsv('a,b\n1,2\n', 'f.csv').map((r) => r.fields)).toEqual([['a', 'b'], ['1', '2']]);
    expect(parseCsv('a,b\r\n1,2', 'f.csv').map((r) => r.fields)).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('keeps empty fields', () => {
    expect(parseCsv('a,,c\n,\n', 'f.csv').map((r) => r.fields)).toEqual([['a', '', 'c'], ['', '']]);
  });

  it('handles quoted fields with commas, doubled quotes and line breaks, and counts lines', () => {
    const records = parseCsv('name,note\n"Fès, ville","dit ""la savante"""\n"deux\nlignes",x\nlast,y\n', 'f.csv');
    expect(records.map((r) => r.fields)).toEqual([
      ['name', 'note'],
      ['Fès, ville', 'dit "la savante"'],
      ['deux\nlignes', 'x'],
      ['last', 'y'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5]);
  });

  it('ignores a UTF-8 byte-order mark', () => {
    expect(parseCsv('\uFEFFcode,name_ar\n01,الشرق\n', 'f.csv')[0]?.fields).toEqual(['code', 'name_ar']);
  });

  it('fails with file:line on an unterminated quote', () => {
    expect(() => parseCsv('a,b\n1,2\n"open,3\n4,5\n', 'bad.csv')).toThrow(/^bad\.csv:3: unterminated quoted field$/);
  });

  it('fails on a quote inside an unquoted field and on text after a closing quote', () => {
    expect(() => parseCsv('a,b\nab"c,2\n', 'bad.csv')).toThrow(CsvError);
    expect(() => parseCsv('a,b\nab"c,2\n', 'bad.csv')).toThrow(/^bad\.csv:2: quote inside an unquoted field/);
    expect(() => parseCsv('a,b\n"ab"c,2\n', 'bad.csv')).toThrow(/^bad\.csv:2: unexpected "c" after a closing quote/);
  });
});

describe('parseCsvTable', () => {
  it('returns named rows with their lines', () => {
    expect(parseCsvTable('code,name\n01,Tanger\n02,Oriental\n', 't.csv', ['code', 'name'])).toEqual([
      { line: 2, row: { code: '01', name: 'Tanger' } },
      { line: 3, row: { code: '02', name: 'Oriental' } },
    ]);
  });

  it('rejects a different header', () => {
    expect(() => parseCsvTable('code,nom\n01,Tanger\n', 't.csv', ['code', 'name'])).toThrow(/^t\.csv:1: header is "code,nom", expected "code,name"/);
  });

  it('rejects a row with the wrong number of fields, naming its line', () => {
    expect(() => parseCsvTable('code,name\n01,Tanger\n02,Oriental,extra\n', 't.csv', ['code', 'name'])).toThrow(/^t\.csv:3: 3 fields, expected 2/);
    expect(() => parseCsvTable('code,name\n01,Tanger\n\n02,Oriental\n', 't.csv', ['code', 'name'])).toThrow(/^t\.csv:3: 1 fields, expected 2/);
  });
});

describe('csvField (what the hub writes)', () => {
  it('neutralises a leading = + - @ tab or CR with a single quote (OWASP), so that a spreadsheet shows it rather than runs it', () => {
    expect(csvField('=HYPERLINK("http://evil.example","click")')).toBe('"\'=HYPERLINK(""http://evil.example"",""click"")"');
    expect(csvField("+cmd|' /C calc'!A0")).toBe("'+cmd|' /C calc'!A0");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1:A9)')).toBe("'@SUM(A1:A9)");
    expect(csvField('\t=1+1')).toBe("'\t=1+1");
    expect(csvField('\r=1+1')).toBe('"\'\r=1+1"');
  });

  it('leaves plain numbers, ordinary text and a formula character past the start unchanged', () => {
    for (const plain of ['-12', '+212600000000', '-0.5', '1e5', 'Casablanca', 'a=b', 'محمد', '', 'x@y.ma']) expect(csvField(plain)).toBe(plain);
    expect(csvField(undefined)).toBe('');
    expect(csvField(null)).toBe('');
    expect(csvField(['a', 'b'])).toBe('a;b');
  });

  it('writes records that the strict reader reads back, the neutralised ones with their quote', () => {
    const values = ['=1+1', 'a,b', 'say "hi"', 'two\nlines', '-7', '@x'];
    const [record] = parseCsv(`${csvRecord(values)}\n`, 'written.csv');
    expect(record?.fields).toEqual(["'=1+1", 'a,b', 'say "hi"', 'two\nlines', '-7', "'@x"]);
  });
});
