// `npm run demo:call`: a signed call as the Treasury's procurement portal would make it, to the hub that `npm start`
// runs (same PORT and DATA_DIR, or HUB_URL for a hub elsewhere), then the citizen-portal view of who accessed that
// company's data; it ends with a plain summary for someone who reads no JSON.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config.ts';
import { loadClientIdentity, referentialClients, TabadolClient, type CallResult } from '../src/client/index.ts';
import { demoDir, demoKeyPath, demoSubsystems } from '../adapters/demo/world.ts';
import { demoIces } from '../adapters/btp-qualification/data.ts';

const config = loadConfig(process.env);
const hubUrl = hubUrlOf(process.env.HUB_URL, config.PORT);
const consumer = 'MA/GOV/MEF/marches-publics';
const keyPath = demoKeyPath(config.DATA_DIR, consumer);
if (!existsSync(keyPath)) {
  process.stderr.write(`demo:call: no demo keys at ${keyPath}: start the hub first with \`npm start\` (same PORT and DATA_DIR)\n`);
  process.exit(1);
}

/** HUB_URL when given (an http(s) base URL), else this machine's PORT. */
function hubUrlOf(given: string | undefined, port: number): string {
  if (given === undefined || given === '') return `http://127.0.0.1:${port}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    process.stderr.write(`demo:call: HUB_URL: ${given} is not a URL (for example http://127.0.0.1:8080)\n`);
    process.exit(2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    process.stderr.write(`demo:call: HUB_URL: must be http:// or https://, not ${url.protocol}\n`);
    process.exit(2);
  }
  return url.href.replace(/\/$/, '');
}

const ice = demoIces.qualified;
const client = new TabadolClient({ hubUrl, hubId: config.HUB_ID, identity: await loadClientIdentity(consumer, keyPath) });
const target = `/x/v1/MA/GOV/METLE/qualification-btp/classification/companies/${ice}/classification`;
process.stdout.write(`→ GET ${target}\n  as ${consumer}, purpose public-procurement-eligibility, signed with ${keyPath}\n`);
let result: CallResult;
try {
  result = await client.call('GET', target, { purpose: 'public-procurement-eligibility' });
} catch (err) {
  process.stderr.write(`demo:call: ${(err as Error).message} (is \`npm start\` running at ${hubUrl}? set PORT or HUB_URL)\n`);
  process.exit(1);
}
process.stdout.write(`← ${result.status}, message-log entry ${result.logId}; hub signature verified (kid bound to jti ${result.claims.jti}, body digest ${result.claims.bdh})\n`);
process.stdout.write(`${JSON.stringify(JSON.parse(result.body), null, 2)}\n`);
process.stdout.write('  (minimised by the convention: the Treasury receives only the fields it signed for)\n\n');

const portal = 'MA/GOV/ADD/portail-citoyen';
const portalClient = new TabadolClient({ hubUrl, hubId: config.HUB_ID, identity: await loadClientIdentity(portal, demoKeyPath(config.DATA_DIR, portal)) });
const report = `/x/v1/MA/GOV/HUB/transparency/accesses/subjects/ice/${ice}/accesses?limit=5`;
const accesses = await portalClient.call('GET', report, { purpose: 'citizen-access-report' });
process.stdout.write(`→ GET ${report}\n  as ${portal}: who accessed this company's data?\n← ${accesses.status}, verified\n${JSON.stringify(JSON.parse(accesses.body), null, 2)}\n`);

const metle = 'MA/GOV/METLE/qualification-btp';
const metleClient = new TabadolClient({ hubUrl, hubId: config.HUB_ID, identity: await loadClientIdentity(metle, demoKeyPath(config.DATA_DIR, metle)) });
// Typed calls generated from the referential services' contracts (`tabadol/client`): signed, answers verified.
const metleReferentials = referentialClients(metleClient);
// A company's file still carries its commune's 2014 code (Ait Kamra, Al Hoceima): the referential says what it is today.
const unit = '/x/v1/MA/GOV/HUB/referentials/territory/units/01.051.05.01';
const resolved = await metleReferentials.territory.GET('/units/{code}', { params: { path: { code: '01.051.05.01' } }, headers: { 'tabadol-purpose': 'address-commune-resolution' } });
process.stdout.write(`\n→ GET ${unit}\n  as ${metle}: which commune is this 2014 code today?\n← ${resolved.response.status}, verified\n${JSON.stringify(resolved.data ?? resolved.error, null, 2)}\n`);

// The BTP e-service contributes the company it knows to the single referential, then resolves it by its ICE in any
// written form: the same golden record that every other e-service sees.
const contribution = '/x/v1/MA/GOV/HUB/referentials/companies/contributions';
const contributed = await metleReferentials.companies.POST('/contributions', {
  headers: { 'tabadol-purpose': 'company-referential-sync' },
  body: { sourceId: 'dossier-2026-0042', attributes: { ice: ice, nameFr: 'Atlas Bâtiment et Travaux SARL', legalForm: 'SARL', commune: '06.141.01.0' } },
});
process.stdout.write(`\n→ POST ${contribution}\n  as ${metle}: contribute the company of a qualification file\n← ${contributed.response.status}, verified\n${JSON.stringify(contributed.data ?? contributed.error)}\n`);
const byKey = `/x/v1/MA/GOV/HUB/referentials/companies/by-key/ice/${ice.slice(0, 3)}%20${ice.slice(3)}`;
const golden = await metleReferentials.companies.GET('/by-key/{keyType}/{keyValue}', {
  params: { path: { keyType: 'ice', keyValue: `${ice.slice(0, 3)} ${ice.slice(3)}` } },
  headers: { 'tabadol-purpose': 'company-referential-sync' },
});
process.stdout.write(`→ GET ${byKey}\n← ${golden.response.status}, verified\n${JSON.stringify(golden.data ?? golden.error, null, 2)}\n`);

process.stdout.write(`\n${summary().join('\n')}\n`);
if ([result, accesses].some((r) => r.status !== 200) || [resolved, contributed, golden].some((r) => r.response.status !== 200)) process.exit(1);

/** The first call told in plain words: who asked what, for which purpose, what the convention withheld, where it shows. */
function summary(): string[] {
  const conventionPath = demoConventionPath();
  const convention = parseYaml(readFileSync(conventionPath, 'utf8')) as {
    id: string;
    purposes: Array<{ code: string; description: string; legalBasis?: string }>;
    operations: Array<{ operationId: string; fields?: string[] }>;
  };
  const purpose = convention.purposes.find((p) => p.code === 'public-procurement-eligibility');
  const allowed = convention.operations.find((o) => o.operationId === 'getCompanyClassification')?.fields ?? [];
  const withheld = withheldFields(join(conventionPath, '..', '..', 'openapi.yaml'), allowed);
  const seen = (JSON.parse(accesses.body) as { accesses: Array<{ clientName: string; purpose: string; at: string }> }).accesses;
  const nameOf = (id: string) => demoSubsystems.find((s) => s.id === id)?.name ?? id;
  return [
    'In short',
    `  Who asked what   ${nameOf(consumer)} (${consumer}) asked ${nameOf('MA/GOV/METLE/qualification-btp')}`,
    `                   for the BTP qualification and classification of the company with ICE ${ice}.`,
    `  For what         ${purpose?.code ?? 'public-procurement-eligibility'}: ${oneLine(purpose?.description ?? '')}`,
    ...(purpose?.legalBasis ? [`  Legal basis      ${oneLine(purpose.legalBasis)}`] : []),
    `  Answer           ${result.status === 200 ? 'given' : `refused (${result.status})`}, signed by the hub, and its signature checked here.`,
    `  Withheld         ${withheld.length ? withheld.join(', ') : 'nothing'}: the provider's answer carries ${withheld.length === 1 ? 'it' : 'them'}, but the`,
    `                   signed convention ${convention.id} lists only ${allowed.join(', ')},`,
    '                   what the eligibility check needs (law 09-08: data adequate, relevant and not excessive for the purpose);',
    '                   the hub removed the rest before the Treasury received the answer.',
    `  Recorded         message-log entry ${result.logId} (hash-chained, signed checkpoints; \`tabadol log verify\` checks it).`,
    `  Citizen's view   the company (or, for a person, the citizen) sees this access on the citizen portal, through`,
    `                   GET ${report.replace(/\?.*$/, '')}: ${seen.length} access(es) listed above, the latest by ${seen[0]?.clientName ?? '-'} for ${seen[0]?.purpose ?? '-'}.`,
  ];
}

function demoConventionPath(): string {
  const relative = join('MA.GOV.METLE.qualification-btp', 'classification', 'conventions', 'MA.GOV.MEF.marches-publics.yaml');
  const signed = join(demoDir(config.DATA_DIR), 'contracts', relative);
  return existsSync(signed) ? signed : new URL(`../contracts/${relative}`, import.meta.url).pathname;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The answer's fields (dotted paths, from the service's OpenAPI) that no allowed field keeps. */
function withheldFields(openapiPath: string, allowed: string[]): string[] {
  type Schema = { $ref?: string; type?: string | string[]; properties?: Record<string, Schema>; items?: Schema };
  const doc = parseYaml(readFileSync(openapiPath, 'utf8')) as { components: { schemas: Record<string, Schema> } };
  const resolve = (schema: Schema): Schema => (schema.$ref ? resolve(doc.components.schemas[schema.$ref.split('/').pop() ?? ''] ?? {}) : schema);
  const out: string[] = [];
  const walk = (schema: Schema, prefix: string, depth: number) => {
    const s = resolve(schema);
    const object = s.items ? resolve(s.items) : s;
    for (const [name, child] of Object.entries(object.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (allowed.some((a) => path === a || path.startsWith(`${a}.`))) continue;
      if (depth < 4 && allowed.some((a) => a.startsWith(`${path}.`))) walk(child, path, depth + 1);
      else out.push(path);
    }
  };
  walk({ $ref: '#/components/schemas/Classification' }, '', 0);
  return out;
}
