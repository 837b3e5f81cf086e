// A bulk import with the database and the importer working at once: while chunk N is written (its transaction on one
// connection), chunk N+1 is read from the file, prepared and decided through other connections, from what the database
// holds plus what N's decisions carry over (RoundCarry: its source records, natural keys and blocking-key entries), as
// if the two chunks were one. On two cores the importer's thread and PostgreSQL otherwise take turns, each idle about
// half the time.
//
// Each chunk's transaction takes the referential's lock exclusively, as contributePrepared does, so single
// contributions and steward decisions still get their turn between chunks. What keeps early decisions sound:
// - chunk N+1 is decided only once N's transaction holds the lock, so anything another writer committed before that is
//   in what N+1 reads, and nothing else writes until N commits;
// - N+1's transaction, once it holds the lock, checks that no golden record changed since N's commit (a change-feed
//   row above the last one N's transaction saw); if one did, N+1 is decided again inside its transaction.
// A chunk that the carry cannot describe (the previous chunk merged records or took rows one by one, the two share a
// source record, or the chunk has a source id twice) is decided inside its own transaction, after the previous commit.
//
// Only on PostgreSQL: the embedded database has one connection, and there chunks go through contributePrepared in turn.
import type { Db, Queryable } from '../storage/db.ts';
import { contributeRoundLocked } from './bulk.ts';
import { decideRound, sourceKey, type DecidedRound, type RoundCarry } from './bulk-decide.ts';
import { writeRound } from './bulk-write.ts';
import type { BulkOutcome, Prepared, PreparedBulk } from './bulk-prepare.ts';
import { withRetry } from './engine.ts';
import { lockReferential } from './locks.ts';

export interface PipelineOptions {
  /** Called with each chunk's outcomes (in the file's order) once it committed, before the next chunk commits. */
  committed(outcomes: BulkOutcome[], chunk: PreparedBulk): Promise<void>;
}

export interface PipelineStats {
  chunks: number;
  /** Chunks decided while the previous one was being written. */
  overlapped: number;
  /** Of those, chunks decided again in their transaction because something else changed the referential meanwhile. */
  redecided: number;
}

interface Writing {
  chunk: PreparedBulk;
  /** Resolves once the chunk's transaction holds the referential's lock. */
  locked: Promise<void>;
  /** The outcomes, and the last change-feed id the transaction saw, once committed. */
  done: Promise<{ results: Map<number, BulkOutcome>; lastChange: string }>;
}

/**
 * Contributes `chunks` in order, one transaction each, deciding each while the previous one is written whenever the
 * carry allows. A failed chunk stops the import: the chunks before it are committed, it and the rest are not (running
 * the import again applies the rest; rows already applied are unchanged). Long (about 85 lines) because one loop holds
 * the two chunks in flight (the one being written, the one being decided) and the hand-over between them (the carry,
 * the lock, a re-decision when the database changed meanwhile); split, those would be shared mutable state.
 */
export async function contributePipelined(db: Db, chunks: AsyncIterable<PreparedBulk>, options: PipelineOptions): Promise<PipelineStats> {
  if (db.driver !== 'pg') throw new Error('contributePipelined needs PostgreSQL (several connections)');
  const stats: PipelineStats = { chunks: 0, overlapped: 0, redecided: 0 };
  let writing: Writing | undefined;
  let carry: RoundCarry | undefined;
  let lastChange: string | undefined;
  const settle = async (): Promise<void> => {
    if (!writing) return;
    const { chunk, done } = writing;
    writing = undefined;
    const { results, lastChange: last } = await done;
    lastChange = last;
    for (const [at, outcome] of results) chunk.outcomes[at] = outcome;
    await options.committed(chunk.outcomes, chunk);
  };
  try {
    for await (const chunk of chunks) {
      stats.chunks++;
      const round = chunk.rounds.length === 1 ? chunk.rounds[0] : undefined;
      if (!round) {
        // No valid row, or a source id twice (its versions in rounds): after the previous chunk, a transaction a round.
        await settle();
        carry = undefined;
        for (const r of chunk.rounds) {
          const results = await withRetry(() => db.transaction(async (tx) => {
            await lockReferential(tx, chunk.module.name, 'exclusive');
            return contributeRoundLocked(tx, chunk.module, r, chunk.receivedAt);
          }));
          for (const [at, outcome] of results) chunk.outcomes[at] = outcome;
        }
        lastChange = undefined;
        await options.committed(chunk.outcomes, chunk);
        continue;
      }
      const early = carry !== undefined && carry.complete && writing !== undefined && !sharesSource(round, carry);
      let decided: DecidedRound | undefined;
      if (early && writing) {
        await writing.locked;
        decided = await decideRound(db, chunk.module, round, chunk.receivedAt, carry);
        stats.overlapped++;
      }
      await settle();
      const since = lastChange;
      let locked!: () => void;
      let notLocked!: (err: unknown) => void;
      const lockedPromise = new Promise<void>((resolve, reject) => {
        locked = resolve;
        notLocked = reject;
      });
      let attempt = 0;
      let handedOn = false;
      const done = withRetry(() =>
        db.transaction(async (tx: Queryable) => {
          attempt++;
          // The next chunk may already be deciding from this one's decisions: they cannot change any more.
          if (attempt > 1 && handedOn) throw new Error(`chunk ${stats.chunks} of the import failed after the next one was decided from it; run the import again (rows applied so far are unchanged)`);
          await lockReferential(tx, chunk.module.name, 'exclusive');
          let d = attempt === 1 ? decided : undefined;
          if (d && since !== undefined && (await changedSince(tx, chunk.module.name, since))) {
            d = undefined;
            stats.redecided++;
          }
          d ??= await decideRound(tx, chunk.module, round, chunk.receivedAt);
          carry = d.carry;
          handedOn = true;
          locked();
          const results = await writeRound(tx, chunk.module, d);
          const { rows } = await tx.query<{ id: string }>('SELECT COALESCE(max(id), 0)::text AS id FROM ref_changes');
          return { results, lastChange: rows[0]?.id ?? '0' };
        }),
      );
      // A failure surfaces where the chunk is settled (or where the next chunk waits for its lock, which then fails with
      // it: no decision is made from a chunk that never held the lock); until then it must not count as unhandled.
      done.catch((err: unknown) => notLocked(err));
      // The next chunk needs this one's carry: known once it is decided (or the chunk failed).
      await lockedPromise.catch(() => undefined);
      writing = { chunk, locked: lockedPromise, done };
    }
    await settle();
  } finally {
    // On a failure, the chunk in flight is left to finish or fail on its own; nothing of it is reported: the failure
    // that brought us here is the one thrown, and the chunk's own failure, if any, is the same or a consequence of it.
    if (writing) await writing.done.catch(() => undefined);
  }
  return stats;
}

function sharesSource(round: readonly Prepared[], carry: RoundCarry): boolean {
  return round.some((p) => carry.sources.has(sourceKey(p.row.sourceSystem, p.row.sourceId)));
}

/** Whether a golden record of the referential changed after change-feed row `since` (another writer's commit). */
async function changedSince(tx: Queryable, referential: string, since: string): Promise<boolean> {
  const { rows } = await tx.query('SELECT 1 FROM ref_changes WHERE id > $1 AND referential = $2 LIMIT 1', [since, referential]);
  return rows.length > 0;
}
