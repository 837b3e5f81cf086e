// Applying a regional office's outbox in one call, outside the hub's workers: each file read (drop-folder.ts), then
// either contributed whole through the referentials' bulk path and moved to `done/`, or moved to `quarantine/` with
// `<file>.report.json` beside it. The hub itself reads an office's outbox through the adapter (adapter.ts: the drop
// folder runner, the ingest queue, the review after ingest); this direct path stays for the tests of the reader and of
// survivorship on a file (test/sync-regional.test.ts), which look at each record's bulk outcome and conflicts.
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contributeBulk } from '../../src/golden/bulk.ts';
import type { BulkOutcome } from '../../src/golden/bulk-prepare.ts';
import { officeReferential as referential } from './office.ts';
import type { Db } from '../../src/storage/db.ts';
import { openConflictReview, survivorshipConflicts, type SurvivorshipConflict } from '../../src/sync/conflicts.ts';
import { defaultDropFileLimits, readDropFile, type DropFileLimits, type DropFileReport, type InboundRecord } from './drop-folder.ts';
import type { RegionalOffice } from './office.ts';

export interface AppliedFile {
  file: string;
  referential: string;
  outcomes: BulkOutcome[];
  /** Records whose values lost to a more trusted source, each with an open review item. */
  conflicts: Array<{ sourceId: string; goldenId: string; reviewId: string; conflicts: SurvivorshipConflict[] }>;
}

export interface DropFolderPass {
  applied: AppliedFile[];
  quarantined: DropFileReport[];
}

/** The files waiting in an outbox, by name: complete ones only (an office writes `.name.tmp` and renames it). */
export async function waitingFiles(outbox: string): Promise<string[]> {
  const names = await readdir(outbox).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const files: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || name.endsWith('.tmp')) continue;
    if ((await stat(join(outbox, name))).isFile()) files.push(name);
  }
  return files;
}

/** The name `name` takes in `folder` under the outbox: itself, or `name.N` if one of that name is already there. */
async function freeName(outbox: string, folder: string, name: string): Promise<string> {
  const dir = join(outbox, folder);
  await mkdir(dir, { recursive: true });
  let target = name;
  for (let n = 1; await stat(join(dir, target)).then(() => true, () => false); n++) target = `${name}.${n}`;
  return target;
}

/** Contributes a read file's records in one transaction, then opens a review item for each record whose values lost. */
async function applyRecords(db: Db, file: string, read: { referential: string; records: InboundRecord[] }): Promise<AppliedFile> {
  const module = referential(read.referential);
  if (!module) throw new Error(`${file}: no referential ${read.referential}`);
  // Source ids are unique in a file (drop-folder.ts refuses a repeat), so the bulk path makes one round: one transaction.
  const outcomes = await contributeBulk(
    db,
    module,
    read.records.map((r) => ({ line: r.line, sourceSystem: r.sourceSystem, sourceId: r.sourceId, attributes: r.attributes })),
  );
  const refused = outcomes.filter((o) => !o.ok);
  // The reader validated every record with the same module: a refusal here is a bug, not the office's fault.
  if (refused.length > 0) throw new Error(`${file}: ${refused.length} record(s) refused by the bulk path after the reader accepted them`);
  const conflicts: AppliedFile['conflicts'] = [];
  for (const [i, outcome] of outcomes.entries()) {
    if (!outcome.ok) continue;
    const record = read.records[i];
    if (!record) continue;
    const lost = await survivorshipConflicts(db, module, { system: record.sourceSystem, id: record.sourceId, attributes: record.attributes }, outcome.goldenId);
    if (lost.length === 0) continue;
    const { reviewId } = await openConflictReview(db, module.name, { system: record.sourceSystem, id: record.sourceId }, outcome.goldenId);
    conflicts.push({ sourceId: record.sourceId, goldenId: outcome.goldenId, reviewId, conflicts: lost });
  }
  return { file, referential: read.referential, outcomes, conflicts };
}

/**
 * One pass over `office`'s outbox folder: every complete file, in name order. A file is moved only once it is dealt
 * with: if applying it fails (the database away), it stays where it is and the next pass takes it again (contributing
 * a record again with the same attributes changes nothing, and an open conflict item is not opened twice).
 */
export async function applyDropFolder(db: Db, outbox: string, office: RegionalOffice, limits: DropFileLimits = defaultDropFileLimits): Promise<DropFolderPass> {
  const pass: DropFolderPass = { applied: [], quarantined: [] };
  for (const name of await waitingFiles(outbox)) {
    const read = await readDropFile(join(outbox, name), office, limits);
    if ('quarantine' in read) {
      // The report first: a file in quarantine/ always has its report beside it.
      const moved = await freeName(outbox, 'quarantine', name);
      await writeFile(join(outbox, 'quarantine', `${moved}.report.json`), `${JSON.stringify({ ...read.quarantine, file: moved }, null, 2)}\n`);
      await rename(join(outbox, name), join(outbox, 'quarantine', moved));
      pass.quarantined.push({ ...read.quarantine, file: moved });
      continue;
    }
    const applied = await applyRecords(db, name, read);
    await rename(join(outbox, name), join(outbox, 'done', await freeName(outbox, 'done', name)));
    pass.applied.push(applied);
  }
  return pass;
}
