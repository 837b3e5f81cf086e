// The ingest queue of each source system (topic `ingest.<system>`): records an adapter brought in are written to the
// outbox (PostgreSQL first, in the transaction that moves the adapter's cursor or answers its webhook), the relay moves
// them to the queue, and one worker per system takes them into the referentials through the bulk path (the decisions
// of `tabadol import`), in the outbox handler's transaction: the records, the versions taken in (sync_ingested) and
// the outbox row's delivered mark commit together, so a job delivered twice applies once.
import type { Logger } from 'pino';
import { numberChangesAfterCommit } from '../golden/changes.ts';
import { contributeRoundLocked } from '../golden/bulk.ts';
import { prepareBulk, type BulkOutcome } from '../golden/bulk-prepare.ts';
import type { ContributionDecision } from '../golden/engine-types.ts';
import { lockReferential } from '../golden/locks.ts';
import type { ReferentialModule } from '../golden/module.ts';
import type { BackgroundFailureReport } from '../observability/metrics.ts';
import { processOutbox, writeOutbox } from '../queue/outbox.ts';
import type { Queue, Worker } from '../queue/queue.ts';
import type { Db, Queryable } from '../storage/db.ts';
import type { InboundRecord } from './adapter.ts';

/** The queue topic of a system's inbound records. */
export function ingestTopic(system: string): string {
  return `ingest.${system}`;
}

export interface IngestPayload {
  adapter: string;
  records: InboundRecord[];
}

export type ModuleResolver = (referential: string) => ReferentialModule | undefined;

/** Records per outbox row: one job stays one short transaction. */
const recordsPerJob = 500;
const maxText = 256;

/** An adapter's records with a broken envelope are its bug: refused as a whole, named, before anything is queued. */
export class InboundRecordError extends Error {
  override name = 'InboundRecordError';
}

function checkEnvelope(record: InboundRecord, at: number): void {
  const fields = ['referential', 'sourceSystem', 'sourceId', 'sourceVersion'] as const;
  for (const field of fields) {
    const value = (record as unknown as Record<string, unknown>)[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > maxText) throw new InboundRecordError(`record ${at}: ${field} must be a string of 1 to ${maxText} characters`);
  }
  if (typeof record.attributes !== 'object' || record.attributes === null || Array.isArray(record.attributes)) throw new InboundRecordError(`record ${at}: attributes must be an object`);
}

/** Writes the records to the system's ingest queue (the outbox) in the caller's transaction; returns how many. */
export async function queueInbound(tx: Queryable, adapter: { id: string; system: string }, records: readonly InboundRecord[]): Promise<number> {
  records.forEach(checkEnvelope);
  for (let i = 0; i < records.length; i += recordsPerJob) {
    const payload: IngestPayload = { adapter: adapter.id, records: records.slice(i, i + recordsPerJob) };
    await writeOutbox(tx, ingestTopic(adapter.system), payload as unknown as Record<string, unknown>);
  }
  return records.length;
}

/** What one job did: the bulk path's decisions, the versions already taken in (skipped), the rejected records. */
export interface IngestSummary {
  decisions: Partial<Record<ContributionDecision, number>>;
  skipped: number;
  rejected: number;
}

const versionKey = (r: Pick<InboundRecord, 'sourceSystem' | 'sourceId' | 'sourceVersion'>): string => `${r.sourceSystem}\u0000${r.sourceId}\u0000${r.sourceVersion}`;

/**
 * Takes records into the referentials in the caller's transaction: per referential, under its exclusive lock as a bulk
 * chunk holds it, the versions not yet taken in go through the bulk path's rounds (a source id twice: its later
 * version in a later round), and every version is recorded in sync_ingested with its decision.
 */
export async function ingestIn(tx: Queryable, records: readonly InboundRecord[], resolve: ModuleResolver, receivedAt = new Date()): Promise<IngestSummary> {
  const summary: IngestSummary = { decisions: {}, skipped: 0, rejected: 0 };
  const byReferential = new Map<string, InboundRecord[]>();
  for (const r of records) byReferential.set(r.referential, [...(byReferential.get(r.referential) ?? []), r]);
  for (const [name, group] of byReferential) {
    const module = resolve(name);
    const fresh = await notYetIngested(tx, name, group);
    summary.skipped += group.length - fresh.length;
    if (fresh.length === 0) continue;
    let outcomes: BulkOutcome[];
    if (!module) {
      outcomes = fresh.map((r, i) => ({ line: i + 1, sourceSystem: r.sourceSystem, sourceId: r.sourceId, ok: false, problems: [{ location: 'referential', message: `no referential ${name} in this hub` }] }));
    } else {
      await lockReferential(tx, name, 'exclusive');
      const prepared = prepareBulk(module, fresh.map((r, i) => ({ line: i + 1, sourceSystem: r.sourceSystem, sourceId: r.sourceId, attributes: r.attributes })), receivedAt);
      for (const round of prepared.rounds) {
        for (const [at, outcome] of await contributeRoundLocked(tx, module, round, receivedAt)) prepared.outcomes[at] = outcome;
      }
      outcomes = prepared.outcomes;
    }
    const rows = fresh.map((r, i) => {
      const o = outcomes[i] as BulkOutcome;
      if (o.ok) summary.decisions[o.decision] = (summary.decisions[o.decision] ?? 0) + 1;
      else summary.rejected++;
      return { system: r.sourceSystem, source_id: r.sourceId, source_version: r.sourceVersion, decision: o.ok ? o.decision : 'rejected', golden_id: o.ok ? o.goldenId : null, problems: o.ok ? null : o.problems };
    });
    await tx.query(
      `INSERT INTO sync_ingested (system, referential, source_id, source_version, decision, golden_id, problems)
       SELECT x.system, $1, x.source_id, x.source_version, x.decision, x.golden_id, x.problems
         FROM jsonb_to_recordset($2::jsonb) AS x(system text, source_id text, source_version text, decision text, golden_id text, problems jsonb)
       ON CONFLICT DO NOTHING`,
      [name, JSON.stringify(rows)],
    );
  }
  return summary;
}

/** The group's versions not in sync_ingested, each once (a version repeated in the group counts as taken in). */
async function notYetIngested(tx: Queryable, referential: string, group: readonly InboundRecord[]): Promise<InboundRecord[]> {
  const { rows } = await tx.query<{ system: string; source_id: string; source_version: string }>(
    `SELECT i.system, i.source_id, i.source_version FROM sync_ingested i
       JOIN jsonb_to_recordset($2::jsonb) AS x(s text, id text, v text) ON i.system = x.s AND i.source_id = x.id AND i.source_version = x.v
      WHERE i.referential = $1`,
    [referential, JSON.stringify(group.map((r) => ({ s: r.sourceSystem, id: r.sourceId, v: r.sourceVersion })))],
  );
  const seen = new Set(rows.map((r) => `${r.system}\u0000${r.source_id}\u0000${r.source_version}`));
  const fresh: InboundRecord[] = [];
  for (const r of group) {
    const key = versionKey(r);
    if (seen.has(key)) continue;
    seen.add(key);
    fresh.push(r);
  }
  return fresh;
}

export interface IngestWorkerDeps {
  db: Db;
  queue: Queue;
  logger: Logger;
  resolve: ModuleResolver;
  reportBackgroundFailure: BackgroundFailureReport;
  /** The adapter's afterIngest (src/sync/adapter.ts), in the job's transaction after its records are taken in. */
  afterIngest?: (adapterId: string, tx: Queryable, records: InboundRecord[]) => Promise<void>;
}

/**
 * One worker per system (concurrency 1: a system's versions apply in the order it sent them). After a job commits, the
 * change feed is numbered at once so that subscribers see the changes without waiting for the periodic numbering.
 */
export function startIngestWorkers(deps: IngestWorkerDeps, systems: Iterable<string>): Worker[] {
  const { db, logger } = deps;
  const onOutcome = (topic: string, outcome: string) => {
    if (outcome === 'done') void numberChangesAfterCommit(db, deps.reportBackgroundFailure, { after: 'ingest', topic });
  };
  return [...new Set(systems)].map((system) =>
    processOutbox<IngestPayload>({ db, queue: deps.queue, logger, onOutcome }, ingestTopic(system), async (payload, tx, meta) => {
      const summary = await ingestIn(tx, payload.records, deps.resolve);
      await deps.afterIngest?.(payload.adapter, tx, payload.records);
      logger.info({ adapter: payload.adapter, system, outboxId: meta.outboxId, records: payload.records.length, ...summary }, 'inbound records taken in');
    }, { concurrency: 1 }),
  );
}
