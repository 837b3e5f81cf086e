// File delivery: for a subscription in mode 'file', the engine writes the changes after its cursor into its folder as
// numbered NDJSON files (`<subscription>-000001.ndjson`, one change per line, minimised as a push), each beside its
// detached signature (`….ndjson.jws`: the hub's compact JWS over the file's name, span, count and SHA-256). A file is
// written atomically (a hidden temporary file, then rename; the signature first, so that a reader never finds a file
// without one), logged, and then recorded in sync_files in the transaction that moves the cursor past it: a file on
// disk without its row is written again under the same number with the same changes, so numbering has no gaps.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ActiveConvention } from '../conventions/store.ts';
import { referentialSubjects } from '../exchange/referential-subjects.ts';
import { subjectHmac } from '../exchange/subjects.ts';
import type { HubKeyring } from '../identity/hub-keys.ts';
import type { MessageLog } from '../message-log/message-log.ts';
import type { Db } from '../storage/db.ts';
import { circuitOpenMs, type RetryPolicy } from './deliveries.ts';
import { readFeedPage, type FeedChange } from './feed.ts';
import { minimiseChanges, pushedChange, sha256Base64url } from './push.ts';
import { referentialsProvider, subscriptionConvention, subscriptionOperation } from './subscriptions.ts';

/** The JWS type of a change file's detached signature (docs/sync.md). */
export const changeFileTyp = 'tabadol-file+jwt';

/** What a change file's signature says (its payload). */
export interface ChangeFileClaims {
  iss: string;
  /** The subscriber. */
  aud: string;
  /** The subscription. */
  sub: string;
  /** The file's name (its number is in it). */
  file: string;
  /** Feed positions of its first and last change. */
  seqFrom: number;
  seqTo: number;
  count: number;
  /** base64url SHA-256 of the file's bytes. */
  bdh: string;
}

/** `<subscription>-000042.ndjson`: sorted by name, the files are in order. */
export function changeFileName(subscriptionId: string, seq: number): string {
  return `${subscriptionId}-${String(seq).padStart(6, '0')}.ndjson`;
}

export interface FileWriterDeps {
  db: Db;
  keyring: Pick<HubKeyring, 'hubId' | 'signCompactSync' | 'subjectKey'>;
  log: Pick<MessageLog, 'append'>;
  findConvention: (consumer: string, provider: string, service: string) => ActiveConvention | undefined;
  policy: Pick<RetryPolicy, 'circuitThreshold' | 'circuitBaseMs' | 'circuitMaxMs'>;
  leaseMs: number;
  /** This process's name on leases. */
  owner: string;
  logger: Logger;
  /** Files one subscription gets per turn (then the others' turn, and the next tick). */
  maxFilesPerTurn?: number;
  stopped?: () => boolean;
}

interface LeasedFileSubscription {
  id: string;
  subscriber: string;
  referential: string;
  purpose: string;
  types: string[] | null;
  scope: string | null;
  target: string;
  batch_size: number;
  cursor: string;
}

type FileOutcome = 'written' | 'skipped' | 'idle' | 'blocked' | 'lost';

export class ChangeFileWriter {
  constructor(private readonly deps: FileWriterDeps) {}

  /** A turn for every active file subscription behind the feed whose circuit is closed. Returns the files written. */
  async writeAll(): Promise<number> {
    const { rows } = await this.deps.db.query<{ id: string }>(
      `SELECT s.id FROM sync_subscriptions s
        WHERE s.state = 'active' AND s.mode = 'file' AND (s.circuit_open_until IS NULL OR s.circuit_open_until <= now())
          AND s.cursor < (SELECT COALESCE(max(c.position), 0) FROM ref_changes c WHERE c.referential = s.referential AND c.position IS NOT NULL)
        ORDER BY s.id`,
    );
    let written = 0;
    for (const { id } of rows) {
      if (this.deps.stopped?.()) break;
      written += await this.run(id);
    }
    return written;
  }

  /** One subscription's turn under its lease: files until caught up, blocked, or maxFilesPerTurn. */
  async run(subscriptionId: string): Promise<number> {
    const sub = await this.acquireLease(subscriptionId);
    if (!sub) return 0;
    let written = 0;
    try {
      for (let n = 0; n < (this.deps.maxFilesPerTurn ?? 10) && !this.deps.stopped?.(); n++) {
        const outcome = await this.writeNext(sub);
        if (outcome === 'written') written++;
        if (outcome !== 'written' && outcome !== 'skipped') break;
      }
    } finally {
      await this.releaseLease(subscriptionId);
    }
    return written;
  }

  /** The next file of a subscription (or only a cursor moved past changes outside its kinds and scope). */
  private async writeNext(sub: LeasedFileSubscription): Promise<FileOutcome> {
    const convention = this.conventionOf(sub);
    if (!convention) return 'blocked';
    const from = Number(sub.cursor);
    const page = await readFeedPage(this.deps.db, { referential: sub.referential, types: sub.types, scope: sub.scope }, from, sub.batch_size);
    if (page.changes.length === 0) {
      if (page.next === from) return 'idle';
      if (!(await this.advance(sub, from, page.next, undefined))) return 'lost';
      return page.more ? 'skipped' : 'idle';
    }
    const { rows } = await this.deps.db.query<{ seq: number }>('SELECT COALESCE(max(seq), 0) + 1 AS seq FROM sync_files WHERE subscription_id = $1', [sub.id]);
    const file = this.render(sub, convention, Number(rows[0]?.seq ?? 1), page.changes);
    try {
      await mkdir(sub.target, { recursive: true });
      await writeAtomically(join(sub.target, `${file.name}.jws`), file.signature);
      await writeAtomically(join(sub.target, file.name), file.content);
    } catch (err) {
      await this.failed(sub.id, `could not write ${file.name} in ${sub.target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return 'blocked';
    }
    // Logged before it is recorded: a file whose log row could not be written is written (and logged) again.
    await this.logFile(sub, convention, file);
    return (await this.advance(sub, from, page.next, file)) ? 'written' : 'lost';
  }

  /** The file's bytes and signature: the same changes give the same bytes, whenever it is written. */
  private render(sub: LeasedFileSubscription, convention: ActiveConvention, seq: number, changes: readonly FeedChange[]): RenderedFile {
    const full = changes.map((change) => pushedChange(sub.id, change));
    const content = minimiseChanges(convention.convention, full).map((c) => `${JSON.stringify(c)}\n`).join('');
    const name = changeFileName(sub.id, seq);
    const digest = sha256Base64url(content);
    const first = changes[0]?.position ?? 0;
    const last = changes.at(-1)?.position ?? first;
    const claims: ChangeFileClaims = { iss: this.deps.keyring.hubId, aud: sub.subscriber, sub: sub.id, file: name, seqFrom: first, seqTo: last, count: changes.length, bdh: digest };
    return { seq, name, content, digest, signature: this.deps.keyring.signCompactSync({ ...claims }, changeFileTyp), first, last, count: changes.length, full };
  }

  /**
   * Moves the cursor from `from` to `to` (recording `file` with it) while this writer holds the lease and nobody moved
   * the cursor meanwhile (an operator's rewind): otherwise nothing is recorded, and the file is written again.
   */
  private async advance(sub: LeasedFileSubscription, from: number, to: number, file: RenderedFile | undefined): Promise<boolean> {
    const moved = await this.deps.db.transaction(async (tx) => {
      const { rowCount } = await tx.query(
        `UPDATE sync_subscriptions SET cursor = $3, updated_at = now(), delivered_count = delivered_count + $5,
                lease_until = now() + make_interval(secs => $6::float8 / 1000),
                last_delivered_at = CASE WHEN $5 > 0 THEN now() ELSE last_delivered_at END,
                consecutive_failures = 0, circuit_open_until = NULL, last_error = NULL
          WHERE id = $1 AND cursor = $2 AND lease_owner = $4 AND state = 'active'`,
        [sub.id, from, to, this.deps.owner, file?.count ?? 0, this.deps.leaseMs],
      );
      if (rowCount !== 1) return false;
      if (file) {
        await tx.query(
          `INSERT INTO sync_files (subscription_id, seq, name, cursor_from, cursor_to, first_position, last_position, change_count, digest)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [sub.id, file.seq, file.name, from, to, file.first, file.last, file.count, file.digest],
        );
      }
      return true;
    });
    if (moved) sub.cursor = String(to);
    return moved;
  }

  private async logFile(sub: LeasedFileSubscription, convention: ActiveConvention, file: RenderedFile): Promise<void> {
    const serviceId = `${referentialsProvider}/${sub.referential}`;
    const subjects = referentialSubjects(serviceId, { operationId: subscriptionOperation, pathParams: {}, responseBody: { changes: file.full } }) ?? [];
    await this.deps.log.append({
      at: new Date(),
      requestId: file.name,
      client: sub.subscriber,
      service: serviceId,
      operation: 'file',
      purpose: sub.purpose,
      conventionId: convention.convention.id,
      conventionVersion: convention.convention.version,
      status: 200,
      durationMs: 0,
      requestDigest: file.digest,
      responseDigest: '',
      requestSignature: file.signature,
      responseSignature: null,
      subjects: subjects.map((s) => ({ type: s.type, hmac: subjectHmac(this.deps.keyring.subjectKey, s.type, s.value), location: s.location })),
    });
  }

  /** The convention, checked before each file: revoked or expired, nothing is written and the cursor waits. */
  private conventionOf(sub: LeasedFileSubscription): ActiveConvention | undefined {
    try {
      return subscriptionConvention(this.deps.findConvention, sub);
    } catch (err) {
      void this.deps.db
        .query('UPDATE sync_subscriptions SET last_error = $2 WHERE id = $1', [sub.id, `not written: ${(err as Error).message}`.slice(0, 2000)])
        .catch((e: unknown) => this.deps.logger.warn({ subscription: sub.id, err: { message: (e as Error).message } }, 'could not record why a subscription is blocked'));
      return undefined;
    }
  }

  /** A folder that cannot be written: counted, said in last_error, and past the threshold the circuit opens (as a push target's). */
  private async failed(subscriptionId: string, error: string): Promise<void> {
    this.deps.logger.warn({ subscription: subscriptionId, error }, 'change file not written');
    const { rows } = await this.deps.db.query<{ failures: number }>(
      `UPDATE sync_subscriptions SET failed_count = failed_count + 1, last_error = $2, consecutive_failures = consecutive_failures + 1
        WHERE id = $1 RETURNING consecutive_failures AS failures`,
      [subscriptionId, error.slice(0, 2000)],
    );
    const failures = rows[0]?.failures ?? 0;
    if (failures >= this.deps.policy.circuitThreshold) {
      await this.deps.db.query(`UPDATE sync_subscriptions SET circuit_open_until = now() + make_interval(secs => $2::float8 / 1000) WHERE id = $1`, [subscriptionId, circuitOpenMs(this.deps.policy, failures)]);
    }
  }

  private async acquireLease(subscriptionId: string): Promise<LeasedFileSubscription | undefined> {
    const { rows } = await this.deps.db.query<LeasedFileSubscription>(
      `UPDATE sync_subscriptions SET lease_owner = $2, lease_until = now() + make_interval(secs => $3::float8 / 1000)
        WHERE id = $1 AND state = 'active' AND mode = 'file' AND target IS NOT NULL
          AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2)
          AND (circuit_open_until IS NULL OR circuit_open_until <= now())
        RETURNING id, subscriber, referential, purpose, types, scope, target, batch_size, cursor`,
      [subscriptionId, this.deps.owner, this.deps.leaseMs],
    );
    return rows[0];
  }

  private async releaseLease(subscriptionId: string): Promise<void> {
    await this.deps.db.query('UPDATE sync_subscriptions SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [subscriptionId, this.deps.owner]);
  }
}

interface RenderedFile {
  seq: number;
  name: string;
  content: string;
  digest: string;
  signature: string;
  first: number;
  last: number;
  count: number;
  /** The changes before minimisation, for the subjects the log records. */
  full: ReturnType<typeof pushedChange>[];
}

/** Writes `path` whole or not at all: a hidden temporary file in the same folder, synced, then renamed over it. */
async function writeAtomically(path: string, content: string): Promise<void> {
  const slash = path.lastIndexOf('/');
  const temporary = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'w', 0o640);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temporary, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temporary, path);
}
