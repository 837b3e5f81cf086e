// A chunk's rows sent to PostgreSQL as one JSON array of UTF-8 bytes, not as one JavaScript string.
//
// A bulk import serialises each row's JSON text as it prepares the row, seconds before the chunk is written. Kept as
// strings, a chunk's texts (about 2 KB a person) lived in V8's heap until then: copied by every scavenge until promoted,
// then marked by every major collection, joined into one string of several megabytes (two bytes a character as soon as
// one name is Arabic), and encoded to UTF-8 once more by the driver. As bytes they are encoded once, outside the heap
// the collector walks, and the chunk's document is one copy of them (docs/decisions.md §34).

/**
 * A row's JSON text as UTF-8 bytes: a view of a shared 64 KB slab, encoded straight into it. Buffer.from took a new
 * 8 KB pool every third person (a row is about 2.7 KB), and each pool is a new ArrayBuffer to allocate and account
 * for: 6 % of the importer's preparing, besides the encoding itself (docs/decisions.md §36). A slab is freed when the
 * last row viewing it is; a chunk's rows are freed together, so at most one slab outlives its chunk. 64 KB stays
 * below the C library's threshold for mapping memory of its own, whose pages would be faulted in anew each time.
 */
export function jsonRow(text: string): Buffer {
  // At most three bytes a UTF-16 unit (a surrogate pair, four bytes, is two units).
  const most = text.length * 3;
  if (most > slabSize / 4) return Buffer.from(text, 'utf8');
  if (slab.length - used < most) {
    slab = Buffer.allocUnsafeSlow(slabSize);
    used = 0;
  }
  const written = slab.write(text, used, 'utf8');
  const row = slab.subarray(used, used + written);
  used += written;
  return row;
}

const slabSize = 64 * 1024;
let slab = Buffer.alloc(0);
let used = 0;

/** `[row,row,…]`: the rows as one JSON array document, to be sent as a bytea parameter read by jsonArrayParam. */
export function jsonArrayBytes(rows: readonly Uint8Array[]): Buffer {
  let length = rows.length === 0 ? 2 : rows.length + 1;
  for (const r of rows) length += r.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  out[at++] = 0x5b; // [
  rows.forEach((r, i) => {
    if (i > 0) out[at++] = 0x2c; // ,
    out.set(r, at);
    at += r.length;
  });
  out[at++] = 0x5d; // ]
  return out;
}

/**
 * The SQL that reads parameter `$n` (jsonArrayBytes) as jsonb. node-postgres sends a Buffer in binary format, which a
 * bytea parameter takes as it is; convert_from checks that the bytes are UTF-8 (PGlite sends the same bytes as hex).
 */
export const jsonArrayParam = (n: number): string => `convert_from($${n}::bytea, 'UTF8')::jsonb`;
