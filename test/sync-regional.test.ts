// Regional offices (issue 14 item 5): an office's drop folder, with real files in temp folders, on both drivers.
// Bad input is quarantined whole with a report (line, field, reason) and nothing of it applied: a malformed CSV, XML
// with a DOCTYPE or an entity, XML too deep or too large, a file of another office's territory. Good CSV and XML are
// contributed and moved to done/. A correction that conflicts with a more trusted source loses (survivorship) and is
// in the review queue. The simulator applies the hub's change files in number order and resumes after a restart.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { personsModule, referentialModules, vehiclesModule } from '../referentials/index.ts';
import { regionalOfficeAdapter } from '../adapters/regional-office/adapter.ts';
import { applyDropFolder } from '../adapters/regional-office/apply.ts';
import { readDropFile, type DropFileReport } from '../adapters/regional-office/drop-folder.ts';
import { officeSourceId, regionalOffice, regionalSourceSystem } from '../adapters/regional-office/office.ts';
import { RegionalOfficeSimulator, type ChangeLine } from '../adapters/regional-office/simulator.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { reviewQueue } from '../src/golden/stewardship.ts';
import { findBySource, getGolden } from '../src/golden/reads.ts';
import { configureAdapter } from '../src/sync/inbound.ts';
import { drivers, referentialsDbPerBlock, type TestDb } from './helpers/db.ts';
import { startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';
import { waitFor } from './helpers/wait.ts';

const persons = personsModule as unknown as ReferentialModule;
const vehicles = vehiclesModule as unknown as ReferentialModule;
const tanger = regionalOffice('01');
/** Communes of region 01 (Tanger-Tétouan-Al Hoceima) and of region 04 (Rabat-Salé-Kénitra). */
const assilah = '01.511.01.01';
const rabat = '04.421.01.0';

const personsHeader = 'sourceId,sourceVersion,cin,firstNameLatin,lastNameLatin,birthDate,address,addressCommune';

let dir: string;
let outbox: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tabadol-office-'));
  outbox = join(dir, 'outbox');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A file as an office drops it into its outbox. */
function drop(name: string, text: string): string {
  mkdirSync(outbox, { recursive: true });
  const path = join(outbox, name);
  writeFileSync(path, text);
  return path;
}

const readReport = (name: string): DropFileReport => JSON.parse(readFileSync(join(outbox, 'quarantine', `${name}.report.json`), 'utf8')) as DropFileReport;
const filesIn = (sub: string): string[] => (existsSync(join(outbox, sub)) ? readdirSync(join(outbox, sub)).sort() : []);

const xmlPersons = (body: string, office = tanger.id) => `<?xml version="1.0" encoding="UTF-8"?>\n<corrections office="${office}" referential="persons">\n${body}\n</corrections>\n`;
const xmlPerson = (id: string, cin: string, commune = assilah) =>
  `  <record sourceId="${id}" sourceVersion="1">\n    <cin>${cin}</cin>\n    <firstNameLatin>Amina</firstNameLatin>\n    <lastNameLatin>Alaoui</lastNameLatin>\n    <birthDate>1980-01-01</birthDate>\n    <addressCommune>${commune}</addressCommune>\n  </record>`;

describe('reading an office file (no database)', () => {
  it('a CSV with a bad quote is quarantined with its line and reason', async () => {
    const path = drop('persons-0001.csv', `${personsHeader}\nP1,1,AB1001,Amina,Alaoui,1980-01-01,rue 1,${assilah}\nP2,1,CD2002,Ka"rim,Bennani,1970-02-02,rue 2,${assilah}\n`);
    const read = await readDropFile(path, tanger);
    expect(read).toMatchObject({ quarantine: { refused: 'malformed', problems: [{ line: 3, field: 'line', reason: expect.stringContaining('quote inside an unquoted field') }] } });
  });

  it('a CSV row with a missing column is quarantined with its line', async () => {
    const path = drop('persons-0002.csv', `${personsHeader}\nP1,1,AB1001,Amina,Alaoui,1980-01-01,rue 1,${assilah}\nP2,1,CD2002,Karim,Bennani,1970-02-02,${assilah}\n`);
    const read = await readDropFile(path, tanger);
    expect(read).toMatchObject({ quarantine: { refused: 'malformed', problems: [{ line: 3, field: 'line', reason: '7 fields, the header has 8 (sourceId,sourceVersion,cin,firstNameLatin,lastNameLatin,birthDate,address,addressCommune)' }] } });
  });

  it('a CSV without its sourceVersion column names the field; a row with a bad CIN is kept for the referential to drop the field', async () => {
    const noVersion = await readDropFile(drop('persons-0003.csv', `sourceId,cin,addressCommune\nP1,AB1001,${assilah}\n`), tanger);
    expect(noVersion).toMatchObject({ quarantine: { problems: [{ line: 1, field: 'sourceVersion', reason: 'column is missing' }] } });
    const badCin = await readDropFile(drop('persons-0004.csv', `${personsHeader}\nP1,1,not a cin,Amina,Alaoui,1980-01-01,rue 1,${assilah}\n`), tanger);
    // A bad CIN no longer loses the record (issue 18): the file is read whole, and the persons referential drops the
    // field with a warning at ingest (test/referentials-matching.test.ts).
    expect(badCin).toMatchObject({ records: [{ line: 2, sourceId: 'dr-01/P1', attributes: { cin: 'not a cin', lastNameLatin: 'Alaoui' } }] });
    expect(badCin).not.toHaveProperty('quarantine');
  });

  it('XML with a DOCTYPE is refused before parsing, and so is one with an entity declaration or reference', async () => {
    const doctype = `<?xml version="1.0"?>\n<!DOCTYPE corrections [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<corrections office="dr-01" referential="persons"><record sourceId="P1" sourceVersion="1"><cin>&x;</cin></record></corrections>`;
    expect(await readDropFile(drop('persons-doctype.xml', doctype), tanger)).toMatchObject({ quarantine: { refused: 'doctype', problems: [{ line: 2, field: 'file' }] } });
    const entity = `<?xml version="1.0"?>\n<!ENTITY lol "lol">\n<corrections office="dr-01" referential="persons"/>`;
    expect(await readDropFile(drop('persons-entity.xml', entity), tanger)).toMatchObject({ quarantine: { refused: 'entity', problems: [{ line: 2 }] } });
    const reference = xmlPersons(xmlPerson('P1', 'AB1001').replace('Amina', '&lol;'));
    expect(await readDropFile(drop('persons-ref.xml', reference), tanger)).toMatchObject({ quarantine: { refused: 'entity', problems: [{ line: 5, reason: expect.stringContaining('&lol;') }] } });
    const pi = xmlPersons(`<?xml-stylesheet href="x"?>${xmlPerson('P1', 'AB1001')}`);
    expect(await readDropFile(drop('persons-pi.xml', pi), tanger)).toMatchObject({ quarantine: { refused: 'processing-instruction' } });
    // The five predefined references and character references are text as usual.
    const fine = xmlPersons(xmlPerson('P1', 'AB1001').replace('Amina', 'Am&#105;na &amp; co'));
    expect(await readDropFile(drop('persons-fine.xml', fine), tanger)).toMatchObject({ records: [{ attributes: { firstNameLatin: 'Amina & co' } }] });
  });

  it('XML nested too deep, or larger than the limit, or with too many records, is refused', async () => {
    const deep = xmlPersons(`<record sourceId="P1" sourceVersion="1">${'<a>'.repeat(10)}x${'</a>'.repeat(10)}</record>`);
    expect(await readDropFile(drop('persons-deep.xml', deep), tanger)).toMatchObject({ quarantine: { refused: 'too-deep', problems: [{ line: 3 }] } });
    const big = xmlPersons(Array.from({ length: 50 }, (_, i) => xmlPerson(`P${i}`, `AB${1000 + i}`)).join('\n'));
    const path = drop('persons-big.xml', big);
    expect(await readDropFile(path, tanger, { maxBytes: 1024, maxDepth: 6, maxRecords: 1000 })).toMatchObject({ quarantine: { refused: 'too-large', problems: [{ field: 'file', reason: expect.stringContaining('more than 1024') }] } });
    expect(await readDropFile(path, tanger, { maxBytes: 1 << 20, maxDepth: 6, maxRecords: 10 })).toMatchObject({ quarantine: { refused: 'too-many-records' } });
    expect(await readDropFile(path, tanger, { maxBytes: 1 << 20, maxDepth: 6, maxRecords: 50 })).toMatchObject({ referential: 'persons' });
  });

  it("a file holding a record of another office's territory is refused, and one signed by another office", async () => {
    const csv = await readDropFile(drop('persons-0005.csv', `${personsHeader}\nP1,1,AB1001,Amina,Alaoui,1980-01-01,rue 1,${assilah}\nP2,1,CD2002,Karim,Bennani,1970-02-02,rue 2,${rabat}\n`), tanger);
    expect(csv).toMatchObject({ quarantine: { refused: 'territory', problems: [{ line: 3, field: 'commune', reason: `${rabat} is outside the office's territory 01` }] } });
    const xml = await readDropFile(drop('persons-other.xml', xmlPersons(xmlPerson('P1', 'AB1001'), 'dr-04')), tanger);
    expect(xml).toMatchObject({ quarantine: { refused: 'territory', problems: [{ field: 'office' }] } });
    // A province's office answers for its province only.
    const province = await readDropFile(drop('persons-0006.csv', `${personsHeader}\nP1,1,AB1001,Amina,Alaoui,1980-01-01,rue 1,${assilah}\n`), regionalOffice('01.571'));
    expect(province).toMatchObject({ quarantine: { refused: 'territory' } });
  });

  it('a good XML file of vehicles reads nested elements; the records carry the office source and version', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<corrections office="dr-01" referential="vehicles">\n  <record sourceId="V1" sourceVersion="4">\n    <plate>12345-أ-6</plate>\n    <make>dacia</make>\n    <owner><type>person</type><cin>AB1001</cin></owner>\n    <commune>${assilah}</commune>\n  </record>\n</corrections>\n`;
    const read = await readDropFile(drop('vehicles-0001.xml', xml), tanger);
    expect(read).toEqual({
      referential: 'vehicles',
      records: [{ referential: 'vehicles', sourceSystem: regionalSourceSystem, sourceId: 'dr-01/V1', sourceVersion: '4', line: 3, attributes: { plate: '12345-أ-6', make: 'dacia', owner: { type: 'person', cin: 'AB1001' }, commune: assilah } }],
    });
  });
});

describe.each(drivers())('a regional office drop folder on %s', (driver) => {
  let t!: TestDb;
  referentialsDbPerBlock(driver, (db) => (t = db));

  const goldenCount = async () => Number((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ref_golden')).rows[0]?.n);

  it('quarantines a malformed file whole (report beside it), applies nothing of it, and applies the good ones', async () => {
    drop('persons-0001.csv', `${personsHeader}\nP1,1,AB1001,Amina,Alaoui,1980-01-01,rue 1,${assilah}\nP2,1,CD2002,Ka"rim,Bennani,1970-02-02,rue 2,${assilah}\n`);
    drop('persons-0002.csv', `${personsHeader}\nP3,1,EF3003,Youssef,Chraibi,1960-03-03,"12, rue des Orangers",${assilah}\n`);
    drop('persons-0003.xml', xmlPersons(xmlPerson('P4', 'GH4004')));
    drop('persons-0004.csv', `${personsHeader}\nP5,1,IJ5005,Salma,Idrissi,1991-04-04,rue 5,${rabat}\n`);
    const pass = await applyDropFolder(t.db, outbox, tanger);
    expect(pass.quarantined.map((q) => [q.file, q.refused])).toEqual([
      ['persons-0001.csv', 'malformed'],
      ['persons-0004.csv', 'territory'],
    ]);
    expect(pass.applied.map((a) => [a.file, a.outcomes.map((o) => o.ok && o.decision)])).toEqual([
      ['persons-0002.csv', ['created']],
      ['persons-0003.xml', ['created']],
    ]);
    expect(filesIn('quarantine')).toEqual(['persons-0001.csv', 'persons-0001.csv.report.json', 'persons-0004.csv', 'persons-0004.csv.report.json']);
    expect(filesIn('done')).toEqual(['persons-0002.csv', 'persons-0003.xml']);
    expect(readReport('persons-0001.csv')).toMatchObject({ file: 'persons-0001.csv', office: 'dr-01', problems: [{ line: 3, field: 'line' }] });
    // Nothing of the quarantined files: P1 (a good line of a bad file) is not in the referential.
    expect(await findBySource(t.db, 'persons', { system: regionalSourceSystem, id: officeSourceId(tanger, 'P1') })).toBeUndefined();
    expect(await findBySource(t.db, 'persons', { system: regionalSourceSystem, id: officeSourceId(tanger, 'P5') })).toBeUndefined();
    const p3 = await findBySource(t.db, 'persons', { system: regionalSourceSystem, id: officeSourceId(tanger, 'P3') });
    expect(p3?.attributes.address?.value).toBe('12, rue des Orangers');
    expect(await goldenCount()).toBe(2);
    // A second pass finds nothing left to do.
    expect(await applyDropFolder(t.db, outbox, tanger)).toEqual({ applied: [], quarantined: [] });
  });

  it('a correction that conflicts with the civil registry loses and is in the review queue; one that agrees is not', async () => {
    const registry = await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 'RC-1', attributes: { cin: 'AB1001', firstNameLatin: 'Amina', lastNameLatin: 'Alaoui', birthDate: '1980-01-01' } });
    await contribute(t.db, persons, { sourceSystem: 'civil-registry', sourceId: 'RC-2', attributes: { cin: 'CD2002', firstNameLatin: 'Karim', lastNameLatin: 'Bennani', birthDate: '1970-02-02' } });
    // P1 misspells the last name the registry holds; P2 agrees with it and adds an address (the registry has none).
    drop('persons-0001.csv', `${personsHeader}\nP1,2,AB1001,Amina,Alaoui-Tazi,1980-01-01,rue 1,${assilah}\nP2,1,CD2002,Karim,Bennani,1970-02-02,rue 2,${assilah}\n`);
    const pass = await applyDropFolder(t.db, outbox, tanger);
    expect(pass.applied[0]?.outcomes.map((o) => o.ok && o.decision)).toEqual(['linked-identifier', 'linked-identifier']);
    const golden = await getGolden(t.db, 'persons', registry.goldenId);
    expect(golden?.attributes.lastNameLatin).toMatchObject({ value: 'Alaoui', source: { system: 'civil-registry', id: 'RC-1' } });
    // The office's address survives where no more trusted source has one.
    expect(golden?.attributes.address).toMatchObject({ value: 'rue 1', source: { system: regionalSourceSystem, id: 'dr-01/P1' } });
    expect(pass.applied[0]?.conflicts).toEqual([
      { sourceId: 'dr-01/P1', goldenId: registry.goldenId, reviewId: expect.any(String), conflicts: [{ attribute: 'lastNameLatin', given: 'Alaoui-Tazi', kept: 'Alaoui', keptFrom: { system: 'civil-registry', id: 'RC-1' } }] },
    ]);
    const queue = await reviewQueue(t.db, 'persons', { status: 'open' });
    expect(queue).toEqual([expect.objectContaining({ source: { system: regionalSourceSystem, id: 'dr-01/P1' }, goldenId: registry.goldenId, candidates: [], status: 'open' })]);
    // The same file again: nothing changes, no second item.
    drop('persons-0002.csv', `${personsHeader}\nP1,2,AB1001,Amina,Alaoui-Tazi,1980-01-01,rue 1,${assilah}\n`);
    const again = await applyDropFolder(t.db, outbox, tanger);
    expect(again.applied[0]?.outcomes.map((o) => o.ok && o.decision)).toEqual(['unchanged']);
    expect(await reviewQueue(t.db, 'persons', { status: 'open' })).toHaveLength(1);
  });

  it('a good XML file of vehicles is contributed (the office commune is not an attribute) and moved to done/', async () => {
    await contribute(t.db, vehicles, { sourceSystem: 'narsa', sourceId: 'N-1', attributes: { plate: '12345-أ-6', make: 'DACIA', model: 'LOGAN' } });
    drop('vehicles-0001.xml', `<?xml version="1.0" encoding="UTF-8"?>\n<corrections office="dr-01" referential="vehicles">\n  <record sourceId="V1" sourceVersion="1">\n    <plate>12345-أ-6</plate>\n    <make>renault</make>\n    <owner><type>person</type><cin>AB1001</cin></owner>\n    <commune>${assilah}</commune>\n  </record>\n</corrections>\n`);
    const pass = await applyDropFolder(t.db, outbox, tanger);
    expect(filesIn('done')).toEqual(['vehicles-0001.xml']);
    const golden = await findBySource(t.db, 'vehicles', { system: regionalSourceSystem, id: 'dr-01/V1' });
    expect(golden?.attributes.make).toMatchObject({ value: 'DACIA', source: { system: 'narsa' } });
    expect(golden?.attributes.owner).toMatchObject({ value: { type: 'person', cin: 'AB1001' }, source: { system: regionalSourceSystem } });
    expect(golden?.attributes.commune).toBeUndefined();
    expect(pass.applied[0]?.conflicts.map((c) => c.conflicts.map((x) => x.attribute))).toEqual([['make']]);
  });
});

describe('the regional office simulator', () => {
  const change = (seq: number, goldenId: string, version: number, lastName: string): ChangeLine => ({
    id: `sub:${seq}`,
    seq,
    type: version === 1 ? 'golden.created' : 'golden.updated',
    goldenId,
    version,
    at: `2025-06-01T10:00:${String(seq).padStart(2, '0')}Z`,
    record: { goldenId, version, status: 'active', mergedInto: null, attributes: { cin: 'AB1001', lastNameLatin: lastName, addressCommune: assilah } },
  });
  const writeChanges = (inbox: string, name: string, lines: ChangeLine[]) => writeFileSync(join(inbox, 'persons', name), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

  it('applies change files in number order, remembers the last, and resumes after a restart', async () => {
    const office = await new RegionalOfficeSimulator(tanger, dir).init();
    // Written out of order, and numbered so that name order is not number order.
    writeChanges(office.inbox, 'changes-10.ndjson', [change(3, 'g1', 3, 'ALAOUI-3')]);
    writeChanges(office.inbox, 'changes-9.ndjson', [change(1, 'g1', 1, 'ALAOUI-1'), change(2, 'g1', 2, 'ALAOUI-2')]);
    expect(await office.readChanges()).toEqual([
      { referential: 'persons', file: 'changes-9.ndjson', changes: 2 },
      { referential: 'persons', file: 'changes-10.ndjson', changes: 1 },
    ]);
    expect((await office.records()).personnes.g1).toMatchObject({ ref: 'g1', version: 3, donnees: { lastNameLatin: 'ALAOUI-3' } });
    expect((await office.state()).inboxes.persons).toEqual({ lastFile: { number: 10, name: 'changes-10.ndjson' }, lastSeq: 3 });

    // A new process on the same folder: files already applied are not read again; the next one is.
    const restarted = await new RegionalOfficeSimulator(tanger, dir).init();
    writeChanges(restarted.inbox, 'changes-11.ndjson', [change(3, 'g1', 3, 'seen'), change(4, 'g1', 4, 'ALAOUI-4')]);
    expect(await restarted.readChanges()).toEqual([{ referential: 'persons', file: 'changes-11.ndjson', changes: 2 }]);
    expect((await restarted.records()).personnes.g1).toMatchObject({ version: 4, donnees: { lastNameLatin: 'ALAOUI-4' } });
    expect(await restarted.readChanges()).toEqual([]);
  });

  it('works only while online: corrections made offline wait, then are dropped as files the reader accepts', async () => {
    const office = await new RegionalOfficeSimulator(tanger, dir, { periodMs: 1000, onlineMs: 400 }).init();
    await office.correct('persons', { localId: 'P1', version: 1, values: { cin: 'AB1001', firstNameLatin: 'Amina', lastNameLatin: 'Alaoui', addressCommune: assilah, address: '3, rue "Ibn Batouta", Assilah' } });
    expect(await office.tick(new Date(500))).toEqual({ online: false, applied: [], written: [] });
    expect(readdirSync(office.outbox)).toEqual([]);
    const online = await office.tick(new Date(1100));
    expect(online.written).toEqual(['persons-dr-01-000001.csv']);
    await office.correct('persons', { localId: 'P2', version: 1, values: { cin: 'CD2002', lastNameLatin: 'Bennani', addressCommune: assilah } });
    expect((await office.tick(new Date(2200))).written).toEqual(['persons-dr-01-000002.xml']);
    const csv = await readDropFile(join(office.outbox, 'persons-dr-01-000001.csv'), tanger);
    expect(csv).toMatchObject({ records: [{ sourceId: 'dr-01/P1', attributes: { address: '3, rue "Ibn Batouta", Assilah' } }] });
    const xml = await readDropFile(join(office.outbox, 'persons-dr-01-000002.xml'), tanger);
    expect(xml).toMatchObject({ records: [{ sourceId: 'dr-01/P2', attributes: { cin: 'CD2002' } }] });
  });
});

// The hub's own path (issue 14 item 5 on the adapter interface): the regional office adapter's drop folder, run by the
// hub's workers, feeding the ingest queue; a lost correction in the review queue (afterIngest); bad files quarantined.
const adapterSetups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];

describe.each(adapterSetups)('the regional office adapter on $name', (setup) => {
  let world!: ExchangeWorld;
  let root = '';
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'tabadol-office-adapter-'));
    world = await startExchangeWorld({ storage: setup.storage, redis: setup.redis, workers: true, env: { SYNC_TICK_MS: '50' }, referentials: referentialModules, syncAdapters: [regionalOfficeAdapter] });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const ingestedVersions = async () =>
    (await world.db.query<{ source_id: string; source_version: string; decision: string }>("SELECT source_id, source_version, decision FROM sync_ingested WHERE system = $1 ORDER BY source_id, source_version", [regionalSourceSystem])).rows;
  const inFolder = (sub: string): string[] => (existsSync(join(root, 'outbox', sub)) ? readdirSync(join(root, 'outbox', sub)).sort() : []);

  it('takes a good file in through the ingest queue, reviews its lost correction once, and quarantines bad files whole', async () => {
    const registry = await contribute(world.db, persons, { sourceSystem: 'civil-registry', sourceId: 'RC-1', attributes: { cin: 'AB1001', firstNameLatin: 'Amina', lastNameLatin: 'Alaoui', birthDate: '1980-01-01' } });
    const outboxDir = join(root, 'outbox');
    mkdirSync(outboxDir, { recursive: true });
    // Files first, then the configuration: the adapter reads nothing until it knows its folder and territory.
    writeFileSync(join(outboxDir, 'persons-0001.csv'), `${personsHeader}\nP1,2,AB1001,Amina,Alaoui-Tazi,1980-01-01,rue 1,${assilah}\nP2,1,CD2002,Karim,Bennani,1970-02-02,rue 2,${assilah}\n`);
    writeFileSync(join(outboxDir, 'persons-0002.csv'), `${personsHeader}\nP5,1,IJ5005,Salma,Idrissi,1991-04-04,rue 5,${rabat}\n`);
    writeFileSync(join(outboxDir, 'persons-0003.xml'), `<?xml version="1.0"?>\n<!DOCTYPE corrections [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<corrections office="dr-01" referential="persons"><record sourceId="P6" sourceVersion="1"><cin>&x;</cin></record></corrections>`);
    await configureAdapter(world.db, regionalOfficeAdapter, { root, territory: '01' });

    await waitFor(() => expect(inFolder('quarantine')).toEqual(['persons-0002.csv', 'persons-0002.csv.report.json', 'persons-0003.xml', 'persons-0003.xml.report.json']), 'the bad files in quarantine/');
    expect(inFolder('done')).toEqual(['persons-0001.csv']);
    const report = JSON.parse(readFileSync(join(outboxDir, 'quarantine', 'persons-0002.csv.report.json'), 'utf8')) as { problems: Array<{ line: number; reason: string }> };
    expect(report.problems).toEqual([{ line: 2, reason: `territory: commune: ${rabat} is outside the office's territory 01` }]);
    expect(JSON.parse(readFileSync(join(outboxDir, 'quarantine', 'persons-0003.xml.report.json'), 'utf8'))).toMatchObject({ problems: [{ line: 2, reason: expect.stringMatching(/^doctype: file: /) }] });

    await waitFor(async () => (await ingestedVersions()).length === 2, 'the good file taken in');
    expect(await ingestedVersions()).toEqual([
      { source_id: 'dr-01/P1', source_version: '2', decision: 'linked-identifier' },
      { source_id: 'dr-01/P2', source_version: '1', decision: 'created' },
    ]);
    // Survivorship kept the registry's name; the office's lost correction is in review, its address survives.
    const golden = await getGolden(world.db, 'persons', registry.goldenId);
    expect(golden?.attributes.lastNameLatin).toMatchObject({ value: 'Alaoui', source: { system: 'civil-registry' } });
    expect(golden?.attributes.address).toMatchObject({ value: 'rue 1', source: { system: regionalSourceSystem, id: 'dr-01/P1' } });
    const queue = await reviewQueue(world.db, 'persons', { status: 'open' });
    expect(queue).toEqual([expect.objectContaining({ source: { system: regionalSourceSystem, id: 'dr-01/P1' }, goldenId: registry.goldenId, candidates: [] })]);
    // Nothing of the quarantined files reached the referential.
    expect(await findBySource(world.db, 'persons', { system: regionalSourceSystem, id: 'dr-01/P5' })).toBeUndefined();

    // The same version dropped again: taken once, no second review item; a new version goes through again.
    writeFileSync(join(outboxDir, 'persons-0004.csv'), `${personsHeader}\nP1,2,AB1001,Amina,Alaoui-Tazi,1980-01-01,rue 1,${assilah}\n`);
    writeFileSync(join(outboxDir, 'persons-0005.csv'), `${personsHeader}\nP1,3,AB1001,Amina,Alaoui-Tazi,1980-01-01,rue 1,${assilah}\n`);
    await waitFor(async () => (await ingestedVersions()).some((r) => r.source_id === 'dr-01/P1' && r.source_version === '3'), 'version 3 taken in');
    await waitFor(async () => (await world.db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE topic = 'ingest.regional-offices' AND delivered_at IS NULL")).rows[0]?.n === 0, 'every ingest job done');
    expect(inFolder('done')).toEqual(['persons-0001.csv', 'persons-0004.csv', 'persons-0005.csv']);
    expect(await reviewQueue(world.db, 'persons', { status: 'open' })).toHaveLength(1);
  }, 120_000);
});
