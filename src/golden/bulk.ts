// Bulk contributions: a chunk of source records (an import file, a batch) contributed in one transaction with
// set-based statements, so that ingest runs at thousands of records a second. The outcome is the one contributing the
// rows one by one in order would give: natural keys first (in the database, then among the chunk's earlier rows),
// then blocking-key candidates scored by the module (from the database and from the chunk's earlier rows), then a new
// golden record, with a review item when candidates came close. Rows whose source record already exists with other
// attributes take the single-row path (rematching, recomputation) inside the same transaction.
//
// Concurrency: the chunk holds the referential's lock exclusively (single contributions and steward decisions take it
// shared), so nothing else changes the referential's golden records while the chunk decides against them.
//
// In three steps, each its own module: prepare (bulk-prepare.ts), decide (bulk-decide.ts), write (bulk-write.ts); this
// module runs them, one transaction per round. bulk-pipeline.ts overlaps them across chunks for the importer.
import type { Db, Queryable } from '../storage/db.ts';
import { numberChangesAfterCommit } from './changes.ts';
import type { BackgroundFailureReport } from '../observability/metrics.ts';
import { lockReferential, withRetry } from './engine.ts';
import type { ReferentialModule } from './module.ts';
import { prepareBulk, type BulkOutcome, type BulkRow, type Prepared, type PreparedBulk } from './bulk-prepare.ts';
import { decideRound } from './bulk-decide.ts';
import { writeRound } from './bulk-write.ts';

export interface BulkOptions {
  receivedAt?: Date;
  /** Number the change feed after commit (default true); a periodic assignChangePositions does it otherwise. */
  assignPositions?: boolean;
  /** Where a failed numbering after commit is reported (see numberChangesAfterCommit). */
  reportFailure?: BackgroundFailureReport;
}

/**
 * Contributes rows in order; one transaction per round. Invalid rows are reported, never written; the others all
 * commit or none does.
 */
export async function contributeBulk(db: Db, module: ReferentialModule, rows: readonly BulkRow[], options: BulkOptions = {}): Promise<BulkOutcome[]> {
  return contributePrepared(db, prepareBulk(module, rows, options.receivedAt), options);
}

export async function contributePrepared(db: Db, prepared: PreparedBulk, options: Pick<BulkOptions, 'assignPositions' | 'reportFailure'> = {}): Promise<BulkOutcome[]> {
  const { module, receivedAt, outcomes } = prepared;
  let changed = false;
  for (const round of prepared.rounds) {
    const results = await withRetry(() => db.transaction((tx) => contributeBulkIn(tx, module, round, receivedAt)));
    for (const [at, outcome] of results) {
      outcomes[at] = outcome;
      if (outcome.ok && outcome.decision !== 'unchanged') changed = true;
    }
  }
  if (changed && options.assignPositions !== false) await numberChangesAfterCommit(db, options.reportFailure, { after: 'bulk contribution', referential: module.name, rows: outcomes.length });
  return outcomes;
}

/** One round in the caller's transaction, the referential's lock being held exclusively by the caller already. */
export async function contributeRoundLocked(tx: Queryable, module: ReferentialModule, items: readonly Prepared[], receivedAt: Date): Promise<Map<number, BulkOutcome>> {
  return contributeBulkIn(tx, module, items, receivedAt, true);
}

/** One round (each source id once) inside the caller's transaction; outcomes by the rows' positions. */
async function contributeBulkIn(tx: Queryable, module: ReferentialModule, items: readonly Prepared[], receivedAt: Date, locked = false): Promise<Map<number, BulkOutcome>> {
  if (!locked) await lockReferential(tx, module.name, 'exclusive');
  return writeRound(tx, module, await decideRound(tx, module, items, receivedAt));
}
