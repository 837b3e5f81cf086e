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
const NULL_FIELD = Buffer.from([0]);

function field(value: string | null): Buffer[] {
  if (value === null) return [NULL_FIELD];
  const bytes = Buffer.from(value, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeUInt32BE(bytes.length, 1);
  return [head, bytes];
}

function bytesField(bytes: Buffer): Buffer[] {
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeUInt32BE(bytes.length, 1);
  return [head, bytes];
}

function intField(value: number | string | null): Buffer[] {
  if (value === null) return [NULL_FIELD];
  // BigInt normalises "007" or "+7" to "7", so a value can only ever encode one way.
  return field(BigInt(value).toString());
}

function realField(value: number | null): Buffer[] {
  if (value === null) return [NULL_FIELD];
  const bytes = Buffer.alloc(4);
  bytes.writeFloatBE(Math.fround(value));
  return bytesField(bytes);
}

function compareSubjects(a: ChainSubject, b: ChainSubject): number {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return cmp(a.hmac, b.hmac) || cmp(a.type, b.type) || cmp(a.location, b.location);
}

export function encodeRow(row: ChainRow): Buffer {
  const parts: Buffer[] = [DOMAIN];
  parts.push(
    ...intField(row.seq),
    ...intField(row.atMicros),
    ...field(row.requestId),
    ...field(row.client),
    ...field(row.service),
    ...field(row.operation),
    ...field(row.purpose),
    ...field(row.conventionId),
    ...intField(row.conventionVersion),
    ...intField(row.status),
    ...field(row.problem),
    ...realField(row.durationMs),
    ...realField(row.providerMs),
    ...field(row.requestDigest),
    ...field(row.responseDigest),
    ...field(row.requestSignature),
    ...field(row.responseSignature),
    ...field(row.requestBody),
    ...field(row.responseBody),
    ...intField(row.subjects.length),
  );
  for (const subject of [...row.subjects].sort(compareSubjects)) {
    parts.push(...field(subject.type), ...field(subject.hmac), ...field(subject.location));
  }
  parts.push(...field(row.prevHash));
  return Buffer.concat(parts);
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
