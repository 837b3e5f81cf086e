// The demo world's seeding over a contracts/ folder that holds a convention the demo cannot sign (an integrator's,
// for parties it has no key for): that one is skipped and reported by file, the demo's own are activated, nothing
// stops; and a second seeding over the same database changes nothing.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoWorld } from '../adapters/demo/world.ts';
import { loadConfig } from '../src/config.ts';
import { listConventions } from '../src/conventions/store.ts';
import { startHub, type Hub } from '../src/runtime.ts';
import { freshDataDir } from './helpers/db.ts';
import { captureLogger } from './helpers/hub.ts';

const repoContracts = fileURLToPath(new URL('../contracts/', import.meta.url));

describe('demo seeding with a convention of unknown parties on disk', () => {
  let hub: Hub;
  let dataDir = '';
  let contractsDir = '';
  const { logger, lines } = captureLogger('warn');
  let foreign = '';

  beforeAll(async () => {
    dataDir = freshDataDir();
    contractsDir = join(mkdtempSync(join(tmpdir(), 'tabadol-contracts-')), 'contracts');
    cpSync(repoContracts, contractsDir, { recursive: true });
    // What an integrator following docs/onboarding.md writes: a convention between parties the demo does not hold.
    const folder = join(contractsDir, 'MA.GOV.METLE.qualification-btp', 'classification', 'conventions');
    mkdirSync(folder, { recursive: true });
    foreign = join(folder, 'MA.GOV.MHPV.marches-habitat.yaml');
    writeFileSync(foreign, 'id: habitat-btp\nversion: 1\nprovider: MA/GOV/METLE/qualification-btp\nservice: classification\nconsumer: MA/GOV/MHPV/marches-habitat\ntitle: x\n');
    hub = await startHub(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO: 'off' }), { logger, http: false, workers: false, plugins: [] });
  }, 60_000);

  afterAll(async () => {
    await hub?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(join(contractsDir, '..'), { recursive: true, force: true });
  });

  it('skips and names the foreign convention, activates the demo ones, and seeds again without change', async () => {
    const context = { config: hub.config, db: hub.db, services: hub.services, logger };
    const first = await seedDemoWorld(context, { contractsDir });
    expect(first.skipped).toEqual([foreign]);
    const warning = lines.map((l) => JSON.parse(l) as { msg: string; file?: string; parties?: string[] }).find((l) => l.file === foreign);
    expect(warning?.msg).toMatch(/skipped/);
    expect(warning?.parties).toEqual(['MA/GOV/MHPV/marches-habitat']);
    const active = (await listConventions(hub.db, { status: 'active' })).map((c) => c.id).sort();
    expect(active).toContain('MA.GOV.METLE.qualification-btp.classification--MA.GOV.MEF.marches-publics');
    expect(active).not.toContain('habitat-btp');

    const second = await seedDemoWorld(context, { contractsDir });
    expect(second.skipped).toEqual([foreign]);
    expect((await listConventions(hub.db, { status: 'active' })).map((c) => c.id).sort()).toEqual(active);
  }, 120_000);
});
