// A regional office's sync adapter (src/sync/adapter.ts): the hub reads the office's outbox folder (its drop folder),
// each file through readDropFile's checks (all or nothing, the office's territory, XML refused with DOCTYPE/entities),
// and feeds the records to the ingest queue `ingest.regional-offices` like any system's. After a job is taken in, the
// corrections that lost to a more trusted source are put in the referential's review queue (afterIngest, in the job's
// transaction). The other way, file subscriptions scoped to the office's territory write change files into its inbox
// (src/sync/files.ts); the office's simulator (simulator.ts) reads them.
import { join, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { defineAdapter, type InboundRecord, type QuarantineReport } from '../../src/sync/adapter.ts';
import { openConflictReviewIn, survivorshipConflicts } from '../../src/sync/conflicts.ts';
import type { Queryable } from '../../src/storage/db.ts';
import type { ModuleResolver } from '../../src/sync/ingest.ts';
import { defaultDropFileLimits, readDropContent, type DropFileReport } from './drop-folder.ts';
import { regionalOffice, regionalSourceSystem } from './office.ts';

export const regionalOfficeAdapterConfig = z.object({
  /** The office's folder (outbox/, inbox/<referential>/, store/: simulator.ts): an absolute path. */
  root: z.string().min(1).max(1024).refine((p) => resolvePath(p) === p, 'must be an absolute path'),
  /** The territory the office answers for: a region (01) or a province (01.511). */
  territory: z.string().regex(/^\d{2}(?:\.\d{3})?$/, 'a region (01) or a province (01.511)'),
});
export type RegionalOfficeAdapterConfig = z.infer<typeof regionalOfficeAdapterConfig>;

/** The office's outbox, where its corrections arrive. */
export const officeOutbox = (config: Pick<RegionalOfficeAdapterConfig, 'root'>): string => join(config.root, 'outbox');

/** A reader's report as the drop-folder runner writes it: each problem's field and the file's refusal kind in its reason. */
export function quarantineOf(report: DropFileReport): QuarantineReport {
  const problems = report.problems.map((p, i) => ({ line: p.line, reason: `${i === 0 ? `${report.refused}: ` : ''}${p.field}: ${p.reason}` }));
  if (report.omitted > 0) problems.push({ line: 0, reason: `${report.omitted} more problem(s) not listed` });
  return { quarantine: problems };
}

/**
 * Opens a review item for each record of the job whose values lost on its golden record (src/sync/conflicts.ts), as
 * applyDropFolder does: the golden id comes from sync_ingested (this job's, or an earlier job's for a version taken in
 * before); a rejected record has none. One open item per source and golden record, so a job delivered twice opens none.
 */
async function reviewConflicts(tx: Queryable, records: readonly InboundRecord[], resolve: ModuleResolver): Promise<Array<{ sourceId: string; goldenId: string; attributes: string[] }>> {
  const opened: Array<{ sourceId: string; goldenId: string; attributes: string[] }> = [];
  for (const record of records) {
    const module = resolve(record.referential);
    if (!module) continue;
    const { rows } = await tx.query<{ golden_id: string | null }>(
      `SELECT golden_id FROM sync_ingested WHERE system = $1 AND referential = $2 AND source_id = $3 AND source_version = $4`,
      [record.sourceSystem, record.referential, record.sourceId, record.sourceVersion],
    );
    const goldenId = rows[0]?.golden_id;
    if (!goldenId) continue;
    const lost = await survivorshipConflicts(tx, module, { system: record.sourceSystem, id: record.sourceId, attributes: record.attributes }, goldenId);
    if (lost.length === 0) continue;
    const { opened: isNew } = await openConflictReviewIn(tx, module.name, { system: record.sourceSystem, id: record.sourceId }, goldenId);
    if (isNew) opened.push({ sourceId: record.sourceId, goldenId, attributes: lost.map((c) => c.attribute) });
  }
  return opened;
}

export const regionalOfficeAdapter = defineAdapter<RegionalOfficeAdapterConfig>({
  id: 'regional-office',
  system: regionalSourceSystem,
  config: regionalOfficeAdapterConfig,
  async health() {
    return { ok: true };
  },
  dropFolder: {
    path: officeOutbox,
    // All or nothing, as readDropFile reads it: a quarantined file gives its report, a good one its records.
    async parse(file, config) {
      const read = await readDropContent(file.name, file.content, regionalOffice(config.territory), defaultDropFileLimits);
      if ('quarantine' in read) return quarantineOf(read.quarantine);
      return read.records.map(({ line: _line, ...record }) => record);
    },
    // Looked at every second: a file waits at most that long (an office's link is the slow part).
    every: 1000,
  },
  async afterIngest(tx, records, { resolve, logger }) {
    const opened = await reviewConflicts(tx, records, resolve);
    if (opened.length > 0) logger.info({ conflicts: opened }, 'regional office corrections lost to a more trusted source: in the review queue');
  },
});
