// The import's first pass over an NDJSON file, on its bytes: every byte checked as UTF-8 and the lines that are not
// blank counted, without decoding the file into strings. Decoded (TextDecoder, split, trim), the pass over the bench's
// 343 MB file of 1,120,703 persons took 7.2 to 10.0 s before the import could start; on the bytes, 0.54 to 0.73 s
// (three runs each, in turn; docs/decisions.md §36).
import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';

/** The file holds bytes that are not UTF-8; `line` is the line of the first invalid sequence (1-based). */
export class NotUtf8Error extends Error {
  constructor(readonly line: number) {
    super(`is not UTF-8 (invalid bytes on line ${line})`);
  }
}

const NEWLINE = 0x0a;

/** ASCII white space as String.prototype.trim() takes it: tab, line feed, vertical tab, form feed, carriage return, space. */
const asciiSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/**
 * How many bytes at the end of `buf` begin a UTF-8 sequence that the next read completes (0 to 3). Anything else
 * (a stray continuation byte, an invalid lead byte) is left in place for isUtf8 to refuse.
 */
export function incompleteTail(buf: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back] as number;
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0xc0) return 0;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return length > back ? back : 0;
  }
  return 0;
}

/**
 * Counts the lines of an NDJSON stream that are not blank (blank: nothing but white space as trim() sees it, which
 * includes a byte order mark and the Unicode spaces), and refuses it at the first byte that is not UTF-8. A line is
 * decided on its first byte that is not ASCII white space: most lines open with `{`; one that opens with another
 * character is decoded (that part only) to ask whether it holds anything but white space.
 */
export class NdjsonCounter {
  /** Lines that are not blank, so far. */
  rows = 0;
  /** Line breaks so far: the current line is `newlines + 1`. */
  private newlines = 0;
  /** The current line so far: only ASCII white space (0), something else (1), undecided past a non-ASCII byte (2). */
  private state: 0 | 1 | 2 = 0;
  private lineDecoder = new TextDecoder('utf-8');
  /** The start of a sequence the previous chunk ended in (see incompleteTail). */
  private carry: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): void {
    const whole = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const tail = incompleteTail(whole);
    const body = whole.subarray(0, whole.length - tail);
    // A copy (three bytes at most): the reader may reuse its buffer for the next read.
    this.carry = new Uint8Array(whole.subarray(whole.length - tail));
    if (!isUtf8(body)) throw new NotUtf8Error(this.newlines + 1 + newlinesBeforeInvalid(body));
    let at = 0;
    while (at < body.length) {
      const end = body.indexOf(NEWLINE, at);
      this.scan(body, at, end < 0 ? body.length : end);
      if (end < 0) break;
      this.endLine();
      at = end + 1;
    }
  }

  /** The count, once the stream has ended; a sequence cut off by the end of the file is refused. */
  end(): number {
    if (this.carry.length > 0) throw new NotUtf8Error(this.newlines + 1);
    this.endLine();
    return this.rows;
  }

  private scan(bytes: Uint8Array, from: number, to: number): void {
    if (this.state === 1) return;
    let i = from;
    if (this.state === 0) {
      while (i < to && asciiSpace(bytes[i] as number)) i++;
      if (i === to) return;
      if ((bytes[i] as number) < 0x80) {
        this.state = 1;
        return;
      }
      this.state = 2;
    }
    if (/\S/.test(this.lineDecoder.decode(bytes.subarray(i, to), { stream: true }))) this.state = 1;
  }

  private endLine(): void {
    if (this.state === 2 && /\S/.test(this.lineDecoder.decode())) this.state = 1;
    if (this.state === 1) this.rows++;
    this.state = 0;
    this.newlines++;
  }
}

/** Line breaks before the first invalid sequence of `bytes` (which has one). */
function newlinesBeforeInvalid(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.length;
  // The longest prefix that is valid once a sequence it cuts off at its end is set aside, by halving: every prefix up
  // to the invalid sequence is, none past it is, so the prefix found ends inside that sequence, before any line break
  // that follows it.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const prefix = bytes.subarray(0, mid);
    if (isUtf8(prefix.subarray(0, prefix.length - incompleteTail(prefix)))) lo = mid;
    else hi = mid - 1;
  }
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE); i >= 0 && i < lo; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/** The NDJSON rows of a file: its lines that are not blank. Throws NotUtf8Error at the first byte that is not UTF-8. */
export async function countNdjsonRows(path: string): Promise<number> {
  const counter = new NdjsonCounter();
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) counter.push(chunk as Buffer);
  return counter.end();
}
