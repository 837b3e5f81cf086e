// The demo world that `npm start` loads on an empty embedded database: four member subsystems with keys under
// DATA_DIR/demo/, the BTP qualification simulator bound as the METLE service, and signed, active conventions.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { activateConvention, memberKeyResolver } from '../../src/conventions/store.ts';
import { signConvention } from '../../src/conventions/signing.ts';
import { bindService } from '../../src/exchange/bindings.ts';
import { hubSubsystems } from '../../src/hub/bootstrap.ts';
import { toFolderName } from '../../src/identity/ids.ts';
import { getMember, registerMember } from '../../src/identity/members.ts';
import type { HubPlugin, PluginContext } from '../../src/plugins.ts';
import { demoIces } from '../btp-qualification/data.ts';
import { startBtpSimulator } from '../btp-qualification/simulator.ts';
import { entities } from '../../referentials/generator/generate.ts';
import { contributeBulk, type BulkRow } from '../../src/referentials/bulk.ts';
import { referential, type ReferentialModule } from '../../src/referentials/module.ts';

export const demoSubsystems = [
  { id: 'MA/GOV/METLE/qualification-btp', name: "Ministère de l'Équipement et de l'Eau (METLE): qualification et classification des entreprises BTP" },
  { id: 'MA/GOV/MEF/marches-publics', name: 'Trésorerie Générale du Royaume: portail des marchés publics' },
  { id: 'MA/GOV/MI/collectivites-territoriales', name: "Ministère de l'Intérieur (DGCT): marchés des collectivités territoriales" },
  { id: 'MA/GOV/ADD/portail-citoyen', name: 'Agence de Développement du Digital: portail citoyen' },
] as const;

export const btpServiceId = 'MA/GOV/METLE/qualification-btp/classification';
const actor = 'demo-loader';
const contractsDir = fileURLToPath(new URL('../../contracts/', import.meta.url));

export function demoDir(dataDir: string): string {
  return join(dataDir, 'demo');
}

export function demoKeyPath(dataDir: string, subsystem: string): string {
  return join(demoDir(dataDir), toFolderName(subsystem), 'private.jwk');
}

async function generateKeys(dir: string): Promise<{ privateJwk: JWK; publicJwks: { keys: JWK[] } }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = `demo-${(await calculateJwkThumbprint(publicJwk)).slice(0, 12)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  const publicJwks = { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'private.jwk'), `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'public.jwks'), `${JSON.stringify(publicJwks, null, 2)}\n`);
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

/** Creates the demo world once: keys, members, signed and activated conventions. */
export async function seedDemoWorld(context: Pick<PluginContext, 'config' | 'db' | 'services'>): Promise<void> {
  const { config, db, services } = context;
  const root = demoDir(config.DATA_DIR);
  const keys = new Map<string, JWK>();
  for (const subsystem of demoSubsystems) {
    const { privateJwk, publicJwks } = await generateKeys(join(root, toFolderName(subsystem.id)));
    keys.set(subsystem.id, privateJwk);
    if (!(await getMember(db, subsystem.id))) await registerMember(db, { id: subsystem.id, name: subsystem.name, jwks: publicJwks, actor });
  }
  // The hub's own transparency subsystem signs its conventions as provider with the hub's key.
  const hubJwk = { ...(services.keyring.currentPrivateKey().export({ format: 'jwk' }) as JWK), kid: services.keyring.current.kid, alg: 'ES256' };
  keys.set(hubSubsystems(config.HUB_ID).transparency, hubJwk);
  keys.set(hubSubsystems(config.HUB_ID).referentials, hubJwk);

  // Signed copies live in DATA_DIR: the repository's contracts/ stay as committed.
  const contracts = join(root, 'contracts');
  cpSync(contractsDir, contracts, { recursive: true });
  for (const yamlPath of conventionFiles(contracts)) {
    const doc = parseYaml(readFileSync(yamlPath, 'utf8')) as { provider: string; consumer: string };
    for (const [signer, role] of [
      [doc.provider, 'provider'],
      [doc.consumer, 'consumer'],
    ] as const) {
      const privateJwk = keys.get(signer);
      if (!privateJwk) throw new Error(`the demo has no key for ${signer} (${yamlPath})`);
      await signConvention(yamlPath, { signer, privateJwk, role, hubId: config.HUB_ID });
    }
    await activateConvention(db, yamlPath, { keyring: services.keyring, resolveKey: memberKeyResolver(db), actor });
  }
  writeFileSync(join(root, 'world.json'), `${JSON.stringify({ createdAt: new Date().toISOString(), subsystems: demoSubsystems.map((s) => s.id), demoIces }, null, 2)}\n`);
}

const demoRecordCounts = { seed: 2026, dupRate: 0.1, persons: 1500, companies: 300, vehicles: 300 };

/**
 * Contributes generated persons, companies and vehicles (with their cross-source duplicates) through the golden-record
 * engine, in the background, so that a newcomer can resolve and search at once. Contributions are idempotent: a
 * restart before the end simply goes on.
 */
function loadDemoRecords(context: PluginContext): { pending: boolean; total: number; done: Promise<void>; stop(): void } {
  const marker = join(demoDir(context.config.DATA_DIR), 'records.json');
  const total = demoRecordCounts.persons + demoRecordCounts.companies + demoRecordCounts.vehicles;
  if (existsSync(marker)) return { pending: false, total, done: Promise.resolve(), stop: () => undefined };
  let stopped = false;
  const done = (async () => {
    const started = Date.now();
    const decisions: Record<string, number> = {};
    // Chunks of 100 through the bulk path: one short transaction each, so that exchanges waiting for the embedded
    // database's single connection go in between (the demo load is background work).
    let chunk: { module: ReferentialModule; rows: BulkRow[] } | undefined;
    const flush = async () => {
      if (!chunk || chunk.rows.length === 0) return;
      for (const outcome of await contributeBulk(context.db, chunk.module, chunk.rows)) {
        const decision = outcome.ok ? outcome.decision : 'rejected';
        decisions[decision] = (decisions[decision] ?? 0) + 1;
      }
      chunk = undefined;
      await new Promise((resolve) => setTimeout(resolve, 5));
    };
    for (const [name, entity] of entities(demoRecordCounts)) {
      const module = referential(name);
      if (!module) continue;
      if (stopped) return;
      if (chunk && (chunk.module !== module || chunk.rows.length >= 100)) await flush();
      chunk ??= { module, rows: [] };
      for (const record of entity.records) chunk.rows.push({ line: chunk.rows.length + 1, ...record });
    }
    await flush();
    writeFileSync(marker, `${JSON.stringify({ loadedAt: new Date().toISOString(), ...demoRecordCounts, decisions }, null, 2)}\n`);
    context.logger.info({ decisions, seconds: Math.round((Date.now() - started) / 1000) }, 'demo records loaded into the referentials');
  })().catch((err: unknown) => {
    context.logger.warn({ err: { message: (err as Error).message } }, 'demo records not fully loaded (they resume at the next start)');
  });
  return { pending: true, total, done, stop: () => (stopped = true) };
}

async function shouldLoad(context: PluginContext): Promise<boolean> {
  const { config, db } = context;
  if (config.DEMO === 'off') return false;
  if (existsSync(join(demoDir(config.DATA_DIR), 'world.json'))) return true;
  // auto: only on an embedded database that has no conventions yet (never into a production PostgreSQL by surprise).
  if (config.DEMO === 'auto' && config.DATABASE_URL) return false;
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM conventions');
  return (rows[0]?.n ?? 0) === 0;
}

export const demoWorldPlugin: HubPlugin = {
  name: 'demo-world',
  async start(context) {
    if (!(await shouldLoad(context))) return undefined;
    if (!existsSync(join(demoDir(context.config.DATA_DIR), 'world.json'))) await seedDemoWorld(context);
    // The simulator runs with the hub and checks that every call came through it (the hub's forward signature).
    const simulator = await startBtpSimulator({ requireHubSignature: true, hubJwksUrl: `${context.hubUrl}/.well-known/jwks.json`, hubId: context.config.HUB_ID });
    await bindService(context.db, { serviceId: btpServiceId, binding: { kind: 'http', baseUrl: simulator.url, timeoutMs: 5000 }, actor });
    // This process serves at once what it just activated and bound, without waiting for its next registry poll.
    await Promise.all([context.services.directory.reload(), context.services.conventions.reload()]);
    const records = loadDemoRecords(context);
    return {
      banner: `demo world     keys in ${demoDir(context.config.DATA_DIR)}; BTP simulator at ${simulator.url}; try: npm run demo:call${records.pending ? `\n  demo records   ${records.total} generated persons, companies and vehicles loading into the referentials in the background` : ''}`,
      async stop() {
        records.stop();
        await records.done;
        await simulator.close();
      },
    };
  },
};
