// Appends exchanges to the hash-chained message log with group commit, and writes the hub's signed checkpoints.
import type { HubKeyring } from '../identity/hub-keys.ts';
import type { Db, Queryable, SqlValue } from '../storage/db.ts';
import { atMicros, CHECKPOINT_TYP, GENESIS_HASH, lockChainSql, rowHash, type ChainRow, type ChainSubject } from './chain.ts';

/** One exchange as the pipeline reports it. Bodies are passed only when the convention says `logBodies`. */
export interface LogEntry {
  at: Date;
  requestId: string;
  client?: string | null;
  service?: string | null;
  operation?: string | null;
  purpose?: string | null;
  conventionId?: string | null;
  conventionVersion?: number | null;
  status: number;
  problem?: string | null;
  durationMs: number;
  providerMs?: number | null;
  requestDigest: string;
  responseDigest: string;
  requestSignature?: string | null;
  responseSignature?: string | null;
  requestBody?: string | null;
  responseBody?: string | null;
  /** Keyed HMACs of the identifiers the exchange concerned, computed by the caller. */
  subjects: Array<{ type: string; hmac: string; location: string }>;
}

export interface MessageLogOptions {
  db: Db;
  keyring: HubKeyring;
  logger?: { warn(o: object, m?: string): void; debug?(o: object, m?: string): void };
  /** A checkpoint at least every this many rows. */
  checkpointEveryRows?: number;
  /** A row waits at most about this long for a checkpoint, even when traffic stops. */
  checkpointEverySeconds?: number;
}

/** An entry without its place in the chain yet: validated when appended, so one bad entry cannot fail a batch. */
type PendingRow = Omit<ChainRow, 'seq' | 'prevHash'> & { at: Date };

interface Pending {
  row: PendingRow;
  resolve(seq: string): void;
  reject(err: unknown): void;
}

// 21 parameters a row: 1000 rows stay far below Postgres' 65535 parameters per statement.
const ROWS_PER_INSERT = 1000;
const SUBJECTS_PER_INSERT = 5000;
// Bounds one transaction (and the time others wait for the lock) when a backlog builds up.
const MAX_BATCH = 5000;

const LOG_COLUMNS = [
  'seq', 'at', 'request_id', 'client', 'service', 'operation', 'purpose', 'convention_id', 'convention_version', 'status',
  'problem', 'duration_ms', 'provider_ms', 'request_digest', 'response_digest', 'request_signature', 'response_signature',
  'request_body', 'response_body', 'prev_hash', 'hash',
] as const;

export class MessageLogClosedError extends Error {
  override name = 'MessageLogClosedError';
}

function text(name: string, value: string | null | undefined, required: boolean): string | null {
  if (value === undefined || value === null) {
    if (required) throw new TypeError(`message log entry: ${name} is required`);
    return null;
  }
  if (typeof value !== 'string') throw new TypeError(`message log entry: ${name} must be a string`);
  // Postgres text cannot hold NUL: refusing it here keeps it from failing the whole batch at INSERT.
  if (value.includes('\u0000')) throw new TypeError(`message log entry: ${name} contains a NUL character`);
  return value;
}

function int4(name: string, value: number | null | undefined, required: boolean): number | null {
  if (value === undefined || value === null) {
    if (required) throw new TypeError(`message log entry: ${name} is required`);
    return null;
  }
  if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) throw new TypeError(`message log entry: ${name} must be a 32-bit integer`);
  return value;
}

function real(name: string, value: number | null | undefined, required: boolean): number | null {
  if (value === undefined || value === null) {
    if (required) throw new TypeError(`message log entry: ${name} is required`);
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`message log entry: ${name} must be a finite number`);
  // Stored as float4: hash and store the same float4, whatever decimal the caller had.
  return Math.fround(value);
}

function validate(entry: LogEntry): PendingRow {
  if (!(entry.at instanceof Date) || Number.isNaN(entry.at.getTime())) throw new TypeError('message log entry: at must be a valid Date');
  // One row per subject HMAC and exchange (the table's key): the first occurrence wins.
  const seen = new Set<string>();
  const subjects: ChainSubject[] = [];
  for (const [i, s] of (entry.subjects ?? []).entries()) {
    const subject = {
      type: text(`subjects[${i}].type`, s.type, true) ?? '',
      hmac: text(`subjects[${i}].hmac`, s.hmac, true) ?? '',
      location: text(`subjects[${i}].location`, s.location, true) ?? '',
    };
    if (seen.has(subject.hmac)) continue;
    seen.add(subject.hmac);
    subjects.push(subject);
  }
  const status = int4('status', entry.status, true);
  const durationMs = real('durationMs', entry.durationMs, true);
  return {
    at: entry.at,
    atMicros: atMicros(entry.at),
    requestId: text('requestId', entry.requestId, true) ?? '',
    client: text('client', entry.client, false),
    service: text('service', entry.service, false),
    operation: text('operation', entry.operation, false),
    purpose: text('purpose', entry.purpose, false),
    conventionId: text('conventionId', entry.conventionId, false),
    conventionVersion: int4('conventionVersion', entry.conventionVersion, false),
    status: status ?? 0,
    problem: text('problem', entry.problem, false),
    durationMs: durationMs ?? 0,
    providerMs: real('providerMs', entry.providerMs, false),
    requestDigest: text('requestDigest', entry.requestDigest, true) ?? '',
    responseDigest: text('responseDigest', entry.responseDigest, true) ?? '',
    requestSignature: text('requestSignature', entry.requestSignature, false),
    responseSignature: text('responseSignature', entry.responseSignature, false),
    requestBody: text('requestBody', entry.requestBody, false),
    responseBody: text('responseBody', entry.responseBody, false),
    subjects,
  };
}

/** `($1, $2, …), ($n, …)` for a multi-row INSERT of `rows` rows of `width` parameters. */
function placeholders(rows: number, width: number): string {
  return valuesList(width, rows, 0);
}

/**
 * Batches come in few sizes, and building their `($k, …)` lists was a share of every flush's CPU: the lists are kept,
 * a bounded number of them (dropped all at once when full; they are rebuilt on demand).
 */
const valuesLists = new Map<string, string>();
const MAX_VALUES_LISTS = 512;

/** `($o+1, …, $o+width), …` for `count` rows of `width` parameters after the first `offset` ones. */
function valuesList(width: number, count: number, offset: number): string {
  const key = `${width},${count},${offset}`;
  let list = valuesLists.get(key);
  if (list === undefined) {
    const groups: string[] = [];
    for (let r = 0; r < count; r++) groups.push(`(${Array.from({ length: width }, (_, c) => `$${offset + r * width + c + 1}`).join(', ')})`);
    list = groups.join(', ');
    if (valuesLists.size >= MAX_VALUES_LISTS) valuesLists.clear();
    valuesLists.set(key, list);
  }
  return list;
}

interface ChainHead {
  seq: bigint;
  hash: string;
}

interface ChainState {
  /** The last row, or the purge anchor when every row was purged, or the genesis. */
  head: ChainHead;
  /** The seq the next checkpoint counts from: the last checkpoint, else the purge anchor, else 0. */
  lastCheckpointSeq: bigint;
  /** When the first row after that checkpoint was written, if it is stored. */
  firstUnsignedAt: Date | null;
}

/** Everything a flush needs to know about the chain, in one parameterless statement (run after the lock is held). */
const chainStateSql = `WITH last AS (SELECT seq, hash FROM message_log ORDER BY seq DESC LIMIT 1),
          anchor AS (SELECT seq, hash FROM log_anchor WHERE id = 1),
          cp AS (SELECT GREATEST((SELECT max(seq) FROM log_checkpoints), (SELECT seq FROM anchor), 0) AS seq)
     SELECT (SELECT seq FROM last)::text AS last_seq, (SELECT hash FROM last) AS last_hash,
            (SELECT seq FROM anchor)::text AS anchor_seq, (SELECT hash FROM anchor) AS anchor_hash,
            (SELECT seq FROM cp)::text AS last_cp,
            (SELECT at FROM message_log WHERE seq = (SELECT seq FROM cp) + 1) AS first_unsigned_at`;

/** The lock, then the chain's state: both travel with BEGIN (Db.transaction's prelude), one round trip. */
const flushPrelude = `${lockChainSql}; ${chainStateSql}`;

interface ChainStateRow {
  last_seq: string | null;
  last_hash: string | null;
  anchor_seq: string | null;
  anchor_hash: string | null;
  last_cp: string;
  first_unsigned_at: Date | string | null;
}

function toChainState(row: ChainStateRow | undefined): ChainState {
  let head: ChainHead = { seq: 0n, hash: GENESIS_HASH };
  if (row?.last_seq && row.last_hash) head = { seq: BigInt(row.last_seq), hash: row.last_hash };
  else if (row?.anchor_seq && row.anchor_hash) head = { seq: BigInt(row.anchor_seq), hash: row.anchor_hash };
  const firstUnsignedAt = row?.first_unsigned_at ?? null;
  return {
    head,
    lastCheckpointSeq: BigInt(row?.last_cp ?? '0'),
    firstUnsignedAt: firstUnsignedAt === null ? null : firstUnsignedAt instanceof Date ? firstUnsignedAt : new Date(firstUnsignedAt),
  };
}

/** Everything a flush needs to know about the chain, in one statement (run after the lock is held). */
async function readChainState(tx: Queryable): Promise<ChainState> {
  const { rows } = await tx.query<ChainStateRow>(chainStateSql);
  return toChainState(rows[0]);
}

export class MessageLog {
  private readonly db: Db;
  private readonly keyring: HubKeyring;
  private readonly logger: { warn(o: object, m?: string): void; debug?(o: object, m?: string): void } | undefined;
  private readonly everyRows: bigint;
  private readonly everyMs: number;
  private queue: Pending[] = [];
  /**
   * Flushes started and not settled. At most two: one committing, and the next one, started when the previous reached
   * its COMMIT, waiting for the chain's lock meanwhile; so the next batch's BEGIN, lock and state read overlap the
   * previous commit instead of following it.
   */
  private readonly inFlight = new Set<Promise<void>>();
  /** A flush is being prepared (before its COMMIT): the next one waits for that point. */
  private preparing = false;
  private closed = false;
  /** Set by the timer and by close(): the next flush checks whether the tail needs a checkpoint, even with no rows. */
  private checkpointWanted: 'if-due' | 'force' | null = null;
  /** Rows written by this instance since it last wrote a checkpoint: the idle timer has nothing to do otherwise. */
  private dirty = false;
  /**
   * The chain's state as this instance's last committed flush left it, when no other flush is in flight: the next
   * batch can then be written in one statement (appendAfter) instead of a transaction of three round trips. Forgotten
   * on any failure.
   */
  private known: ChainState | null = null;
  /** Flushes started and not yet settled (their callers not yet told): `known` is the head only when there are none. */
  private unsettled = 0;
  /** Flushes to write the slow way after the one-statement path found that another writer had moved the head. */
  private slowFlushes = 0;
  /** Flushes this instance has started: one started after a given flush may have taken the lock before it. */
  private flushesStarted = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(opts: MessageLogOptions) {
    this.db = opts.db;
    this.keyring = opts.keyring;
    this.logger = opts.logger;
    const everyRows = opts.checkpointEveryRows ?? 1000;
    const everySeconds = opts.checkpointEverySeconds ?? 60;
    if (!Number.isInteger(everyRows) || everyRows < 1) throw new RangeError('checkpointEveryRows must be a positive integer');
    if (!(everySeconds > 0)) throw new RangeError('checkpointEverySeconds must be positive');
    this.everyRows = BigInt(everyRows);
    this.everyMs = everySeconds * 1000;
    // When traffic stops, the tail still gets its checkpoint within about two periods.
    this.timer = setInterval(() => {
      if (!this.dirty || this.closed) return;
      this.checkpointWanted ??= 'if-due';
      this.kick();
    }, Math.min(this.everyMs, 2 ** 31 - 1)); // setInterval takes anything above 2^31-1 ms as 1 ms
    this.timer.unref();
  }

  /** Resolves with the row's seq once it is committed; rejects when its batch could not be written. */
  append(entry: LogEntry): Promise<string> {
    if (this.closed) return Promise.reject(new MessageLogClosedError('the message log is closed'));
    let row: PendingRow;
    try {
      row = validate(entry);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<string>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.kick();
    });
  }

  /** Writes what is queued and a checkpoint of the tail this instance wrote, then stops. */
  async close(): Promise<void> {
    if (this.closed) {
      await this.settled();
      return;
    }
    this.closed = true;
    clearInterval(this.timer);
    this.kick();
    await this.settled();
    // A checkpoint at shutdown (once the batches in flight are written): rows written since the last one would
    // otherwise stay unsigned until the next start.
    if (this.dirty) {
      this.checkpointWanted = 'force';
      this.kick();
      await this.settled();
    }
  }

  /** Until no flush is in flight (those that start meanwhile included). */
  private async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /**
   * Starts a flush unless one is being prepared: entries queued meanwhile are written together by the next one, which
   * starts as soon as this one reaches its COMMIT (or fails).
   */
  private kick(): void {
    if (this.preparing) return;
    if (this.queue.length === 0 && this.checkpointWanted === null) return;
    this.preparing = true;
    let released = false;
    const committing = () => {
      if (released) return;
      released = true;
      this.preparing = false;
      this.kick();
    };
    const flush = (async () => {
      // Lets the appends made in the same tick as this one (a burst) join the batch.
      await null;
      const batch = this.queue.splice(0, MAX_BATCH);
      const wanted = this.queue.length === 0 ? this.checkpointWanted : null;
      if (this.queue.length === 0) this.checkpointWanted = null;
      // The state this instance knows is the head only if no other flush of its own is still in flight.
      const known = this.unsettled === 0 ? this.known : null;
      this.unsettled++;
      const serial = ++this.flushesStarted;
      await this.flush(batch, wanted, committing, known, serial);
    })().finally(() => {
      this.inFlight.delete(flush);
      // A flush that failed before its COMMIT lets the next one start now. An append that arrived after the last check
      // starts one too.
      if (!released) committing();
      else this.kick();
    });
    this.inFlight.add(flush);
  }

  /**
   * One lock for the whole batch. When this instance knows the head (its own last flush committed and none is in
   * flight), one statement and one round trip (appendAfter). Otherwise, or when another writer moved the head, one
   * transaction in three round trips whatever its size: BEGIN with the lock and the read of the chain's state, one
   * statement inserting rows, subjects and checkpoints, COMMIT. Every round trip counts: exchanges wait for this commit
   * before they answer. `committing` is called when COMMIT, or the one statement, is about to be sent (the next flush then starts, and waits
   * for the lock). Never throws: the batch's callers get the outcome.
   */
  private async flush(batch: Pending[], checkpoint: 'if-due' | 'force' | null, committing: () => void, known: ChainState | null, serial: number): Promise<void> {
    this.known = null;
    if (known && batch.length > 0 && checkpoint === null && this.slowFlushes === 0) {
      try {
        const outcome = await this.appendAfter(known, batch, committing);
        if (outcome) {
          this.settle(batch, outcome);
          return;
        }
      } catch (err) {
        // A key another writer took meanwhile (unique violation), or a fault that the transaction below meets again.
        // This instance's own next flush, started at this statement's send, may have taken the lock first and the
        // seqs with it: that is the design working (the primary key caught it), not news for an operator.
        const ownRace = this.flushesStarted > serial && (err as { code?: unknown }).code === '23505';
        const fields = { err: { name: (err as Error).name, message: (err as Error).message }, rows: batch.length };
        if (ownRace) this.logger?.debug?.(fields, 'message log: the next flush took the head first; writing the batch in a transaction');
        else this.logger?.warn(fields, 'message log: one-statement append failed; writing the batch in a transaction');
      }
      // The head moved. If a flush of this instance started after this one, it is the likely mover: the flush after it
      // knows the head again. Otherwise another writer did (another process on the same database): the next few
      // flushes read the head under the lock.
      if (this.flushesStarted === serial) this.slowFlushes = 64;
    } else if (this.slowFlushes > 0) {
      this.slowFlushes--;
    }
    try {
      const outcome = await this.db.transaction(
        async (tx, prelude) => {
          // A Db that did not run the prelude (a wrapper) gets the state read here.
          const state = prelude?.rows[0] !== undefined ? toChainState(prelude.rows[0] as unknown as ChainStateRow) : await readChainState(tx);
          const { rows, hashes } = chainAfter(state.head, batch);
          const checkpoints = await this.dueCheckpoints(state, batch, rows, hashes, checkpoint);
          await insertBatch(tx, batch, rows, hashes, checkpoints.rows);
          committing();
          return { seqs: rows.map((row) => row.seq), tailSigned: checkpoints.tailSigned, after: stateAfter(state, batch, rows, hashes, checkpoints.rows) };
        },
        { prelude: flushPrelude },
      );
      this.settle(batch, outcome);
    } catch (err) {
      this.unsettled--;
      this.known = null;
      this.logger?.warn({ err, rows: batch.length }, 'message log: batch not written');
      for (const pending of batch) pending.reject(err);
    }
  }

  /** A committed batch: its callers get their seqs, and the state it left is kept for the next one. */
  private settle(batch: Pending[], outcome: { seqs: string[]; tailSigned: boolean; after: ChainState }): void {
    this.unsettled--;
    if (batch.length > 0) this.dirty = true;
    if (outcome.tailSigned) this.dirty = false;
    this.known = outcome.after;
    batch.forEach((pending, i) => pending.resolve(outcome.seqs[i] ?? ''));
  }

  /**
   * The batch after `known`, in ONE statement and one round trip (no BEGIN, no COMMIT: a statement is atomic on its
   * own), holding the chain's lock like the transaction does. Its rows are written only if the head is still the one
   * this instance last wrote (that row, or the purge anchor that replaced it, or an empty chain) and nothing follows
   * it; a row another writer added meanwhile makes the statement fail on the primary key instead. Returns undefined
   * (nothing written) when the head moved: the caller then writes the batch the slow way.
   */
  private async appendAfter(known: ChainState, batch: Pending[], committing: () => void): Promise<{ seqs: string[]; tailSigned: boolean; after: ChainState } | undefined> {
    const { head } = known;
    const { rows, hashes } = chainAfter(head, batch);
    const checkpoints = await this.dueCheckpoints(known, batch, rows, hashes, null);
    // As the transaction does at its COMMIT: the next flush starts now (its state unknown, it takes the lock and reads
    // the head) rather than after this statement's round trip; without it, batches did not overlap and an exchange
    // waited for up to two commits (p99 at a fixed 626/s: 75.8 ms against the transaction's 38.6).
    committing();
    const written = await insertAfterHead(this.db, head, batch, rows, hashes, checkpoints.rows);
    if (!written) return undefined;
    return { seqs: rows.map((row) => row.seq), tailSigned: checkpoints.tailSigned, after: stateAfter(known, batch, rows, hashes, checkpoints.rows) };
  }

  /**
   * A checkpoint on every row whose seq is checkpointEveryRows past the previous checkpoint, and one on the last row
   * when its oldest unsigned row is older than checkpointEverySeconds (or at shutdown). Says whether the tail is signed.
   */
  private async dueCheckpoints(
    state: ChainState,
    batch: Pending[],
    rows: ChainRow[],
    hashes: string[],
    checkpoint: 'if-due' | 'force' | null,
  ): Promise<{ rows: CheckpointRow[]; tailSigned: boolean }> {
    const { head } = state;
    let lastCheckpoint = state.lastCheckpointSeq;
    const due: Array<{ seq: string; hash: string }> = [];
    rows.forEach((row, i) => {
      const seq = BigInt(row.seq);
      const hash = hashes[i];
      if (hash !== undefined && seq - lastCheckpoint >= this.everyRows) {
        due.push({ seq: row.seq, hash });
        lastCheckpoint = seq;
      }
    });
    const tailSeq = rows.length > 0 ? BigInt(rows[rows.length - 1]?.seq ?? '0') : head.seq;
    const tailHash = hashes[hashes.length - 1] ?? head.hash;
    if (tailSeq > lastCheckpoint && tailSeq > 0n) {
      const firstUnsigned = lastCheckpoint + 1n;
      // The oldest unsigned row is in this batch, or it is the stored row that the state read already returned.
      const oldestUnsigned = firstUnsigned > head.seq ? batch[Number(firstUnsigned - head.seq - 1n)]?.row.at : state.firstUnsignedAt;
      const timeDue = oldestUnsigned !== undefined && oldestUnsigned !== null && Date.now() - oldestUnsigned.getTime() >= this.everyMs;
      if (checkpoint === 'force' || timeDue) due.push({ seq: tailSeq.toString(), hash: tailHash });
    }
    const checkpoints: CheckpointRow[] = [];
    for (const { seq, hash } of due) {
      const at = new Date();
      const signature = await this.keyring.signCompact({ seq, hash, at: at.toISOString(), iss: this.keyring.hubId }, CHECKPOINT_TYP);
      checkpoints.push([seq, hash, at, this.keyring.current.kid, signature]);
    }
    return { rows: checkpoints, tailSigned: due.some((c) => BigInt(c.seq) === tailSeq) };
  }
}

type CheckpointRow = [seq: string, hash: string, at: Date, kid: string, signature: string];

// Postgres takes at most 65535 parameters per statement; stay well under it.
const MAX_PARAMS = 60_000;

/**
 * Rows, subjects and checkpoints in one statement (data-modifying CTEs) when they fit its parameters; a large backlog
 * falls back to several multi-row statements in the same transaction.
 */
async function insertBatch(tx: Queryable, batch: Pending[], rows: ChainRow[], hashes: string[], checkpoints: CheckpointRow[]): Promise<void> {
  const subjects = rows.flatMap((row) => row.subjects.map((s): SqlValue[] => [row.seq, s.type, s.hmac, s.location]));
  const total = rows.length * LOG_COLUMNS.length + subjects.length * 4 + checkpoints.length * 5;
  if (total > MAX_PARAMS) {
    await insertRows(tx, batch, rows, hashes);
    for (const cp of checkpoints) await tx.query('INSERT INTO log_checkpoints (seq, hash, at, kid, signature) VALUES ($1, $2, $3, $4, $5)', cp);
    return;
  }
  const params: SqlValue[] = [];
  const parts: string[] = [];
  const values = (width: number, count: number) => valuesList(width, count, params.length);
  if (rows.length > 0) {
    const sql = `INSERT INTO message_log (${LOG_COLUMNS.join(', ')}) VALUES ${values(LOG_COLUMNS.length, rows.length)}`;
    rows.forEach((row, i) => params.push(...logParams(row, batch[i]?.row.at ?? null, hashes[i] ?? null)));
    parts.push(sql);
  }
  if (subjects.length > 0) {
    const sql = `INSERT INTO message_subjects (seq, subject_type, subject_hmac, location) VALUES ${values(4, subjects.length)}`;
    for (const s of subjects) params.push(...s);
    parts.push(sql);
  }
  if (checkpoints.length > 0) {
    const sql = `INSERT INTO log_checkpoints (seq, hash, at, kid, signature) VALUES ${values(5, checkpoints.length)}`;
    for (const cp of checkpoints) params.push(...cp);
    parts.push(sql);
  }
  if (parts.length === 0) return;
  // Each INSERT is its own CTE: all run in one statement, one round trip. Types are inferred from the columns.
  const statement = parts.length === 1 ? (parts[0] ?? '') : `WITH ${parts.map((sql, i) => `w${i} AS (${sql})`).join(', ')} SELECT 1`;
  await tx.query(statement, params);
}

function logParams(row: ChainRow, at: Date | null, hash: string | null): SqlValue[] {
  return [
    row.seq, at, row.requestId, row.client, row.service, row.operation, row.purpose, row.conventionId, row.conventionVersion, row.status,
    row.problem, row.durationMs, row.providerMs, row.requestDigest, row.responseDigest, row.requestSignature, row.responseSignature,
    row.requestBody, row.responseBody, row.prevHash, hash,
  ];
}

/** Multi-row INSERTs with parameters: a few statements per batch whatever its size. */
async function insertRows(tx: Queryable, batch: Pending[], rows: ChainRow[], hashes: string[]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT);
    const params = chunk.flatMap((row, i) => logParams(row, batch[start + i]?.row.at ?? null, hashes[start + i] ?? null));
    await tx.query(`INSERT INTO message_log (${LOG_COLUMNS.join(', ')}) VALUES ${placeholders(chunk.length, LOG_COLUMNS.length)}`, params);
  }
  const subjects = rows.flatMap((row) => row.subjects.map((s): SqlValue[] => [row.seq, s.type, s.hmac, s.location]));
  for (let start = 0; start < subjects.length; start += SUBJECTS_PER_INSERT) {
    const chunk = subjects.slice(start, start + SUBJECTS_PER_INSERT);
    await tx.query(`INSERT INTO message_subjects (seq, subject_type, subject_hmac, location) VALUES ${placeholders(chunk.length, 4)}`, chunk.flat());
  }
}

/** The batch's rows chained after `head`: each gets the next seq and the previous row's hash, and its own hash. */
function chainAfter(head: ChainHead, batch: Pending[]): { rows: ChainRow[]; hashes: string[] } {
  let prevHash = head.hash;
  const rows: ChainRow[] = [];
  const hashes: string[] = [];
  batch.forEach((pending, i) => {
    const row: ChainRow = { ...pending.row, seq: (head.seq + BigInt(i) + 1n).toString(), prevHash };
    prevHash = rowHash(row);
    rows.push(row);
    hashes.push(prevHash);
  });
  return { rows, hashes };
}

/** The chain's state once `rows` (after `state`'s head) and `checkpoints` are committed. */
function stateAfter(state: ChainState, batch: Pending[], rows: ChainRow[], hashes: string[], checkpoints: CheckpointRow[]): ChainState {
  const last = rows[rows.length - 1];
  const head = last ? { seq: BigInt(last.seq), hash: hashes[hashes.length - 1] ?? '' } : state.head;
  const lastCheckpointSeq = checkpoints.reduce((max, cp) => (BigInt(cp[0]) > max ? BigInt(cp[0]) : max), state.lastCheckpointSeq);
  const firstUnsigned = lastCheckpointSeq + 1n;
  let firstUnsignedAt: Date | null;
  if (firstUnsigned > head.seq) firstUnsignedAt = null;
  else if (firstUnsigned > state.head.seq) firstUnsignedAt = batch[Number(firstUnsigned - state.head.seq - 1n)]?.row.at ?? null;
  else firstUnsignedAt = state.firstUnsignedAt;
  return { head, lastCheckpointSeq, firstUnsignedAt };
}

/** message_log's columns with their types: in `INSERT … SELECT` the parameters are not typed by the target columns. */
const LOG_COLUMN_TYPES = [
  'bigint', 'timestamptz', 'text', 'text', 'text', 'text', 'text', 'text', 'integer', 'integer',
  'text', 'real', 'real', 'text', 'text', 'text', 'text',
  'text', 'text', 'text', 'text',
];

/** Like valuesList, each parameter cast to its column's type. */
const typedLists = new Map<string, string>();
function typedValuesList(types: readonly string[], count: number, offset: number): string {
  const key = `${types.join(',')}|${count}|${offset}`;
  let list = typedLists.get(key);
  if (list === undefined) {
    const groups: string[] = [];
    for (let r = 0; r < count; r++) groups.push(`(${types.map((type, c) => `$${offset + r * types.length + c + 1}::${type}`).join(', ')})`);
    list = groups.join(', ');
    if (typedLists.size >= MAX_VALUES_LISTS) typedLists.clear();
    typedLists.set(key, list);
  }
  return list;
}

const SUBJECT_TYPES = ['bigint', 'text', 'text', 'text'];
const CHECKPOINT_TYPES = ['bigint', 'text', 'timestamptz', 'text', 'text'];

/**
 * Rows, subjects and checkpoints after `head`, in one statement that holds the chain's lock, written only when `head`
 * is still the chain's last row (or the purge anchor, or the genesis of an empty chain) and no row follows it. Says
 * whether it wrote them; false when the batch does not fit one statement's parameters (nothing written either).
 */
async function insertAfterHead(db: Queryable, head: ChainHead, batch: Pending[], rows: ChainRow[], hashes: string[], checkpoints: CheckpointRow[]): Promise<boolean> {
  const subjects = rows.flatMap((row) => row.subjects.map((s): SqlValue[] => [row.seq, s.type, s.hmac, s.location]));
  if (2 + rows.length * LOG_COLUMNS.length + subjects.length * 4 + checkpoints.length * 5 > MAX_PARAMS) return false;
  const params: SqlValue[] = [head.seq.toString(), head.hash];
  const parts: string[] = [];
  const insert = (table: string, columns: readonly string[], types: readonly string[], values: SqlValue[][]) => {
    parts.push(`INSERT INTO ${table} (${columns.join(', ')}) SELECT v.* FROM (VALUES ${typedValuesList(types, values.length, params.length)}) AS v, head`);
    for (const v of values) params.push(...v);
  };
  insert('message_log', LOG_COLUMNS, LOG_COLUMN_TYPES, rows.map((row, i) => logParams(row, batch[i]?.row.at ?? null, hashes[i] ?? null)));
  if (subjects.length > 0) insert('message_subjects', ['seq', 'subject_type', 'subject_hmac', 'location'], SUBJECT_TYPES, subjects);
  if (checkpoints.length > 0) insert('log_checkpoints', ['seq', 'hash', 'at', 'kid', 'signature'], CHECKPOINT_TYPES, checkpoints);
  // The lock is taken before any row is produced (every INSERT joins head, which reads lock). The checks read the
  // statement's snapshot, taken before the lock: a writer that committed in between is caught by the primary key.
  const { rows: result } = await db.query<{ ok: string }>(
    `WITH lock AS (${lockChainSql} AS locked),
          head AS (SELECT 1 FROM lock
                    WHERE ((EXISTS (SELECT 1 FROM message_log WHERE seq = $1::bigint AND hash = $2::text)
                            OR EXISTS (SELECT 1 FROM log_anchor WHERE id = 1 AND seq = $1::bigint AND hash = $2::text)
                            OR ($1::bigint = 0 AND $2::text = '${GENESIS_HASH}' AND NOT EXISTS (SELECT 1 FROM message_log) AND NOT EXISTS (SELECT 1 FROM log_anchor)))
                           AND NOT EXISTS (SELECT 1 FROM message_log WHERE seq > $1::bigint))),
          ${parts.map((sql, i) => `w${i} AS (${sql})`).join(',\n          ')}
     SELECT count(*)::text AS ok FROM head`,
    params,
  );
  return result[0]?.ok === '1';
}
