// Issue 14's "done means": from a fresh `npm start` (serve on an empty DATA_DIR, embedded PGlite), the BTP platform and
// the regional office dr-01 sync both ways. An edit in the BTP simulator (its integration API) reaches the golden record
// and then the office's inbox as a change file; a correction dropped in the office's outbox reaches the golden record
// and then the BTP simulator, which shows it in its integration API.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoCorrectedAddress, demoOfficeCompany } from '../adapters/regional-office/demo.ts';
import type { ChangeLine, OfficeStore } from '../adapters/regional-office/simulator.ts';
import { startServe, type RunningHub } from './helpers/process.ts';
import { waitFor } from './helpers/wait.ts';

/** The change lines of every change file the hub wrote in a folder (`<subscription>-NNNNNN.ndjson`, each with its `.jws`). */
function changeLines(folder: string): ChangeLine[] {
  if (!existsSync(folder)) return [];
  const files = readdirSync(folder).filter((n) => /^sub-[a-z0-9]+-\d{6}\.ndjson$/.test(n)).sort();
  for (const name of files) expect(existsSync(join(folder, `${name}.jws`)), `${name} has its signature beside it`).toBe(true);
  return files.flatMap((name) => readFileSync(join(folder, name), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as ChangeLine));
}

describe('the demo: a change travels between the BTP platform and the regional office', () => {
  const parent = mkdtempSync(join(tmpdir(), 'tabadol-sync-demo-'));
  const dataDir = join(parent, 'data');
  const office = join(dataDir, 'demo', 'regional-office-dr-01');
  let hub: RunningHub | undefined;
  afterAll(async () => {
    await hub?.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  it('a BTP edit reaches the office inbox; an office correction reaches the BTP platform', async () => {
    hub = await startServe({ DATA_DIR: dataDir, DEMO: 'auto' }, 180_000); // the seed's seven systems start with the demo
    const banner = hub.stderr();
    expect(banner, banner).not.toMatch(/NOT synced/);
    expect(banner).toMatch(/demo office +regional office dr-01 \(region 01\)/);
    const simulatorUrl = /BTP simulator at (http:\/\/\S+?);/.exec(banner)?.[1];
    expect(simulatorUrl, banner).toBeDefined();
    const token = readFileSync(join(dataDir, 'demo', 'btp-integration-token'), 'utf8').trim();
    const auth = { authorization: `Bearer ${token}` };

    // 1. The platform's staff edit the Tanger company's address (what the banner's curl does).
    const edited = 'Route de Tétouan, km 4, Tanger';
    const patch = await fetch(`${simulatorUrl}/admin/companies/${demoOfficeCompany.ice}`, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ adresse: { ligne: edited } }) });
    expect(patch.status).toBe(200);
    // BTP → (pull) golden record → (file subscription, region 01) the office's inbox.
    const inbox = join(office, 'inbox', 'companies');
    const arrived = await waitFor(
      () => changeLines(inbox).find((c) => c.record.attributes.ice === demoOfficeCompany.ice && c.record.attributes.address === edited) ?? false,
      'the BTP edit in a change file of the office inbox',
      { timeoutMs: 90_000, everyMs: 250 },
    );
    expect(arrived.type).toBe('golden.updated');
    // Minimised by the office's convention: the company's attributes it may see, no others.
    expect(Object.keys(arrived.record.attributes).every((k) => ['ice', 'if', 'rc', 'cnss', 'nameFr', 'nameAr', 'legalForm', 'status', 'address', 'commune', 'createdOn'].includes(k))).toBe(true);

    // 2. The office drops the demo's example correction into its outbox (what the banner's cp does).
    copyFileSync(join(office, 'examples', 'companies-dr-01-correction.csv'), join(office, 'outbox', 'companies-dr-01-correction.csv'));
    // Office → (drop folder, ingest) golden record (the office outranks the platform) → (push) the BTP platform.
    await waitFor(
      async () => {
        const page = (await (await fetch(`${simulatorUrl}/sync/companies?since=0&limit=1000`, { headers: auth })).json()) as { items: Array<{ ice: string; profile: { adresse: { ligne: string } } }> };
        return page.items.find((i) => i.ice === demoOfficeCompany.ice)?.profile.adresse.ligne === demoCorrectedAddress;
      },
      "the office's correction in the BTP platform",
      { timeoutMs: 90_000, everyMs: 250 },
    );
    expect(readdirSync(join(office, 'outbox', 'done'))).toContain('companies-dr-01-correction.csv');
    expect(existsSync(join(office, 'outbox', 'quarantine'))).toBe(false);
    // 3. The office's own copy (its simulator applies its inbox while its link is up) holds the golden record as corrected.
    await waitFor(
      () => {
        const path = join(office, 'store', 'records.json');
        const store = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as OfficeStore) : undefined;
        return Object.values(store?.entreprises ?? {}).some((r) => r.donnees.ice === demoOfficeCompany.ice && r.donnees.address === demoCorrectedAddress);
      },
      "the corrected company in the office's local copy",
      { timeoutMs: 90_000, everyMs: 250 },
    );
  }, 420_000); // The demo loads 2,100 records in the background on the same embedded database (see demo.e2e.test.ts).
});
