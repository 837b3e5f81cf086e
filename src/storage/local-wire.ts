// The local channel's wire format (local-channel.ts, local-db.ts): one JSON message per line, with the values that
// JSON has no type for (dates, bytes, bigints) tagged so that rows and parameters arrive as the driver gave them.
import { join } from 'node:path';

/** The Unix socket a hub on the embedded database listens on, for the CLI of the data directory's owner. */
export function localChannelPath(dataDir: string): string {
  return join(dataDir, 'admin.sock');
}

/** Linux and macOS cap a socket path near 104 to 108 bytes. */
export const maxSocketPathBytes = 103;

/** A line longer than this ends the connection: an import chunk of 5,000 rows is a few megabytes. */
export const maxMessageBytes = 64 * 1024 * 1024;

const tag = '~tabadol';

export type Request =
  | { id: number; op: 'query'; sql: string; params?: unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin'; tx: number; prelude?: string }
  | { id: number; op: 'commit' | 'rollback'; tx: number }
  | { id: number; op: 'ping' };

export interface WireError {
  message: string;
  name?: string;
  /** The SQLSTATE (retries and conflict handling key on it) or a Node error code. */
  code?: string;
}

export type Response = { id: number; result?: unknown; error?: WireError };

export function encode(message: Request | Response): string {
  return (
    JSON.stringify(message, function (this: Record<string, unknown>, key: string, value: unknown) {
      // `this[key]` is the value before toJSON (a Date's or a Buffer's) had its say.
      const raw = this[key];
      if (raw instanceof Date) return { [tag]: 'date', v: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
      if (raw instanceof Uint8Array) return { [tag]: 'bytes', v: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
      if (typeof raw === 'bigint') return { [tag]: 'bigint', v: raw.toString() };
      return value;
    }) + '\n'
  );
}

export function decode(line: string): unknown {
  return JSON.parse(line, (_key, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const t = (value as Record<string, unknown>)[tag];
    if (typeof t !== 'string' || Object.keys(value).length !== 2) return value;
    const v = (value as { v: unknown }).v;
    if (t === 'date') return new Date(typeof v === 'string' ? v : Number.NaN);
    if (t === 'bytes' && typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'));
    if (t === 'bigint' && typeof v === 'string') return BigInt(v);
    return value;
  });
}

/** Splits a stream of chunks into lines; refuses a line longer than maxMessageBytes. */
export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer, onLine: (line: string) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.parts.push(chunk.subarray(start, nl));
      const line = Buffer.concat(this.parts).toString('utf8');
      this.parts = [];
      this.size = 0;
      start = nl + 1;
      onLine(line);
    }
    if (start < chunk.length) {
      this.size += chunk.length - start;
      if (this.size > maxMessageBytes) throw new Error(`a message is longer than ${maxMessageBytes} bytes`);
      this.parts.push(chunk.subarray(start));
    }
  }
}

export function wireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { message: err.message, name: err.name, ...(typeof code === 'string' ? { code } : {}) };
}
