// `npm run demo:sync`: a change made in one system of the demo reaching the others through the hub that `npm start`
// runs (same PORT and DATA_DIR, or HUB_URL for a hub elsewhere), told in plain words for someone who reads no JSON:
//   1. a person's name corrected by an agent of the complaints platform reaches permis-rdv and infractions;
//   2. a company renamed in the BTP platform reaches the maritime public-domain occupations register;
//   3. a commune renumbered by the HCP (2014 → 2024) reaches MARROUTE, whose events are found under the new code.
// Each step says what was changed where, the golden record's new version, the push that carried it (its message-log
// entry), what each receiving system now shows (asked of the system itself) and what the citizen sees. Each wait is
// bounded (DEMO_SYNC_TIMEOUT_S, 90 s by default); what did not arrive is said, and the script exits 1.
import { existsSync, readFileSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { loadClientIdentity, TabadolClient } from '../src/client/index.ts';
import { demoDir, demoKeyPath } from '../adapters/demo/world.ts';
import { simulatorRecordPath, type SimulatorRecord } from '../adapters/demo/simulator-record.ts';
import { person } from '../referentials/generator/persons.ts';
import { demoDriverSeed, demoDrivers } from '../adapters/infractions/demo.ts';
import { getLicence } from '../adapters/infractions/licence-client.ts';
import { permisSubsystem } from '../adapters/permis-rdv/binding.ts';
import { infractionsProvider } from '../adapters/infractions/binding.ts';
import { dpmSubsystem } from '../adapters/dpm-occupations/adapter.ts';
import { dpmService } from '../adapters/dpm-occupations/binding.ts';
import { btpHolderIces } from '../adapters/dpm-occupations/data.ts';
import { marrouteService } from '../adapters/marroute/binding.ts';
import { marrouteSubsystem } from '../adapters/marroute/adapter.ts';
import { withDatabase } from '../src/cli/run.ts';
import { referentialsProvider } from '../src/sync/subscriptions.ts';
import { demoRenumbering } from '../adapters/marroute/data.ts';
import { territory } from '../referentials/territory/territory.ts';

const config = loadConfig(process.env);
const hubUrl = hubUrlOf(process.env.HUB_URL, config.PORT);
const timeoutMs = waitSeconds(process.env.DEMO_SYNC_TIMEOUT_S) * 1000;
const dir = demoDir(config.DATA_DIR);
const out = (line = '') => process.stdout.write(`${line}\n`);

/** HUB_URL when given (an http(s) base URL), else this machine's PORT (as scripts/demo-call.ts). */
function hubUrlOf(given: string | undefined, port: number): string {
  if (given === undefined || given === '') return `http://127.0.0.1:${port}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return fail(`HUB_URL: ${given} is not a URL (for example http://127.0.0.1:8080)`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`HUB_URL: must be http:// or https://, not ${url.protocol}`, 2);
  return url.href.replace(/\/$/, '');
}

function waitSeconds(given: string | undefined): number {
  if (given === undefined || given === '') return 90;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1 || n > 600) return fail('DEMO_SYNC_TIMEOUT_S: a whole number of seconds from 1 to 600', 2);
  return n;
}

function fail(message: string, code = 1): never {
  process.stderr.write(`demo:sync: ${message}\n`);
  process.exit(code);
}

// ---- what the demo wrote beside the hub ---------------------------------------------------------------------------

interface System extends SimulatorRecord {
  token: string;
}

/** Where a demo system's simulator listens this start, and its token (read from its own 0600 file). */
function system(name: string): System {
  const path = simulatorRecordPath(dir, name);
  if (!existsSync(path)) fail(`no record of the ${name} simulator at ${path}: start the hub with \`npm start\` (same PORT and DATA_DIR; the demo world on)`);
  const record = JSON.parse(readFileSync(path, 'utf8')) as SimulatorRecord;
  return { ...record, token: record.tokenFile ? readFileSync(record.tokenFile, 'utf8').trim() : '' };
}

async function clientOf(subsystem: string): Promise<TabadolClient> {
  const keyPath = demoKeyPath(config.DATA_DIR, subsystem);
  if (!existsSync(keyPath)) fail(`no demo key for ${subsystem} at ${keyPath}: start the hub first with \`npm start\` (same PORT and DATA_DIR)`);
  return new TabadolClient({ hubUrl, hubId: config.HUB_ID, identity: await loadClientIdentity(subsystem, keyPath) });
}

/** A simulator's own answer (JSON), with its token; undefined when it answers anything but 2xx. */
async function ask<T>(s: System, path: string, init: { method?: string; body?: unknown } = {}): Promise<T | undefined> {
  const answer = await fetch(new URL(path, s.url), {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${s.token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!answer.ok) return undefined;
  return (await answer.json()) as T;
}

/** Polls `probe` until it gives a value or the step's time is up (bounded; never hangs). */
async function until<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

// ---- the citizen portal's view: who received or read my data ------------------------------------------------------

interface Access {
  at: string;
  client: string;
  clientName: string;
  service: string;
  operation: string;
  purpose: string;
  purposeDescription: string;
  status: number;
  logSeq: number;
}

// ---- before anything: the hub is there --------------------------------------------------------------------------

try {
  const answer = await fetch(`${hubUrl}/.well-known/jwks.json`, { signal: AbortSignal.timeout(5000) });
  if (!answer.ok) throw new Error(`answered ${answer.status}`);
} catch (err) {
  fail(`no hub answers at ${hubUrl} (${(err as Error).message}): start it with \`npm start\` (same PORT and DATA_DIR), or set HUB_URL`);
}

const portal = await clientOf('MA/GOV/ADD/portail-citoyen');

async function accessesOf(type: 'cin' | 'ice', id: string): Promise<Access[]> {
  const result = await portal.call('GET', `/x/v1/MA/GOV/HUB/transparency/accesses/subjects/${type}/${encodeURIComponent(id)}/accesses?limit=50`, { purpose: 'citizen-access-report' });
  if (result.status !== 200) throw new Error(`the transparency report answered ${result.status}`);
  return (JSON.parse(result.body) as { accesses: Access[] }).accesses;
}

/** The push to `subscriber` recorded after `afterSeq` in the subject's report: the message-log entry of that delivery. */
async function pushTo(type: 'cin' | 'ice', id: string, subscriber: string, afterSeq: number): Promise<Access | undefined> {
  return (await accessesOf(type, id)).find((a) => a.operation === 'push' && a.client === subscriber && a.logSeq > afterSeq && a.status < 300);
}

async function citizenLines(type: 'cin' | 'ice', id: string, afterSeq: number): Promise<string[]> {
  try {
    return citizenView(await accessesOf(type, id), afterSeq);
  } catch (err) {
    missing.push(`the citizen's report for ${type.toUpperCase()} ${id}`);
    return [`    the report could not be read: ${(err as Error).message}`];
  }
}

function citizenView(accesses: Access[], afterSeq: number): string[] {
  // The portal's own reads of the report are left out: the citizen asked those.
  const recent = accesses.filter((a) => a.logSeq > afterSeq && a.client !== 'MA/GOV/ADD/portail-citoyen').slice(0, 6);
  if (recent.length === 0) return ['    (nothing new in the report)'];
  return recent.map((a) => `    ${a.at.slice(0, 19).replace('T', ' ')}  ${a.clientName} ${a.operation === 'push' ? 'received an update' : `called ${a.operation}`} (purpose ${a.purpose}) — entry ${a.logSeq}`);
}

const missing: string[] = [];
const arrived = (what: string, ok: boolean): string => {
  if (!ok) missing.push(what);
  return ok ? 'ARRIVED' : 'DID NOT ARRIVE';
};

/**
 * Whether a full name ("Hicham El Othmani") ends with the corrected family name and no longer with the old one: "El
 * Othmani" → "Othmani" is not there while the name still ends with "El Othmani" (which ends with "Othmani" too).
 */
function namesCorrected(fullName: string | undefined, old: string, corrected: string): boolean {
  const endsWith = (name: string) => fullName === name || fullName?.endsWith(` ${name}`) === true;
  return endsWith(corrected) && !(old.length > corrected.length && endsWith(old));
}

// ---- step 1: a name corrected in the complaints platform ------------------------------------------------------------

async function stepName(): Promise<void> {
  const complaints = system('reclamations');
  const permis = system('permis-rdv');
  const infractions = system('infractions');
  out('Step 1 — a person\'s name corrected in the complaints platform');
  // A citizen who is both an exam candidate (permis-rdv) and a driver the infractions register holds a licence for.
  interface Candidate { cin: string; firstNameLatin?: string; lastNameLatin?: string }
  const held = await until(async () => {
    for (let i = 0; i < demoDrivers; i++) {
      const p = person(demoDriverSeed, i);
      const candidate = await ask<Candidate>(permis, `/candidates/${p.cin}`).catch(() => undefined);
      if (!candidate) continue;
      const licence = await getLicence(infractions.url, p.cin, { timeoutMs: 5000 }).catch(() => undefined);
      if (licence) return { p, candidate };
    }
    return undefined;
  });
  if (!held) {
    out('  no exam candidate of permis-rdv is yet known to the infractions register (no ticket issued to one): nothing to correct');
    missing.push('step 1: a person held by both permis-rdv and infractions');
    return;
  }
  const { p, candidate } = held;
  const before = (await until(async () => Math.max(0, ...(await accessesOf('cin', p.cin)).map((a) => a.logSeq)))) ?? 0;
  // The same citizen files a complaint ("soumettre une réclamation"): the platform now holds them too, by their CIN.
  const filed = await ask<{ number: string; complainantId: string }>(complaints, '/complaints', {
    method: 'POST',
    body: {
      complainant: { kind: 'person', cin: p.cin, firstNameLatin: p.firstLatin, lastNameLatin: candidate.lastNameLatin ?? p.lastLatin, firstNameArabic: p.first.arabic, lastNameArabic: p.last.arabic },
      subject: 'Panneau de signalisation arraché', category: 'routes-ouvrages', channel: 'bureau-ordre', commune: '04.421.01.0', description: 'Déposée au guichet par le citoyen, CIN présentée.',
    },
  });
  if (!filed) fail('the complaints platform refused the complaint the demo files');
  // The agent checks the CIN card and corrects the spelling of the family name.
  const current = candidate.lastNameLatin ?? p.lastLatin;
  const corrected = current.startsWith('El ') ? current.slice(3) : `El ${current}`;
  const patched = await ask(complaints, `/admin/complainants/${filed.complainantId}`, { method: 'PATCH', body: { lastNameLatin: corrected } });
  if (!patched) fail(`the complaints platform refused the agent's correction of ${filed.complainantId}`);
  out(`  Changed    an agent of the complaints platform corrected the family name of CIN ${p.cin}`);
  out(`             (complainant ${filed.complainantId}, complaint ${filed.number}): "${current}" → "${corrected}", CIN card in hand`);

  const inPermis = await until(async () => ((await ask<Candidate>(permis, `/candidates/${p.cin}`))?.lastNameLatin === corrected ? true : undefined));
  const inInfractions = await until(async () => (namesCorrected((await getLicence(infractions.url, p.cin, { timeoutMs: 5000 })).holderNameLatin, current, corrected) ? true : undefined));
  const pushPermis = await until(() => pushTo('cin', p.cin, permisSubsystem, before));
  const pushInfractions = await until(() => pushTo('cin', p.cin, infractionsProvider, before));
  const golden = await until(async () => (await ask<{ hub?: { goldenId: string; version: number } }>(complaints, `/admin/complainants/${filed.complainantId}`))?.hub);
  out(`  Golden     ${golden ? `person ${golden.goldenId}, version ${golden.version} (as pushed back to the complaints platform)` : 'no golden version pushed back to the complaints platform in time'}`);
  const inPermisNow = await ask<Candidate>(permis, `/candidates/${p.cin}`).catch(() => undefined);
  out(`  permis-rdv ${arrived('step 1: permis-rdv', inPermis === true && pushPermis !== undefined)}: its candidate file now reads "${inPermisNow?.lastNameLatin ?? '-'}"${pushPermis ? `; delivered by the push logged as message-log entry ${pushPermis.logSeq}` : ''}`);
  const licence = await getLicence(infractions.url, p.cin, { timeoutMs: 5000 }).catch(() => undefined);
  out(`  infractions ${arrived('step 1: infractions', inInfractions === true && pushInfractions !== undefined)}: its licence file names "${licence?.holderNameLatin ?? '-'}"${pushInfractions ? `; delivered by the push logged as message-log entry ${pushInfractions.logSeq}` : ''}`);
  out(`  Citizen    the citizen portal's report for CIN ${p.cin} (who received or read my data) now lists:`);
  for (const line of await citizenLines('cin', p.cin, before)) out(line);
  out();
}

// ---- step 2: a company renamed in the BTP platform -------------------------------------------------------------------

interface PermitsAnswer { total: number; items: Array<{ number: string; holder: { raisonSociale?: string } }> }

async function stepCompany(): Promise<void> {
  const btp = system('btp-qualification');
  system('dpm-occupations');
  const ice = btpHolderIces[0];
  out('Step 2 — a company renamed in the BTP platform');
  const collectivites = await clientOf('MA/GOV/MI/collectivites-territoriales');
  const metle = await clientOf('MA/GOV/METLE/qualification-btp');
  const permitsPath = `/x/v1/${dpmService}/companies/${ice}/permits`;
  const permits = async (): Promise<{ answer: PermitsAnswer; logId: string } | undefined> => {
    const r = await collectivites.call('GET', permitsPath, { purpose: 'coastal-occupation-follow-up' });
    return r.status === 200 ? { answer: JSON.parse(r.body) as PermitsAnswer, logId: r.logId ?? '-' } : undefined;
  };
  const first = await permits();
  if (!first || first.answer.items.length === 0) {
    out(`  the maritime occupations register shows no permit for ICE ${ice} through the exchange: nothing to follow`);
    missing.push('step 2: the company\'s permits in dpm-occupations');
    return;
  }
  const current = first.answer.items[0]?.holder.raisonSociale ?? '';
  const renamed = current.endsWith(' Maroc') ? current.slice(0, -' Maroc'.length) : `${current} Maroc`;
  const before = (await until(async () => Math.max(0, ...(await accessesOf('ice', ice)).map((a) => a.logSeq)))) ?? 0;
  const edited = await ask<{ version: number }>(btp, `/admin/companies/${ice}`, { method: 'PATCH', body: { raisonSociale: renamed } });
  if (!edited) fail(`the BTP platform refused the renaming of ${ice}`);
  out(`  Changed    the BTP platform renamed the company with ICE ${ice}: "${current}" → "${renamed}" (its dossier's version ${edited.version})`);
  const shown = await until(async () => {
    const now = await permits();
    return now?.answer.items.every((p) => p.holder.raisonSociale === renamed) ? now : undefined;
  });
  const push = await until(() => pushTo('ice', ice, dpmSubsystem, before));
  const golden = await metle.call('GET', `/x/v1/MA/GOV/HUB/referentials/companies/by-key/ice/${ice}`, { purpose: 'company-referential-sync' });
  const record = golden.status === 200 ? (JSON.parse(golden.body) as { goldenId: string; version: number; attributes: Record<string, { value: unknown }> }) : undefined;
  out(`  Golden     ${record ? `company ${record.goldenId}, version ${record.version}` : `not readable (${golden.status})`}`);
  out(`  dpm-occupations ${arrived('step 2: dpm-occupations', shown !== undefined && push !== undefined)}: ${shown ? `its ${shown.answer.total} permit(s) for this ICE now name the holder "${renamed}" (read through the exchange as the DGCT, entry ${shown.logId})` : 'its permits still name the old holder'}`);
  out(`             ${push ? `delivered by the push logged as message-log entry ${push.logSeq}` : 'no push to it recorded for this ICE'}`);
  out(`  Citizen    the portal's report for ICE ${ice} (who received or read the company's data) now lists:`);
  for (const line of await citizenLines('ice', ice, before)) out(line);
  out();
}

/**
 * A commune names no citizen, so the territory push is in no citizen's report: its message-log entry is read from the
 * hub's own database (as the `tabadol` admin commands do: directly, or through a running embedded hub's local socket).
 */
async function territoryPushEntry(afterSeq: number): Promise<string> {
  try {
    const seq = await withDatabase(config, undefined, async (db) => {
      const { rows } = await db.query<{ seq: string }>(
        "SELECT seq::text AS seq FROM message_log WHERE client = $1 AND operation = 'push' AND service = $2 AND status BETWEEN 200 AND 299 AND seq > $3 ORDER BY seq LIMIT 1",
        [marrouteSubsystem, `${referentialsProvider}/territory`, afterSeq],
      );
      return rows[0]?.seq;
    });
    return seq ? `delivered by the push logged as message-log entry ${seq}` : 'its push is not in the message log yet';
  } catch (err) {
    // A hub on another machine: its database is not this one's to read.
    return `its push's message-log entry is in the hub's log (not readable from here: ${(err as Error).message.split('\n')[0]})`;
  }
}

// ---- step 3: a commune renumbered ------------------------------------------------------------------------------------

interface RoadEvents { evenements?: Array<{ id: string; codeCommune: string; codeCommuneDeclare?: string; nature?: string }>; events?: unknown[] }

async function stepCommune(): Promise<void> {
  const marroute = system('marroute');
  const { code2014, code2024, province } = demoRenumbering;
  const name = territory().unit(code2024)?.nameFr ?? code2024;
  out('Step 3 — a commune renumbered (the 2014 → 2024 nomenclature)');
  const hcp = await clientOf('MA/GOV/HCP/nomenclature');
  const underNew = async () => (await ask<RoadEvents>(marroute, `/evenements?province=${province}&commune=${code2024}`))?.evenements ?? [];
  const contributed = await hcp.call('POST', '/x/v1/MA/GOV/HUB/referentials/territory/contributions', {
    purpose: 'territorial-nomenclature-publication',
    body: JSON.stringify({ sourceId: `hcp-${code2024}`, attributes: { code: code2024, formerCodes: [code2014], nameFr: name, nameAr: territory().unit(code2024)?.nameAr } }),
    contentType: 'application/json',
  });
  if (contributed.status !== 200) fail(`the territory referential refused the HCP's renumbering (${contributed.status}): ${contributed.body.slice(0, 300)}`);
  const golden = JSON.parse(contributed.body) as { goldenId: string; version?: number; decision: string };
  out(`  Changed    the HCP recorded that ${name}'s code ${code2014} (2014) is now ${code2024} (message-log entry ${contributed.logId})`);
  out(`  Golden     commune ${golden.goldenId}, version ${golden.version ?? '-'} (${golden.decision})`);
  const moved = await until(async () => {
    const renumbered = (await ask<{ renumerotations: Array<{ former: string; code: string }> }>(marroute, '/renumerotations'))?.renumerotations ?? [];
    if (!renumbered.some((r) => r.former === code2014 && r.code === code2024)) return undefined;
    const events = await underNew();
    return events.some((e) => e.codeCommuneDeclare === code2014) ? events : undefined;
  });
  const filedOld = moved?.filter((e) => e.codeCommuneDeclare === code2014).length ?? 0;
  out(`  MARROUTE   ${arrived('step 3: MARROUTE', moved !== undefined)}: ${moved ? `${moved.length} road event(s) under ${code2024}, ${filedOld} of them reported under ${code2014}` : `no event reported under ${code2014} is found under ${code2024}`}`);
  if (moved) out(`             ${await territoryPushEntry(Number(contributed.logId ?? 0))}`);
  const citizen = await portal.call('GET', `/x/v1/${marrouteService}/provinces/${province}/events?commune=${code2024}`, { purpose: 'road-conditions-information' });
  const seen = citizen.status === 200 ? (JSON.parse(citizen.body) as { events?: unknown[] }).events?.length ?? 0 : 0;
  out(`  Citizen    the citizen portal asks MARROUTE for road events in ${name} under ${code2024}: ${citizen.status === 200 ? `${seen} event(s)` : `refused (${citizen.status})`} (message-log entry ${citizen.logId})`);
  out();
}

out(`Hub at ${hubUrl}; each wait is bounded to ${timeoutMs / 1000} s.\n`);
try {
  await stepName();
  await stepCompany();
  await stepCommune();
} catch (err) {
  // A hub or simulator gone mid-way: said plainly, never a stack trace.
  fail(`stopped: ${(err as Error).message}${(err as Error).cause ? ` (${String((err as { cause: unknown }).cause)})` : ''}; is the hub still running at ${hubUrl}?`);
}
if (missing.length > 0) {
  out(`In short: NOT everything arrived within ${timeoutMs / 1000} s: ${missing.join('; ')}.`);
  process.exit(1);
}
out('In short: each change, made in one system only, reached the others through the hub, and each delivery is in the message log and in the citizen\'s own report.');
