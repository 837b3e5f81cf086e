// Golden record ids: RFC 9562 version 7, increasing within a process (so that indexes keyed by them grow at one edge).
import { describe, expect, it } from 'vitest';
import { goldenRecordId } from '../src/golden/ids.ts';

describe('golden record ids', () => {
  it('are UUIDv7 strings, increasing even within one millisecond, with the time in front', () => {
    const ids = Array.from({ length: 20_000 }, () => goldenRecordId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (let i = 1; i < ids.length; i++) expect((ids[i] ?? '') > (ids[i - 1] ?? '')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const at = Date.parse('2030-01-02T03:04:05.006Z');
    expect(Number.parseInt(goldenRecordId(at).replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });
});
