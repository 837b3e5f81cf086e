// Golden record ids: UUID version 7 (RFC 9562), time-ordered. Every index keyed by golden id (the records, links,
// natural and blocking keys, history) then takes new ids at its right edge instead of on a random page: with random
// (v4) ids, inserts at a million records touched a random leaf per index per record and ingest fell to a few hundred
// records a second once the indexes outgrew PostgreSQL's buffers.
import { randomBytes } from 'node:crypto';

let lastMs = 0;
let sequence = 0;

export function goldenRecordId(now: number = Date.now()): string {
  // Within one millisecond a 12-bit counter keeps ids increasing (RFC 9562, method 1), seeded at random.
  if (now > lastMs) {
    lastMs = now;
    sequence = randomBytes(2).readUInt16BE(0) & 0x7ff;
  } else {
    sequence = (sequence + 1) & 0xfff;
    if (sequence === 0) lastMs += 1;
  }
  const bytes = randomBytes(16);
  const ms = lastMs;
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
