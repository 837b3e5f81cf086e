// The demo world that `npm start` loads on an empty embedded database: five member subsystems with keys under
// DATA_DIR/demo/, the BTP qualification simulator bound as the METLE service, and signed, active conventions; the BTP
// platform and the regional office dr-01 (adapters/regional-office/demo.ts) synced both ways.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { activateConvention, listConventions } from '../../src/conventions/store.ts';
import { memberKeyResolver } from '../../src/identity/key-resolvers.ts';
import { signConvention } from '../../src/conventions/signing.ts';
import { bindService } from '../../src/exchange/bindings.ts';
import { hubSubsystems } from '../../src/hub/bootstrap.ts';
import { toFolderName } from '../../src/identity/ids.ts';
import { getMember, registerMember } from '../../src/identity/members.ts';
import type { Logger } from '../../src/observability/logger.ts';
import type { HubPlugin, PluginContext } from '../../src/plugins.ts';
import { demoIces } from '../btp-qualification/data.ts';
import { recordSimulator } from './simulator-record.ts';
import { startBtpSimulator } from '../btp-qualification/simulator.ts';
import { btpAdapter, btpSubscriptionInput, btpSubsystem } from '../btp-qualification/adapter.ts';
import { configureAdapter } from '../../src/sync/inbound.ts';
import { createSubscription, listSubscriptions, setSubscriptionState } from '../../src/sync/subscriptions.ts';
import { randomBytes } from 'node:crypto';
import { entities } from '../../referentials/generator/generate.ts';
import { contributeBulk } from '../../src/golden/bulk.ts';
import type { BulkRow } from '../../src/golden/bulk-prepare.ts';
import type { ReferentialModule } from '../../src/golden/module.ts';
import { demoOfficeName, demoOfficeSubsystem, startDemoOffice, type DemoOffice } from '../regional-office/demo.ts';
import { demoSystems, type DemoSystem, type RunningDemoSystem } from './systems.ts';
import { startActivity } from './activity.ts';

export const demoSubsystems = [
  { id: 'MA/GOV/METLE/qualification-btp', name: "Ministère de l'Équipement et de l'Eau (METLE): qualification et classification des entreprises BTP" },
  { id: 'MA/GOV/MEF/marches-publics', name: 'Trésorerie Générale du Royaume: portail des marchés publics' },
  { id: 'MA/GOV/MI/collectivites-territoriales', name: "Ministère de l'Intérieur (DGCT): marchés des collectivités territoriales" },
  { id: 'MA/GOV/ADD/portail-citoyen', name: 'Agence de Développement du Digital: portail citoyen' },
  { id: demoOfficeSubsystem, name: demoOfficeName },
  { id: 'MA/GOV/METLE/pilotage', name: "Ministère de l'Équipement et de l'Eau (METLE): pilotage des e-services (tableau de bord)" },
  { id: 'MA/GOV/HCP/nomenclature', name: 'Haut-Commissariat au Plan (HCP): nomenclature des unités territoriales' },
  ...demoSystems.flatMap((system) => system.subsystems),
] as const;

export const btpServiceId = 'MA/GOV/METLE/qualification-btp/classification';
const actor = 'demo-loader';
const repoContractsDir = fileURLToPath(new URL('../../contracts/', import.meta.url));

export function demoDir(dataDir: string): string {
  return join(dataDir, 'demo');
}

export function demoKeyPath(dataDir: string, subsystem: string): string {
  return join(demoDir(dataDir), toFolderName(subsystem), 'private.jwk');
}

async function generateKeys(dir: string): Promise<{ privateJwk: JWK; publicJwks: { keys: JWK[] } }> {
  // A seeding interrupted after this point left the keys its members were registered with: keep them.
  const privatePath = join(dir, 'private.jwk');
  const publicPath = join(dir, 'public.jwks');
  if (existsSync(privatePath) && existsSync(publicPath)) {
    return { privateJwk: JSON.parse(readFileSync(privatePath, 'utf8')) as JWK, publicJwks: JSON.parse(readFileSync(publicPath, 'utf8')) as { keys: JWK[] } };
  }
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = `demo-${(await calculateJwkThumbprint(publicJwk)).slice(0, 12)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  const publicJwks = { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] };
  mkdirSync(dir, { recursive: true });
  writeFileSync(privatePath, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(publicPath, `${JSON.stringify(publicJwks, null, 2)}\n`);
  return { privateJwk, publicJwks };
}

function conventionFiles(root: string): string[] {
  const found: string[] = [];
  for (const provider of readdirSync(root)) {
    for (const service of readdirSync(join(root, provider))) {
      const dir = join(root, provider, service, 'conventions');
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir)) if (file.endsWith('.yaml')) found.push(join(dir, file));
    }
  }
  return found.sort();
}

/**
 * Creates the demo world once: keys, members, signed and activated conventions. Safe to run again over an interrupted
 * seeding (keys kept, members and active conventions left as they are). A convention on disk whose parties the demo
 * has no key for (one an integrator wrote under contracts/) is skipped with a warning naming its file: it is the
 * integrator's to sign, and it must not stop the hub.
 */
export async function seedDemoWorld(
  context: Pick<PluginContext, 'config' | 'db' | 'services'> & { logger?: Logger },
  options: { contractsDir?: string } = {},
): Promise<{ skipped: string[] }> {
  const { config, db, services } = context;
  // The repository's contracts/ unless a test gives another copy (with a convention of unknown parties, say).
  const contractsDir = options.contractsDir ?? repoContractsDir;
  const root = demoDir(config.DATA_DIR);
  const keys = new Map<string, JWK>();
  for (const subsystem of demoSubsystems) {
    const { privateJwk, publicJwks } = await generateKeys(join(root, toFolderName(subsystem.id)));
    const registered = await getMember(db, subsystem.id);
    if (!registered) await registerMember(db, { id: subsystem.id, name: subsystem.name, jwks: publicJwks, actor });
    else if (!registered.keys.some((k) => k.kid === privateJwk.kid && k.status === 'active')) {
      // Registered by someone else, with other keys: the demo cannot sign for it.
      context.logger?.warn({ subsystem: subsystem.id }, 'demo world: this subsystem is registered with keys the demo does not hold; its conventions are skipped');
      continue;
    }
    keys.set(subsystem.id, privateJwk);
  }
  // The hub's own transparency subsystem signs its conventions as provider with the hub's key.
  const hubJwk = { ...(services.keyring.currentPrivateKey().export({ format: 'jwk' }) as JWK), kid: services.keyring.current.kid, alg: 'ES256' };
  keys.set(hubSubsystems(config.HUB_ID).transparency, hubJwk);
  keys.set(hubSubsystems(config.HUB_ID).referentials, hubJwk);

  // Signed copies live in DATA_DIR: the repository's contracts/ stay as committed.
  const contracts = join(root, 'contracts');
  cpSync(contractsDir, contracts, { recursive: true });
  const active = new Set((await listConventions(db, { status: 'active' })).map((c) => `${c.id}@${c.version}`));
  const skipped: string[] = [];
  for (const yamlPath of conventionFiles(contracts)) {
    const doc = parseYaml(readFileSync(yamlPath, 'utf8')) as { id?: string; version?: number; provider?: string; consumer?: string };
    const unknown = [doc.provider, doc.consumer].filter((party) => !party || !keys.has(party));
    const source = join(contractsDir, relative(contracts, yamlPath));
    if (unknown.length > 0) {
      skipped.push(source);
      context.logger?.warn({ file: source, parties: unknown }, 'demo world: a convention for parties the demo has no key for is skipped (sign and activate it with the tabadol command)');
      continue;
    }
    if (active.has(`${doc.id}@${doc.version}`)) continue;
    for (const [signer, role] of [
      [doc.provider as string, 'provider'],
      [doc.consumer as string, 'consumer'],
    ] as const) {
      await signConvention(yamlPath, { signer, privateJwk: keys.get(signer) as JWK, role, hubId: config.HUB_ID, restart: true });
    }
    await activateConvention(db, yamlPath, { keyring: services.keyring, resolveKey: memberKeyResolver(db), actor });
  }
  writeFileSync(join(root, 'world.json'), `${JSON.stringify({ createdAt: new Date().toISOString(), subsystems: demoSubsystems.map((s) => s.id), demoIces }, null, 2)}\n`);
  return { skipped };
}

const demoRecordCounts = { seed: 2026, dupRate: 0.1, persons: 1500, companies: 300, vehicles: 300 };

/** Entities, and the contributions that carry them (each entity once, plus its duplicates held by other e-services). */
export function demoRecordTotals(): { entities: number; contributions: number } {
  let entityCount = 0;
  let contributions = 0;
  for (const [, entity] of entities(demoRecordCounts)) {
    entityCount++;
    contributions += entity.records.length;
  }
  return { entities: entityCount, contributions };
}

/**
 * Contributes generated persons, companies and vehicles (with their cross-source duplicates) through the golden-record
 * engine, in the background, so that a newcomer can resolve and search at once. Contributions are idempotent: a
 * restart before the end simply goes on.
 */
function loadDemoRecords(context: PluginContext): { pending: boolean; entities: number; contributions: number; done: Promise<void>; stop(): void } {
  const marker = join(demoDir(context.config.DATA_DIR), 'records.json');
  const { entities: total, contributions } = demoRecordTotals();
  if (existsSync(marker)) return { pending: false, entities: total, contributions, done: Promise.resolve(), stop: () => undefined };
  let stopped = false;
  const done = (async () => {
    const started = Date.now();
    const decisions: Record<string, number> = {};
    // Chunks of 100 through the bulk path: one short transaction each, so that exchanges waiting for the embedded
    // database's single connection go in between (the demo load is background work).
    let chunk: { module: ReferentialModule; rows: BulkRow[] } | undefined;
    const flush = async () => {
      if (!chunk || chunk.rows.length === 0) return;
      for (const outcome of await contributeBulk(context.db, chunk.module, chunk.rows, { reportFailure: context.reportBackgroundFailure })) {
        const decision = outcome.ok ? outcome.decision : 'rejected';
        decisions[decision] = (decisions[decision] ?? 0) + 1;
      }
      chunk = undefined;
      await new Promise((resolve) => setTimeout(resolve, 5));
    };
    for (const [name, entity] of entities(demoRecordCounts)) {
      const module = context.services.referentials.module(name);
      if (!module) continue; // a referential this hub was not given
      if (stopped) return;
      if (chunk && (chunk.module !== module || chunk.rows.length >= 100)) await flush();
      chunk ??= { module, rows: [] };
      for (const record of entity.records) chunk.rows.push({ line: chunk.rows.length + 1, ...record });
    }
    await flush();
    writeFileSync(marker, `${JSON.stringify({ loadedAt: new Date().toISOString(), ...demoRecordCounts, decisions }, null, 2)}\n`);
    // `created` counts golden records: one per entity, plus the duplicates the engine could not tie to their entity
    // with enough confidence (kept apart, never merged by guess); `linked-*` are the duplicates it did tie.
    context.logger.info(
      { entities: total, contributions, decisions, seconds: Math.round((Date.now() - started) / 1000) },
      `demo records loaded into the referentials: ${total} generated entities sent as ${contributions} contributions; decisions.created counts the golden records made`,
    );
  })().catch((err: unknown) => {
    context.logger.warn({ err: { message: (err as Error).message } }, 'demo records not fully loaded (they resume at the next start)');
  });
  return { pending: true, entities: total, contributions, done, stop: () => (stopped = true) };
}

function halfSeeded(dataDir: string): boolean {
  return !existsSync(join(demoDir(dataDir), 'world.json')) && demoSubsystems.some((s) => existsSync(demoKeyPath(dataDir, s.id)));
}

async function shouldLoad(context: PluginContext): Promise<boolean> {
  const { config, db } = context;
  if (config.DEMO === 'off') return false;
  if (existsSync(join(demoDir(config.DATA_DIR), 'world.json'))) return true;
  // Keys but no world.json: a seeding that stopped half-way (its conventions count as existing ones); finish it.
  if (halfSeeded(config.DATA_DIR)) return true;
  // auto: only on an embedded database that has no conventions yet (never into a production PostgreSQL by surprise).
  if (config.DEMO === 'auto' && config.DATABASE_URL) return false;
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM conventions');
  return (rows[0]?.n ?? 0) === 0;
}

/**
 * The BTP platform synced both ways: its adapter pulls from this start's simulator (the adapter's configuration, in the
 * database, so worker processes pull too), and a push subscription under the demo convention hub-companies-metle-btp
 * sends golden company changes to the simulator. The simulator's address changes at each start: a subscription to an
 * earlier address is ended and a new one follows the feed from now (the restarted simulator holds its seed data anew).
 */
async function syncBtpBothWays(context: PluginContext, simulatorUrl: string, token: string): Promise<string> {
  try {
    await configureAdapter(context.db, btpAdapter, { baseUrl: simulatorUrl, token });
    const input = btpSubscriptionInput(simulatorUrl);
    let current: string | undefined;
    for (const s of await listSubscriptions(context.db, { subscriber: btpSubsystem, state: 'active' })) {
      if (s.referential !== 'companies' || s.mode !== 'push') continue;
      if (s.target === input.target) current = s.id;
      else await setSubscriptionState(context.db, s.id, 'ended', actor);
    }
    current ??= (await createSubscription(
      { db: context.db, findConvention: (c, p, s) => context.services.conventions.find(c, p, s), referentials: context.services.referentials.names() },
      { ...input, actor },
    )).id;
    // The token stays out of the banner and the logs: a file only this user reads.
    const tokenFile = join(demoDir(context.config.DATA_DIR), 'btp-integration-token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    recordSimulator(demoDir(context.config.DATA_DIR), 'btp-qualification', { url: simulatorUrl, tokenFile });
    return [
      `BTP companies pulled into the companies referential; golden company changes pushed back (subscription ${current});`,
      `                 edit a company in the BTP platform and see it reach the golden record: curl -X PATCH -H "authorization: Bearer $(cat ${tokenFile})"`,
      `                 -H 'content-type: application/json' -d '{"raisonSociale":"Nouvelle Raison SARL"}' ${simulatorUrl}/admin/companies/${demoIces.qualified}`,
    ].join('\n');
  } catch (err) {
    // The demo serves without the sync rather than not at all; said in the banner.
    context.logger.warn({ err: { message: (err as Error).message } }, 'demo world: the BTP platform is not synced');
    return `BTP platform NOT synced: ${(err as Error).message}`;
  }
}

/** The regional office dr-01 synced both ways (adapters/regional-office/demo.ts); the demo serves without it rather than not at all. */
async function startOfficeOrSay(context: PluginContext): Promise<DemoOffice | { failed: string }> {
  try {
    return await startDemoOffice(context, demoDir(context.config.DATA_DIR), actor);
  } catch (err) {
    context.logger.warn({ err: { message: (err as Error).message } }, 'demo world: the regional office is not synced');
    return { failed: `regional office NOT synced: ${(err as Error).message}` };
  }
}

/** One of the seed's systems (adapters/demo/systems.ts); the demo serves without it rather than not at all. */
async function startSystemOrSay(context: PluginContext, system: DemoSystem): Promise<RunningDemoSystem> {
  const started = Date.now();
  try {
    const running = await system.start({ context, demoDir: demoDir(context.config.DATA_DIR), actor, activity: context.config.DEMO_ACTIVITY === 'on' });
    context.logger.info({ system: system.name, ms: Date.now() - started }, 'demo world: system started');
    return running;
  } catch (err) {
    context.logger.warn({ system: system.name, err: { message: (err as Error).message } }, 'demo world: a system is not synced');
    return { banner: [`${system.name} NOT synced: ${(err as Error).message}`], stop: async () => undefined };
  }
}

export const demoWorldPlugin: HubPlugin = {
  name: 'demo-world',
  async start(context) {
    if (!(await shouldLoad(context))) return undefined;
    const resumed = halfSeeded(context.config.DATA_DIR);
    if (resumed) context.logger.warn({ dir: demoDir(context.config.DATA_DIR) }, 'demo world: an earlier start stopped while seeding it; finishing it now');
    let skipped: string[] = [];
    if (!existsSync(join(demoDir(context.config.DATA_DIR), 'world.json'))) {
      try {
        const seeding = Date.now();
        ({ skipped } = await seedDemoWorld(context));
        context.logger.info({ ms: Date.now() - seeding }, 'demo world: seeded (keys, members, signed conventions)');
      } catch (err) {
        // The hub serves without the demo rather than not at all; the next start tries again.
        context.logger.error({ err: { message: (err as Error).message } }, 'demo world: could not be seeded; the hub runs without it, and the next start finishes it');
        return { banner: `demo world     NOT loaded: ${(err as Error).message} (the next start tries again)`, stop: async () => undefined };
      }
    }
    // The simulator runs with the hub and checks that every call came through it (the hub's forward signature); its
    // integration API (a token of this start) is what the hub's sync adapter pulls from and pushes to.
    const integrationToken = randomBytes(24).toString('hex');
    const simulator = await startBtpSimulator({ requireHubSignature: true, hubJwksUrl: `${context.hubUrl}/.well-known/jwks.json`, hubId: context.config.HUB_ID, integrationToken });
    await bindService(context.db, { serviceId: btpServiceId, binding: { kind: 'http', baseUrl: simulator.url, timeoutMs: 5000 }, actor });
    // This process serves at once what it just activated and bound, without waiting for its next registry poll; the
    // subscriptions below are checked against these conventions (before the reload, a fresh start found none).
    await Promise.all([context.services.directory.reload(), context.services.conventions.reload()]);
    const btpSync = await syncBtpBothWays(context, simulator.url, integrationToken);
    // The platform's staff at work: a dossier moves on, a request is filed or dealt with (its dashboard's counts move).
    const btpWork = startActivity({ name: 'btp-qualification', everyMs: 6000, enabled: context.config.DEMO_ACTIVITY === 'on', logger: context.logger, step: async () => void simulator.workflow.step() });
    const office = await startOfficeOrSay(context);
    const systems: { system: DemoSystem; running: RunningDemoSystem }[] = [];
    for (const system of demoSystems) systems.push({ system, running: await startSystemOrSay(context, system) });
    const records = loadDemoRecords(context);
    return {
      banner: [
        `demo world     keys in ${demoDir(context.config.DATA_DIR)}; BTP simulator at ${simulator.url}; try: npm run demo:call`,
        `  demo sync      ${btpSync}`,
        `  demo office    ${'banner' in office ? office.banner.join('\n') : office.failed}`,
        ...systems.map(({ system, running }) => `  demo ${system.name.padEnd(9)} ${running.banner.join('\n                 ')}`),
        ...skipped.map((file) => `  demo skipped   ${file}: not a demo party's convention (sign and activate it with tabadol convention ...)`),
        ...(records.pending
          ? [
              `  demo records   ${records.entities} generated persons, companies and vehicles loading into the referentials in the background`,
              `                 (${records.contributions} contributions: ${records.contributions - records.entities} are the same entity as another e-service holds it)`,
            ]
          : []),
      ].join('\n'),
      async stop() {
        records.stop();
        await records.done;
        for (const { running } of systems.reverse()) await running.stop();
        if ('stop' in office) await office.stop();
        await btpWork.stop();
        await simulator.close();
      },
    };
  },
};
