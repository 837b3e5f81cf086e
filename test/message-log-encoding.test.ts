// The message log's row encoding (v1, src/message-log/chain.ts) pinned by hashes computed with its first
// implementation (a buffer per field, then a concatenation), so that a faster encoder cannot change a stored hash.
import { describe, expect, it } from 'vitest';
import { encodeRow, rowHash, type ChainRow } from '../src/message-log/index.ts';

const row: ChainRow = {
  seq: '42',
  atMicros: '1796438917908123',
  requestId: '6f1c2f4e-8a4b-4c1e-9d7a-2b3c4d5e6f70',
  client: 'MA/GOV/TRESOR/portail',
  service: 'MA/GOV/METLE/qualification-btp/classification',
  operation: 'getFixed',
  purpose: 'marché-public é',
  conventionId: 'c1',
  conventionVersion: 3,
  status: 200,
  problem: null,
  durationMs: 1.2345,
  providerMs: null,
  requestDigest: 'abc',
  responseDigest: '',
  requestSignature: 'x.y.z',
  responseSignature: null,
  requestBody: null,
  responseBody: '{"a":"عربي"}',
  subjects: [
    { type: 'ice', hmac: 'zz', location: 'response.ice' },
    { type: 'cin', hmac: 'aa', location: 'path.cin' },
  ],
  prevHash: '0'.repeat(64),
};

describe('message log row encoding v1', () => {
  it('hashes text, NULL, float4, non-ASCII and sorted subjects as the first encoder did', () => {
    expect(encodeRow(row).length).toBe(416);
    expect(rowHash(row)).toBe('9d787c85e5b32ed676c9a52050dcb509a4b33beaeec443d3525bde3308b39156');
  });

  it('hashes negative and zero numbers, no subjects and NULL integers as the first encoder did', () => {
    const other: ChainRow = { ...row, seq: '7', conventionVersion: null, status: -5, subjects: [], client: null, providerMs: 0, durationMs: -0.5 };
    expect(rowHash(other)).toBe('ee8576306118ed900d87fe912c3d7ce8c420f4b9727e9c689e1c79d83839a48b');
  });

  it('does not depend on the order in which subjects are stored', () => {
    expect(rowHash({ ...row, subjects: [...row.subjects].reverse() })).toBe(rowHash(row));
  });

  it('distinguishes NULL from the empty string', () => {
    expect(rowHash({ ...row, problem: '' })).not.toBe(rowHash(row));
  });
});
