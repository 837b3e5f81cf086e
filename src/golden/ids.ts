// Golden record ids: UUID version 7 (RFC 9562), time-ordered. Every index keyed by golden id (the records, links,
// natural and blocking keys, history) then takes new ids at its right edge instead of on a random page: with random
// (v4) ids, inserts at a million records touched a random leaf per index per record and ingest fell to a few hundred
// records a second once the indexes outgrew PostgreSQL's buffers.
import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let sequence = 0;

// Random bytes drawn 8 KiB at a time: one call into the CSPRNG per 512 ids rather than two per id (a bulk import
// makes thousands of ids a second, and the per-call overhead was most of the cost).
const pool = Buffer.alloc(8192);
let poolAt = pool.length;

function random(n: number): Buffer {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const out = Buffer.from(pool.subarray(poolAt, poolAt + n));
  poolAt += n;
  return out;
}

export function goldenRecordId(now: number = Date.now()): string {
  // Within one millisecond a 12-bit counter keeps ids increasing (RFC 9562, method 1), seeded at random.
  const bytes = random(16);
  if (now > lastMs) {
    lastMs = now;
    sequence = bytes.readUInt16BE(6) & 0x7ff;
  } else {
    sequence = (sequence + 1) & 0xfff;
    if (sequence === 0) lastMs += 1;
  }
  const ms = lastMs;
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
