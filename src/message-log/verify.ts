// Verifies the message log (`tabadol log verify [--from SEQ]`): row hashes, links, and the hub's signed checkpoints.
import type { KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import type { Queryable } from '../storage/db.ts';
import { CHECKPOINT_TYP, GENESIS_HASH, rowHash, type ChainRow, type ChainSubject } from './chain.ts';

export type LogProblemKind = 'changed' | 'deleted' | 'inserted' | 'checkpoint-invalid' | 'checkpoint-mismatch';

export interface LogProblem {
  seq: string;
  kind: LogProblemKind;
  detail: string;
}

export interface LogVerification {
  ok: boolean;
  rowsChecked: number;
  checkpointsChecked: number;
  firstSeq?: string;
  lastSeq?: string;
  problems: LogProblem[];
}

export interface CheckpointKeys {
  verifyKey(kid: string): KeyObject | undefined;
}

/** A row as stored, with the hash its content gives today. */
export interface StoredRow {
  row: ChainRow;
  hash: string;
  recomputed: string;
}

export interface CheckpointRecord {
  seq: string;
  hash: string;
  at: Date;
  kid: string;
  signature: string;
}

// Rows per page: memory stays flat whatever the size of the log.
const PAGE_ROWS = 1000;
// A deletion of a million rows is one fact: name the first missing seqs, then count the rest.
const MAX_NAMED_PER_GAP = 100;

interface LogRecord {
  seq: string;
  at_us: string;
  request_id: string;
  client: string | null;
  service: string | null;
  operation: string | null;
  purpose: string | null;
  convention_id: string | null;
  convention_version: number | null;
  status: number;
  problem: string | null;
  duration_ms: number;
  provider_ms: number | null;
  request_digest: string;
  response_digest: string;
  request_signature: string | null;
  response_signature: string | null;
  request_body: string | null;
  response_body: string | null;
  prev_hash: string;
  hash: string;
}

// seq comes back as a decimal string on both drivers (int8 parser), so it is selected as is: aliasing a cast to
// "seq" would make ORDER BY sort it as text. at as µs since the epoch and the reals widened to float8 (exact): the values the hash was computed over.
const SELECT_ROWS = `SELECT seq, (extract(epoch FROM at) * 1000000)::bigint::text AS at_us, request_id, client, service,
  operation, purpose, convention_id, convention_version, status, problem, duration_ms::float8 AS duration_ms,
  provider_ms::float8 AS provider_ms, request_digest, response_digest, request_signature, response_signature,
  request_body, response_body, prev_hash, hash FROM message_log`;

const SELECT_CHECKPOINTS = 'SELECT seq, hash, at, kid, signature FROM log_checkpoints';

async function withSubjects(db: Queryable, records: LogRecord[]): Promise<StoredRow[]> {
  const first = records[0];
  const last = records[records.length - 1];
  if (!first || !last) return [];
  const { rows } = await db.query<{ seq: string; subject_type: string; subject_hmac: string; location: string }>(
    'SELECT seq, subject_type, subject_hmac, location FROM message_subjects WHERE seq BETWEEN $1 AND $2',
    [first.seq, last.seq],
  );
  const bySeq = new Map<string, ChainSubject[]>();
  for (const s of rows) {
    const list = bySeq.get(s.seq) ?? [];
    list.push({ type: s.subject_type, hmac: s.subject_hmac, location: s.location });
    bySeq.set(s.seq, list);
  }
  return records.map((r) => {
    const row: ChainRow = {
      seq: r.seq,
      atMicros: r.at_us,
      requestId: r.request_id,
      client: r.client,
      service: r.service,
      operation: r.operation,
      purpose: r.purpose,
      conventionId: r.convention_id,
      conventionVersion: r.convention_version,
      status: r.status,
      problem: r.problem,
      durationMs: r.duration_ms,
      providerMs: r.provider_ms,
      requestDigest: r.request_digest,
      responseDigest: r.response_digest,
      requestSignature: r.request_signature,
      responseSignature: r.response_signature,
      requestBody: r.request_body,
      responseBody: r.response_body,
      subjects: bySeq.get(r.seq) ?? [],
      prevHash: r.prev_hash,
    };
    return { row, hash: r.hash, recomputed: rowHash(row) };
  });
}

/** Up to `limit` rows after `afterSeq`, in seq order. */
export async function loadRowsAfter(db: Queryable, afterSeq: string, limit: number): Promise<StoredRow[]> {
  const { rows } = await db.query<LogRecord>(`${SELECT_ROWS} WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit]);
  return withSubjects(db, rows);
}

export async function loadRowAt(db: Queryable, seq: string): Promise<StoredRow | undefined> {
  const { rows } = await db.query<LogRecord>(`${SELECT_ROWS} WHERE seq = $1`, [seq]);
  return (await withSubjects(db, rows))[0];
}

export async function loadCheckpoint(db: Queryable, seq: string): Promise<CheckpointRecord | undefined> {
  return (await db.query<CheckpointRecord>(`${SELECT_CHECKPOINTS} WHERE seq = $1`, [seq])).rows[0];
}

/** Why a checkpoint's signature does not hold, or null when it does. */
export async function checkpointSignatureProblem(cp: CheckpointRecord, keys: CheckpointKeys): Promise<string | null> {
  const key = keys.verifyKey(cp.kid);
  if (!key) return `signed with key ${cp.kid}, which is not one of the hub's keys`;
  let payload: unknown;
  try {
    const verified = await compactVerify(cp.signature, key, { algorithms: ['ES256'] });
    if (verified.protectedHeader.kid !== cp.kid) return `its JWS names key ${String(verified.protectedHeader.kid)}, the row says ${cp.kid}`;
    if (verified.protectedHeader.typ !== CHECKPOINT_TYP) return `its JWS is not a checkpoint (typ ${String(verified.protectedHeader.typ)})`;
    payload = JSON.parse(new TextDecoder().decode(verified.payload));
  } catch {
    return 'its signature does not verify with the hub key it names';
  }
  const claims = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  if (claims.seq !== cp.seq || claims.hash !== cp.hash) {
    return `the hub signed (seq ${String(claims.seq)}, hash ${String(claims.hash)}), the row says (seq ${cp.seq}, hash ${cp.hash})`;
  }
  if (typeof claims.at !== 'string' || Date.parse(claims.at) !== new Date(cp.at).getTime()) return `the hub signed at ${String(claims.at)}, the row says ${new Date(cp.at).toISOString()}`;
  if (typeof claims.iss !== 'string' || claims.iss === '') return 'its payload names no issuer';
  return null;
}

const short = (hash: string) => hash.slice(0, 12);

/** The trusted predecessor of the next row: a verified row, the signed anchor/checkpoint, or the genesis. */
interface Predecessor {
  seq: bigint;
  hash: string;
  /** The starting point (genesis, anchor, checkpoint) rather than a row read in this run. */
  isStart: boolean;
}

class Verification {
  readonly problems: LogProblem[] = [];
  private readonly reported = new Set<string>();
  rowsChecked = 0;
  checkpointsChecked = 0;
  firstSeq: string | undefined;
  lastSeq: string | undefined;
  /** Told of each row checked (the console shows a verification's progress); set by verifyLog. */
  onProgress: ((rowsChecked: number, seq: string) => void) | undefined;
  /** The last checkpoint that matched: a rewritten tail lies after it. */
  private lastGoodCheckpoint: string | undefined;
  /** A link broken between two intact rows: which one was rewritten depends on the next row. */
  private brokenLink: { before: bigint; row: bigint } | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly keys: CheckpointKeys,
  ) {}

  report(seq: bigint | string, kind: LogProblemKind, detail: string): void {
    const key = `${seq}:${kind}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.problems.push({ seq: seq.toString(), kind, detail });
  }

  reportGap(from: bigint, to: bigint, detail: string): void {
    let seq = from;
    for (let named = 0; seq <= to && named < MAX_NAMED_PER_GAP; named++, seq++) this.report(seq, 'deleted', detail);
    if (seq <= to) this.report(seq, 'deleted', `${detail} (and every seq from ${seq} to ${to})`);
  }

  /** Where verification starts: the genesis, else the purge anchor, else (with fromSeq) a later checkpoint. */
  async start(fromSeq: string | undefined): Promise<Predecessor> {
    let start: Predecessor = { seq: 0n, hash: GENESIS_HASH, isStart: true };
    const anchor = (await this.db.query<{ seq: string; hash: string; checkpoint_seq: string }>(
      'SELECT seq, hash, checkpoint_seq FROM log_anchor WHERE id = 1',
    )).rows[0];
    if (anchor) {
      start = { seq: BigInt(anchor.seq), hash: anchor.hash, isStart: true };
      const cp = await loadCheckpoint(this.db, anchor.checkpoint_seq);
      if (!cp) {
        this.report(anchor.checkpoint_seq, 'checkpoint-invalid', `the purge anchor (seq ${anchor.seq}) names checkpoint ${anchor.checkpoint_seq}, which does not exist: the anchor cannot be trusted`);
      } else {
        this.checkpointsChecked++;
        const problem = await checkpointSignatureProblem(cp, this.keys);
        if (problem) {
          this.report(cp.seq, 'checkpoint-invalid', `the checkpoint anchoring the purged log: ${problem}`);
        } else {
          if (anchor.seq !== cp.seq || anchor.hash !== cp.hash) {
            this.report(anchor.seq, 'checkpoint-mismatch', `the purge anchor says the chain continues from (seq ${anchor.seq}, hash ${short(anchor.hash)}), but checkpoint ${cp.seq} signs hash ${short(cp.hash)}: the anchor was altered`);
          }
          // The signed values are the truth from here on, whatever the anchor row says.
          start = { seq: BigInt(cp.seq), hash: cp.hash, isStart: true };
          this.lastGoodCheckpoint = cp.seq;
        }
      }
      const stray = await this.db.query<{ seq: string }>('SELECT seq FROM message_log WHERE seq <= $1 ORDER BY seq LIMIT $2', [start.seq.toString(), MAX_NAMED_PER_GAP]);
      for (const { seq } of stray.rows) this.report(seq, 'inserted', `the log was purged up to seq ${start.seq}, yet this row sits in the purged range`);
    }
    if (fromSeq === undefined) return start;
    if (!/^\d{1,19}$/.test(fromSeq)) throw new RangeError(`--from must be a seq (a positive integer), got ${fromSeq}`);
    const cp = (await this.db.query<CheckpointRecord>(`${SELECT_CHECKPOINTS} WHERE seq <= $1 AND seq > $2 ORDER BY seq DESC LIMIT 1`, [fromSeq, start.seq.toString()])).rows[0];
    if (!cp) return start;
    this.checkpointsChecked++;
    const problem = await checkpointSignatureProblem(cp, this.keys);
    if (problem) {
      // Nothing is skipped on the word of a bad checkpoint: verify from the earlier starting point instead.
      this.report(cp.seq, 'checkpoint-invalid', `${problem}; verifying from seq ${start.seq} instead`);
      return start;
    }
    const stored = await loadRowAt(this.db, cp.seq);
    if (!stored) {
      this.report(cp.seq, 'deleted', `checkpoint ${cp.seq} signs a row that is missing`);
    } else {
      this.countRow(cp.seq);
      if (stored.recomputed !== stored.hash) this.report(cp.seq, 'changed', `its content no longer matches its hash (stored ${short(stored.hash)}, recomputed ${short(stored.recomputed)})`);
      else if (stored.hash !== cp.hash) this.report(cp.seq, 'checkpoint-mismatch', `the row hashes to ${short(stored.hash)}, but the hub signed ${short(cp.hash)}: rows up to ${cp.seq} were rewritten with recomputed hashes`);
    }
    this.lastGoodCheckpoint = cp.seq;
    return { seq: BigInt(cp.seq), hash: cp.hash, isStart: true };
  }

  private countRow(seq: string): void {
    this.rowsChecked++;
    this.onProgress?.(this.rowsChecked, seq);
    this.firstSeq ??= seq;
    this.lastSeq = seq;
  }

  /** Checks one row against its own hash and against its predecessor; returns the predecessor of the next row. */
  async checkRow(stored: StoredRow, prev: Predecessor): Promise<Predecessor> {
    const seq = BigInt(stored.row.seq);
    this.countRow(stored.row.seq);
    const intact = stored.recomputed === stored.hash;
    if (!intact) this.report(seq, 'changed', `its content no longer matches its hash (stored ${short(stored.hash)}, recomputed ${short(stored.recomputed)})`);
    const links = stored.row.prevHash === prev.hash;
    this.resolveBrokenLink(links);
    if (seq <= prev.seq) {
      this.report(seq, 'inserted', `a second row at position ${seq}: the hub writes each seq once`);
      return prev;
    }
    if (links) {
      if (seq !== prev.seq + 1n) {
        this.report(seq, 'inserted', `seq jumps from ${prev.seq} to ${seq}, yet its prev_hash links to ${prev.seq}: the hub never skips a seq, so this row was not written by it here (inserted with a fresh seq, or rewritten after deleting ${prev.seq + 1n}..${seq - 1n})`);
      }
    } else {
      const other = await this.findByHash(stored.row.prevHash);
      if (other !== undefined) {
        this.report(seq, 'inserted', `its prev_hash links to row ${other}, which already has its successor, instead of to row ${prev.seq}: a row added beside the chain`);
      } else if (seq > prev.seq + 1n) {
        const missing = seq - 1n === prev.seq + 1n ? `row ${prev.seq + 1n} is` : `rows ${prev.seq + 1n}..${seq - 1n} are`;
        this.reportGap(prev.seq + 1n, seq - 1n, `${missing} missing: row ${seq} follows row ${prev.seq} and its prev_hash links to neither`);
      } else if (intact) {
        if (prev.isStart) this.report(seq, 'changed', `its prev_hash is not the hash that ${prev.seq === 0n ? 'starts the chain' : `checkpoint ${prev.seq} signs`}: the row was rewritten with a recomputed hash`);
        else this.brokenLink = { before: prev.seq, row: seq };
      }
      // A row that no longer matches its own hash is already named; its own change explains the broken link.
    }
    return { seq, hash: stored.hash, isStart: false };
  }

  /**
   * Between intact rows P and Q, Q's prev_hash is not P's hash. If Q's successor links to Q, Q is as the hub wrote it,
   * so P was rewritten (hash recomputed); otherwise Q was.
   */
  resolveBrokenLink(nextLinksToRow: boolean | null): void {
    const broken = this.brokenLink;
    if (!broken) return;
    this.brokenLink = null;
    if (nextLinksToRow) {
      this.report(broken.before, 'changed', `row ${broken.row} recorded another hash for it: the row was rewritten and its hash recomputed`);
    } else {
      this.report(broken.row, 'changed', `its prev_hash is not the hash of row ${broken.before}${nextLinksToRow === null ? '' : ', and its successor does not link to it'}: the row was rewritten with a recomputed hash`);
    }
  }

  async findByHash(hash: string): Promise<string | undefined> {
    return (await this.db.query<{ seq: string }>('SELECT seq FROM message_log WHERE hash = $1 ORDER BY seq LIMIT 1', [hash])).rows[0]?.seq;
  }

  async checkCheckpoint(cp: CheckpointRecord, stored: StoredRow | undefined): Promise<void> {
    this.checkpointsChecked++;
    const problem = await checkpointSignatureProblem(cp, this.keys);
    if (problem) {
      this.report(cp.seq, 'checkpoint-invalid', problem);
      return;
    }
    if (!stored) {
      this.report(cp.seq, 'deleted', `checkpoint ${cp.seq} signs a row that is missing`);
      return;
    }
    if (stored.recomputed === cp.hash) {
      this.lastGoodCheckpoint = cp.seq;
      return;
    }
    // A row whose content no longer matches even its stored hash is already named 'changed'.
    if (stored.hash === stored.recomputed) {
      const since = this.lastGoodCheckpoint === undefined ? 'the start of the log' : `checkpoint ${this.lastGoodCheckpoint}`;
      this.report(cp.seq, 'checkpoint-mismatch', `the chain at seq ${cp.seq} hashes to ${short(stored.hash)}, but the hub signed ${short(cp.hash)}: rows after ${since}, up to ${cp.seq}, were rewritten with recomputed hashes`);
    }
  }

  async checkpointsIn(afterSeq: bigint, upToSeq: bigint | null): Promise<CheckpointRecord[]> {
    const sql = upToSeq === null ? `${SELECT_CHECKPOINTS} WHERE seq > $1 ORDER BY seq` : `${SELECT_CHECKPOINTS} WHERE seq > $1 AND seq <= $2 ORDER BY seq`;
    return (await this.db.query<CheckpointRecord>(sql, upToSeq === null ? [afterSeq.toString()] : [afterSeq.toString(), upToSeq.toString()])).rows;
  }

  /** Streams the rows after the starting point in pages, each page's checkpoints checked after its rows. */
  async scan(start: Predecessor): Promise<void> {
    let prev = start;
    let cursor = start.seq;
    for (;;) {
      const page = await loadRowsAfter(this.db, cursor.toString(), PAGE_ROWS);
      const last = page[page.length - 1];
      if (!last) break;
      for (const stored of page) prev = await this.checkRow(stored, prev);
      const pageEnd = BigInt(last.row.seq);
      const bySeq = new Map(page.map((s) => [s.row.seq, s]));
      for (const cp of await this.checkpointsIn(cursor, pageEnd)) await this.checkCheckpoint(cp, bySeq.get(cp.seq));
      cursor = pageEnd;
      if (page.length < PAGE_ROWS) break;
    }
    this.resolveBrokenLink(null);
    // After the last row: a signed checkpoint or leftover subjects there mean the tail was cut off.
    let missingFrom = cursor + 1n;
    for (const cp of await this.checkpointsIn(cursor, null)) {
      this.checkpointsChecked++;
      const problem = await checkpointSignatureProblem(cp, this.keys);
      if (problem) {
        this.report(cp.seq, 'checkpoint-invalid', problem);
        continue;
      }
      this.reportGap(missingFrom, BigInt(cp.seq), `the hub signed checkpoint ${cp.seq}, but the log ends at ${cursor}: its tail was deleted`);
      missingFrom = BigInt(cp.seq) + 1n;
    }
    const orphans = await this.db.query<{ seq: string }>('SELECT DISTINCT seq FROM message_subjects WHERE seq > $1 ORDER BY seq LIMIT $2', [cursor.toString(), MAX_NAMED_PER_GAP]);
    for (const { seq } of orphans.rows) this.report(seq, 'deleted', `subjects of exchange ${seq} remain, but its row is gone`);
  }
}

/**
 * Verifies the chain from the genesis (or the purge anchor), or with fromSeq from the nearest valid checkpoint at or
 * before it. Reads the log in pages of PAGE_ROWS rows, so its memory does not grow with the log.
 *
 * What it finds and names (seqs are consecutive by construction, so any gap or double is itself evidence):
 *   - changed: a row (or one of its subjects) edited without recomputing its hash; a row rewritten with a recomputed
 *     hash, through the link that its successor recorded;
 *   - deleted: missing seqs between rows; rows after the last one up to a signed checkpoint; subjects left behind;
 *   - inserted: a row whose prev_hash links to a row that already has its successor, one that skips seqs yet links to
 *     the row before the gap, a second row at one position, a row in the purged range;
 *   - checkpoint-invalid / checkpoint-mismatch: a checkpoint whose signature or claims do not hold; a chain that,
 *     though self-consistent, is not the one the hub signed (a rewritten stretch, named by the checkpoint after it).
 * What it cannot find, with SQL access alone as the attacker's means: rows after the last checkpoint rewritten
 * consistently, deleted from the end, or appended with a correct link and hash (indistinguishable from the hub's own
 * appends, which then chain onto them); checkpoints deleted together with the rows they sign; a purge done by hand up
 * to a genuine checkpoint (the anchor's purged_before says when, not who). Checkpoints published outside the database
 * and the Tabadol-Log-Id receipts that clients keep close those gaps.
 */
export async function verifyLog(db: Queryable, keys: CheckpointKeys, options: { fromSeq?: string; onProgress?: (rowsChecked: number, seq: string) => void } = {}): Promise<LogVerification> {
  const verification = new Verification(db, keys);
  verification.onProgress = options.onProgress;
  const start = await verification.start(options.fromSeq);
  await verification.scan(start);
  const problems = [...verification.problems].sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0));
  return {
    ok: problems.length === 0,
    rowsChecked: verification.rowsChecked,
    checkpointsChecked: verification.checkpointsChecked,
    ...(verification.firstSeq !== undefined ? { firstSeq: verification.firstSeq } : {}),
    ...(verification.lastSeq !== undefined ? { lastSeq: verification.lastSeq } : {}),
    problems,
  };
}
