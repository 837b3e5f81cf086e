// The message log's hash chain: the canonical encoding of a row, its SHA-256, and the lock that orders writers.
import { createHash } from 'node:crypto';
import type { Queryable } from '../storage/db.ts';

/** The prev_hash of the first row ever written. */
export const GENESIS_HASH = '0'.repeat(64);

/** The JWS `typ` of a checkpoint signed by the hub. */
export const CHECKPOINT_TYP = 'tabadol-log-checkpoint+jwt';

export interface ChainSubject {
  type: string;
  hmac: string;
  location: string;
}

/** Every logged column of a row, as the hash sees it. */
export interface ChainRow {
  /** Decimal, as stored (bigint). */
  seq: string;
  /** Microseconds since the epoch, decimal: what timestamptz stores, so a change below the millisecond shows too. */
  atMicros: string;
  requestId: string;
  client: string | null;
  service: string | null;
  operation: string | null;
  purpose: string | null;
  conventionId: string | null;
  conventionVersion: number | null;
  status: number;
  problem: string | null;
  /** Hashed as the float4 that the column holds. */
  durationMs: number;
  providerMs: number | null;
  requestDigest: string;
  responseDigest: string;
  requestSignature: string | null;
  responseSignature: string | null;
  requestBody: string | null;
  responseBody: string | null;
  subjects: readonly ChainSubject[];
  prevHash: string;
}

export function atMicros(at: Date): string {
  return (BigInt(at.getTime()) * 1000n).toString();
}

/*
 * Encoding, version 1 (changing it is a new version: old rows must keep verifying).
 *
 *   "tabadol-message-log/v1" 0x00
 *   then each field below, in this order, as
 *     0x00                                   SQL NULL
 *     0x01 <length: uint32 big-endian> <bytes>  a value
 *   seq, at, request_id, client, service, operation, purpose, convention_id, convention_version, status, problem,
 *   duration_ms, provider_ms, request_digest, response_digest, request_signature, response_signature,
 *   request_body, response_body, <subject count>, then per subject: subject_type, subject_hmac, location,
 *   and last prev_hash.
 *
 * Value bytes: text as UTF-8; integers (seq, at in µs since the epoch, convention_version, status, subject count)
 * as canonical decimal ASCII (optional '-', no leading zeros, no '+'); reals as the 4 bytes of IEEE-754 binary32,
 * big-endian (the column is float4: hashing its exact bits avoids any decimal formatting question).
 * Subjects are sorted by hmac, then type, then location (code-unit order), so their storage order does not matter.
 *
 * Every field is length-prefixed and NULL is distinct from '', so no two different rows share an encoding; the
 * fixed field count and the domain prefix rule out confusion with anything else hashed by the hub.
 */
const DOMAIN = Buffer.from('tabadol-message-log/v1\u0000', 'utf8');

/** A field before it is written: SQL NULL, text (UTF-8) or a float4. Integers arrive as canonical decimal text. */
type Field = string | null | { float4: number };

/** Canonical decimal: BigInt normalises "007" or "+7" to "7", so a value can only ever encode one way. */
function intText(value: number | string | null): string | null {
  return value === null ? null : BigInt(value).toString();
}

function realOf(value: number | null): Field {
  return value === null ? null : { float4: value };
}

function compareSubjects(a: ChainSubject, b: ChainSubject): number {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return cmp(a.hmac, b.hmac) || cmp(a.type, b.type) || cmp(a.location, b.location);
}

function fieldsOf(row: ChainRow): Field[] {
  const fields: Field[] = [
    intText(row.seq), intText(row.atMicros), row.requestId, row.client, row.service, row.operation, row.purpose, row.conventionId,
    intText(row.conventionVersion), intText(row.status), row.problem, realOf(row.durationMs), realOf(row.providerMs), row.requestDigest,
    row.responseDigest, row.requestSignature, row.responseSignature, row.requestBody, row.responseBody, intText(row.subjects.length),
  ];
  const subjects = row.subjects.length > 1 ? [...row.subjects].sort(compareSubjects) : row.subjects;
  for (const subject of subjects) fields.push(subject.type, subject.hmac, subject.location);
  fields.push(row.prevHash);
  return fields;
}

/**
 * The encoding above, written into one buffer sized first: the log hashes every exchange, and a buffer per field
 * (about fifty a row, then a concatenation) was a measurable share of the hub's garbage (docs/benchmarks.md).
 */
export function encodeRow(row: ChainRow): Buffer {
  const fields = fieldsOf(row);
  let size = DOMAIN.length;
  for (const f of fields) size += f === null ? 1 : typeof f === 'string' ? 5 + Buffer.byteLength(f, 'utf8') : 9;
  const out = Buffer.allocUnsafe(size);
  let at = DOMAIN.copy(out, 0);
  for (const f of fields) {
    if (f === null) {
      out[at++] = 0;
      continue;
    }
    out[at] = 1;
    if (typeof f === 'string') {
      const written = out.write(f, at + 5, 'utf8');
      out.writeUInt32BE(written, at + 1);
      at += 5 + written;
    } else {
      out.writeUInt32BE(4, at + 1);
      // Hashed as the float4 that the column holds (writeFloatBE rounds to binary32 as Math.fround does).
      out.writeFloatBE(Math.fround(f.float4), at + 5);
      at += 9;
    }
  }
  return out;
}

/** The row's hash: lower-case hex SHA-256 of its encoding. */
export function rowHash(row: ChainRow): string {
  return createHash('sha256').update(encodeRow(row)).digest('hex');
}

/**
 * Orders every writer of the chain (appends from all hub processes, the purge) for the rest of the transaction.
 * Keyed by schema so that separate hubs (or test schemas) on one server do not wait for each other.
 */
export async function lockChain(tx: Queryable): Promise<void> {
  await tx.query(lockChainSql);
}

/** The chain's lock as a parameterless statement, so that it can travel with BEGIN (Db.transaction's prelude). */
export const lockChainSql = `SELECT pg_advisory_xact_lock(hashtext('tabadol:message-log:' || current_schema()))`;
