// `npm run demo:call`: a signed call as the Treasury's procurement portal would make it, to the hub that `npm start`
// runs (same PORT and DATA_DIR), then the citizen-portal view of who accessed that company's data.
import { existsSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { loadClientIdentity, referentialClients, TabadolClient } from '../src/client/index.ts';
import { demoKeyPath } from '../adapters/demo/world.ts';
import { demoIces } from '../adapters/btp-qualification/data.ts';

const config = loadConfig(process.env);
const hubUrl = `http://127.0.0.1:${config.PORT}`;
const consumer = 'MA/GOV/MEF/marches-publics';
const keyPath = demoKeyPath(config.DATA_DIR, consumer);
if (!existsSync(keyPath)) {
  process.stderr.write(`demo:call: no demo keys at ${keyPath}: start the hub first with \`npm start\` (same PORT and DATA_DIR)\n`);
  process.exit(1);
}

const ice = demoIces.qualified;
const client = new TabadolClient({ hubUrl, hubId: config.HUB_ID, identity: await loadClientIdentity(consumer, keyPath) });
const target = `/x/v1/MA/GOV/METLE/qualification-btp/classification/companies/${ice}/classification`;
process.stdout.write(`→ GET ${target}\n  as ${consumer}, purpose public-procurement-eligibility, signed with ${keyPath}\n`);
let result;
try {
  result = await client.call('GET', target, { purpose: 'public-procurement-eligibility' });
} catch (err) {
  process.stderr.write(`demo:call: ${(err as Error).message} (is \`npm start\` running on port ${config.PORT}?)\n`);
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
if ([result, accesses].some((r) => r.status !== 200) || [resolved, contributed, golden].some((r) => r.response.status !== 200)) process.exit(1);
