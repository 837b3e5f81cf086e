// Subjects of an exchange: found in the path, the query or the answer, normalised, and hashed with a stable keyed HMAC.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { extractSubjects, normaliseSubject, subjectHmac } from '../src/exchange/subjects.ts';

const answer = {
  ice: '001525458000088',
  gerant: { cin: 'JB123456', nom: 'Amrani' },
  associes: [{ cin: 'AB 12-34' }, { cin: 'K998877' }, { cin: 'ab1234' }, { nom: 'sans cin' }],
  vehicules: [{ plates: ['12345-ب-6', '7788-أ-1'] }, { plates: [] }],
  numeroIf: 40123456,
  empty: '',
};

describe('extractSubjects', () => {
  it('finds subjects in the path, the query and the answer, every value in arrays', () => {
    const subjects = extractSubjects(
      [
        { type: 'ice', in: 'path', name: 'ice' },
        { type: 'cin', in: 'query', name: 'cin' },
        { type: 'cin', in: 'response', name: 'gerant.cin' },
        { type: 'cin', in: 'response', name: 'associes.cin' },
        { type: 'plate', in: 'response', name: 'vehicules.plates' },
        { type: 'if', in: 'response', name: 'numeroIf' },
      ],
      { pathParams: { ice: '001525458000088' }, query: new URLSearchParams('cin=BE654321&cin=X1&other=1'), responseBody: answer },
    );
    expect(subjects).toEqual([
      { type: 'ice', value: '001525458000088', location: 'path.ice' },
      { type: 'cin', value: 'BE654321', location: 'query.cin' },
      { type: 'cin', value: 'X1', location: 'query.cin' },
      { type: 'cin', value: 'JB123456', location: 'response.gerant.cin' },
      // 'ab1234' is the same CIN as 'AB 12-34' once normalised: reported once.
      { type: 'cin', value: 'AB 12-34', location: 'response.associes.cin' },
      { type: 'cin', value: 'K998877', location: 'response.associes.cin' },
      { type: 'plate', value: '12345-ب-6', location: 'response.vehicules.plates' },
      { type: 'plate', value: '7788-أ-1', location: 'response.vehicules.plates' },
      { type: 'if', value: '40123456', location: 'response.numeroIf' },
    ]);
  });

  it('finds nothing where the value is absent, empty, or not a scalar', () => {
    expect(
      extractSubjects(
        [
          { type: 'ice', in: 'path', name: 'ice' },
          { type: 'cin', in: 'query', name: 'cin' },
          { type: 'cin', in: 'response', name: 'gerant' },
          { type: 'cin', in: 'response', name: 'empty' },
          { type: 'cin', in: 'response', name: 'missing.cin' },
          { type: 'cin', in: 'response', name: 'ice.cin' },
        ],
        { pathParams: {}, query: new URLSearchParams('cin='), responseBody: answer },
      ),
    ).toEqual([]);
    expect(extractSubjects([{ type: 'cin', in: 'response', name: 'cin' }], { pathParams: {}, query: new URLSearchParams(), responseBody: undefined })).toEqual([]);
  });

  it('reads a top-level array answer element by element', () => {
    const subjects = extractSubjects([{ type: 'ice', in: 'response', name: 'ice' }], {
      pathParams: {},
      query: new URLSearchParams(),
      responseBody: [{ ice: '001525458000088' }, { ice: '002000000000001' }],
    });
    expect(subjects.map((s) => s.value)).toEqual(['001525458000088', '002000000000001']);
  });
});

describe('normaliseSubject', () => {
  it.each([
    ['cin', ' ab 123-456 ', 'AB123456'],
    ['cin', 'ab\u00a0123\u2013456', 'AB123456'],
    ['ice', '001 525 458 000 088', '001525458000088'],
    ['ice', '٠٠١٥٢٥٤٥٨٠٠٠٠٨٨', '001525458000088'],
    ['plate', '12345 | ب | 6', '12345ب6'],
    ['plate', '12345-ب-6', '12345ب6'],
    ['vin', 'vf1-ab 000.123456789', 'VF1AB000123456789'],
    ['rc', 'rc 12345/casa', 'RC12345CASA'],
    ['person', '  3f0c-Ab  ', '3f0c-Ab'],
  ])('%s %j → %j', (type, value, expected) => {
    expect(normaliseSubject(type, value)).toBe(expected);
  });
});

describe('subjectHmac', () => {
  const key = Buffer.from('0123456789abcdef0123456789abcdef');

  it('is HMAC-SHA256 over type:normalised value, in base64url', () => {
    const expected = createHmac('sha256', key).update('cin:AB123456').digest('base64url');
    expect(subjectHmac(key, 'cin', 'ab 123-456')).toBe(expected);
    expect(expected).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is stable across spellings of one identifier, and differs by type, value and key', () => {
    const hmac = subjectHmac(key, 'cin', 'AB123456');
    expect(subjectHmac(key, 'cin', 'ab-123 456')).toBe(hmac);
    expect(subjectHmac(key, 'CIN', 'AB123456')).toBe(hmac);
    expect(subjectHmac(key, 'rc', 'AB123456')).not.toBe(hmac);
    expect(subjectHmac(key, 'cin', 'AB123457')).not.toBe(hmac);
    expect(subjectHmac(Buffer.from('another key'), 'cin', 'AB123456')).not.toBe(hmac);
  });
});
