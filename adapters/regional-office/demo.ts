// The demo's regional office `dr-01` (region 01, Tanger-Tétouan-Al Hoceima), synced both ways from `npm start`: its
// simulator runs in the hub's process in DATA_DIR/demo/regional-office-dr-01/; the hub reads its outbox through the
// regional office adapter (adapter.ts), and two file subscriptions scoped to region 01 write the persons' and
// companies' change files into its inbox. An example correction file is written beside the folders for a newcomer
// to drop into the outbox.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { PluginContext } from '../../src/plugins.ts';
import { configureAdapter } from '../../src/sync/inbound.ts';
import { createSubscription, listSubscriptions } from '../../src/sync/subscriptions.ts';
import { csvRecord } from '../../src/golden/csv.ts';
import { demoIces } from '../btp-qualification/data.ts';
import { regionalOfficeAdapter } from './adapter.ts';
import { regionalOffice } from './office.ts';
import { RegionalOfficeSimulator, type OfficeReferential } from './simulator.ts';

/** The office's member subsystem, party to the conventions contracts/MA.GOV.HUB.referentials/{persons,companies}/conventions/MA.GOV.MI.dr-01.yaml. */
export const demoOfficeSubsystem = 'MA/GOV/MI/dr-01';
export const demoOfficeName = 'Ministère de l\'Intérieur: direction régionale 01 (Tanger-Tétouan-Al Hoceima)';
export const demoOfficePurpose = 'regional-copy-sync';
/** The referentials it keeps a copy of in the demo (one file subscription each). */
const demoOfficeReferentials: readonly OfficeReferential[] = ['persons', 'companies'];

/** The BTP platform's company in Tanger (adapters/btp-qualification/data.ts demoIces.suspended): in region 01. */
export const demoOfficeCompany = { ice: demoIces.suspended, nameFr: 'Entreprise Tanger Hydraulique SARL', commune: '01.511.01.0' };
/** The address the example correction gives it. */
export const demoCorrectedAddress = 'Zone industrielle Gzenaya, lot 118, Tanger';

export const demoOfficeFolder = (demoDir: string): string => resolve(demoDir, 'regional-office-dr-01');
/** Not in the outbox: the newcomer copies it there (its name says its referential, as the office's files do). */
export const exampleCorrectionPath = (root: string): string => join(root, 'examples', 'companies-dr-01-correction.csv');

export interface DemoOffice {
  root: string;
  banner: string[];
  stop(): Promise<void>;
}

/** The example file: the Tanger company's address corrected at the office's counter (office version 1 of its record). */
function exampleCorrection(): string {
  const header = ['sourceId', 'sourceVersion', 'ice', 'nameFr', 'address', 'commune'];
  const row = ['E-000001', '1', demoOfficeCompany.ice, demoOfficeCompany.nameFr, demoCorrectedAddress, demoOfficeCompany.commune];
  return `${csvRecord(header)}\r\n${csvRecord(row)}\r\n`;
}

/** The office's file subscriptions, created once (a later start finds them active and keeps their cursors). */
async function ensureSubscriptions(context: PluginContext, root: string, actor: string): Promise<string[]> {
  const existing = await listSubscriptions(context.db, { subscriber: demoOfficeSubsystem, state: 'active' });
  const ids: string[] = [];
  for (const referential of demoOfficeReferentials) {
    const target = join(root, 'inbox', referential);
    const found = existing.find((s) => s.referential === referential && s.mode === 'file' && s.target === target);
    if (found) {
      ids.push(found.id);
      continue;
    }
    const created = await createSubscription(
      { db: context.db, findConvention: (c, p, s) => context.services.conventions.find(c, p, s), referentials: context.services.referentials.names() },
      { subscriber: demoOfficeSubsystem, referential, purpose: demoOfficePurpose, mode: 'file', target, scope: '01', from: 'start', batchSize: 200, actor },
    );
    ids.push(created.id);
  }
  return ids;
}

/**
 * Starts the office: its folders and example file, its simulator ticking every second (online 6 s in every 10: an
 * intermittent link, short enough to watch), the adapter configured on its folder, its file subscriptions.
 */
export async function startDemoOffice(context: PluginContext, demoDir: string, actor: string): Promise<DemoOffice> {
  const office = regionalOffice('01');
  const root = demoOfficeFolder(demoDir);
  const simulator = await new RegionalOfficeSimulator(office, root, { periodMs: 10_000, onlineMs: 6_000 }).init();
  const example = exampleCorrectionPath(root);
  await mkdir(join(root, 'examples'), { recursive: true });
  await writeFile(example, exampleCorrection());
  await configureAdapter(context.db, regionalOfficeAdapter, { root, territory: office.territory });
  const subscriptions = await ensureSubscriptions(context, root, actor);

  let stopping = false;
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      if (stopping) return;
      try {
        const tick = await simulator.tick();
        for (const a of tick.applied) context.logger.info({ office: office.id, referential: a.referential, file: a.file, changes: a.changes }, 'regional office applied a change file');
      } catch (err) {
        // The office keeps working: a file it could not read is tried again at its next tick.
        context.logger.warn({ office: office.id, err: { message: (err as Error).message } }, 'regional office tick failed');
      }
    });
  }, 1000);
  timer.unref();

  const companiesInbox = join(root, 'inbox', 'companies');
  return {
    root,
    banner: [
      `regional office ${office.id} (region 01) in ${root}; change files for region 01 written to its inbox (${subscriptions.join(', ')})`,
      `                 BTP → office: the curl above with the Tanger company ${demoOfficeCompany.ice} → golden record → ${companiesInbox}/<subscription>-NNNNNN.ndjson`,
      `                 office → BTP: cp ${example} ${join(root, 'outbox')}/ → golden record → pushed to the BTP platform`,
    ],
    async stop() {
      stopping = true;
      clearInterval(timer);
      await running;
    },
  };
}
