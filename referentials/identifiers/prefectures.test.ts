import { describe, expect, it } from 'vitest';
import { loadPlatePrefectures, parseCsv, platePrefecture, platePrefectures } from './prefectures.ts';

describe('plate prefecture codes', () => {
  it('loads codes 1 to 89 from the CSV, with how sure each is', () => {
    expect([...platePrefectures.keys()]).toEqual(Array.from({ length: 89 }, (_, i) => i + 1));
    expect(platePrefecture(6)).toMatchObject({ code: 6, name: 'Casablanca-Anfa', confidence: 'two-sources' });
    expect(platePrefecture(75)).toMatchObject({ name: "M'diq-Fnideq", confidence: 'one-source' });
    expect(platePrefecture(89)).toMatchObject({ name: null, confidence: 'unverified' });
    expect(platePrefecture(90)).toBeUndefined();
  });

  it('parses quoted fields, doubled quotes, CRLF and a BOM', () => {
    expect(parseCsv('\ufeffa,b\r\n1,"x, ""y"""\r\n2,\n')).toEqual([['a', 'b'], ['1', 'x, "y"'], ['2', '']]);
    expect(() => parseCsv('a,"b')).toThrow(/quoted/);
  });

  it('refuses a malformed file', () => {
    expect(() => loadPlatePrefectures('code,name\n1,Rabat\n')).toThrow(/header/);
    expect(() => loadPlatePrefectures('plate_code,issuing_prefecture_or_province,sources\n1,Rabat,x\n1,Rabat,x\n')).toThrow(/repeated/);
  });
});
