// The infractions system's SOAP service (issue 15 item 1): the simulator's contract (WSDL, envelopes, faults, owners
// over time) and the client's refusals (DOCTYPE, entities, processing instructions, too deep, too large, truncated,
// an HTML page with a 200, Windows-1256 declared), each a typed SoapError; and the adapter's mapping of tickets to
// vehicles and persons.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeInfractionsAdapter, ownershipChange, ticketRecords } from '../adapters/infractions/adapter.ts';
import { startInfractionsSimulator, type InfractionsSimulator } from '../adapters/infractions/simulator.ts';
import { buildEnvelope, callSoap, parseAnswer, SoapError, type SoapFailure } from '../adapters/infractions/soap.ts';
import { soapEnvelope } from '../adapters/infractions/simulator.ts';
import { recordOwnershipChange, ticketsByCin, ticketsByPlate, ticketsSince } from '../adapters/infractions/tickets.ts';

const xml = 'text/xml; charset=utf-8';
const envelope = (body: string) => `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${body}</soap:Body></soap:Envelope>`;

async function failure(promise: Promise<unknown>): Promise<SoapError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SoapError)) throw new Error(`expected a SoapError, got ${String(err)}`);
  return err;
}

const refusedWith = async (text: string, expected: SoapFailure, contentType = xml, maxDepth?: number) =>
  expect((await failure(parseAnswer(Buffer.from(text), contentType, maxDepth))).failure).toBe(expected);

describe('the infractions SOAP simulator', () => {
  let sim!: InfractionsSimulator;
  const options = { timeoutMs: 5000 };
  beforeAll(async () => {
    sim = await startInfractionsSimulator();
  });
  afterAll(async () => {
    await sim?.close();
  });
  afterEach(() => {
    sim.fault = 'none';
  });

  it('publishes a WSDL naming its operations and its address', async () => {
    const answer = await fetch(`${sim.url}?wsdl`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/xml/);
    const wsdl = await answer.text();
    for (const op of ['GetInfractionsByPlate', 'GetInfractionsByCin', 'ListInfractionsSince', 'RecordOwnershipChange']) expect(wsdl).toContain(`<wsdl:operation name="${op}">`);
    expect(wsdl).toContain(`<soap:address location="${sim.url}"/>`);
  });

  it('answers tickets by plate in either notation, by CIN with the licence points, and pages its changes with a cursor', async () => {
    const latin = await ticketsByPlate(sim.url, '12345-A-6', options);
    const arabic = await ticketsByPlate(sim.url, '12345-أ-6', options);
    expect(latin.map((t) => t.ticketNumber)).toEqual(arabic.map((t) => t.ticketNumber));
    expect(latin.map((t) => t.source)).toEqual(['agent', 'speed-camera']);
    const camera = latin[1];
    expect(camera?.driverCin).toBeUndefined();
    expect(camera?.ownerCin).toBe('BK123456');
    expect(camera?.offence).toEqual({ code: 'V-20', label: 'Excès de vitesse de moins de 20 km/h' });

    const byCin = await ticketsByCin(sim.url, 'EE998877', options);
    expect(byCin.tickets.map((t) => [t.plate, t.driverNameArabic])).toEqual([['4567-ب-1', 'فاطمة الزهراء بناني']]);
    expect(byCin.licencePoints).toBe(28);

    const first = await ticketsSince(sim.url, 0, 4, options);
    expect(first.tickets).toHaveLength(4);
    expect(first.more).toBe(true);
    const rest = await ticketsSince(sim.url, first.cursor, 4, options);
    expect(rest.more).toBe(false);
    // The duplicate ticket: one number, twice.
    expect(rest.tickets.map((t) => t.ticketNumber)).toEqual([rest.tickets[0]?.ticketNumber, rest.tickets[0]?.ticketNumber]);
    expect(await ticketsSince(sim.url, rest.cursor, 4, options)).toEqual({ tickets: [], cursor: rest.cursor, more: false, epoch: sim.store.epoch });
  });

  it('addresses a ticket to the owner at the date of the offence once an ownership change is recorded, idempotently', async () => {
    expect(await recordOwnershipChange(sim.url, { plate: '12345-أ-6', ownerCin: 'CD111222', effectiveDate: '2026-05-01' }, options)).toBe(true);
    expect(await recordOwnershipChange(sim.url, { plate: '12345-A-6', ownerCin: 'CD111222', effectiveDate: '2026-05-01' }, options)).toBe(false);
    const before = sim.store.add({ issuedAt: '2026-04-30T10:00:00+01:00', communeCode: '04.421.01.0', plate: '12345-A-6', offenceCode: 'V-20', source: 'speed-camera' });
    const after = sim.store.add({ issuedAt: '2026-05-02T10:00:00+01:00', communeCode: '04.421.01.0', plate: '12345-A-6', offenceCode: 'V-20', source: 'speed-camera' });
    expect(before.ownerCin).toBe('BK123456');
    expect(after.ownerCin).toBe('CD111222');
    expect(sim.store.ownershipChanges).toEqual([{ plate: '12345-أ-6', ownerCin: 'CD111222', from: '2026-05-01' }]);
  });

  it('answers a SOAP Fault: a client fault for a bad request, a server fault when switched on', async () => {
    const bad = await failure(callSoap(sim.url, 'GetInfractionsByPlate', { Plate: 'not a plate' }, options));
    expect([bad.failure, bad.faultCode]).toEqual(['fault', 'Client']);
    const unknown = await failure(callSoap(sim.url, 'DeleteEverything', {}, options));
    expect([unknown.failure, unknown.faultCode]).toEqual(['fault', 'Client']);
    sim.fault = 'soap-fault';
    const server = await failure(ticketsByPlate(sim.url, '12345-A-6', options));
    expect([server.failure, server.faultCode]).toEqual(['fault', 'Server']);
    expect(server.message).toMatch(/TNS:no listener/);
  });

  it.each([
    ['truncated', 'malformed'],
    ['html-200', 'not-soap'],
    ['charset', 'charset'],
  ] as const)('maps the simulator fault %s to %s', async (fault, expected) => {
    sim.fault = fault;
    expect((await failure(ticketsByPlate(sim.url, '12345-A-6', options))).failure).toBe(expected);
  });

  it('gives up on a slow answer with a timeout, and on a closed port as unreachable', async () => {
    sim.fault = 'slow';
    sim.slowMs = 1500;
    expect((await failure(ticketsByPlate(sim.url, '12345-A-6', { timeoutMs: 200 }))).failure).toBe('timeout');
    const closed = await startInfractionsSimulator();
    await closed.close();
    expect((await failure(ticketsByPlate(closed.url, '12345-A-6', options))).failure).toBe('unreachable');
  });

  it('refuses an answer larger than its limit without reading it all', async () => {
    expect((await failure(ticketsSince(sim.url, 0, 100, { timeoutMs: 5000, maxBytes: 512 }))).failure).toBe('too-large');
  });
});

describe('the SOAP client refuses before parsing', () => {
  it('a DOCTYPE, an entity declaration or reference, a processing instruction', async () => {
    await refusedWith(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><soap:Envelope xmlns:soap="s"><soap:Body><x>&e;</x></soap:Body></soap:Envelope>`, 'refused');
    await refusedWith(envelope('<R><A>&lol;</A></R>'), 'refused');
    await refusedWith(envelope('<?php echo 1 ?><R/>'), 'refused');
  });

  it('nesting deeper than its limit', async () => {
    const deep = `${'<a>'.repeat(40)}x${'</a>'.repeat(40)}`;
    await refusedWith(envelope(`<R>${deep}</R>`), 'refused');
    await expect(parseAnswer(Buffer.from(envelope('<R><A>1</A></R>')), xml, 6)).resolves.toEqual({ name: 'R', value: { A: '1' } });
  });

  it('a truncated envelope, no envelope at all, an HTML page, a charset other than UTF-8, bytes that are not UTF-8', async () => {
    await refusedWith(envelope('<R><A>1</A></R>').slice(0, 90), 'malformed');
    await refusedWith('<R><A>1</A></R>', 'malformed');
    await refusedWith('<html><body>Erreur</body></html>', 'not-soap', 'text/html');
    await refusedWith(envelope('<R/>'), 'charset', 'text/xml; charset=windows-1256');
    await refusedWith(envelope('<R/>').replace('UTF-8', 'windows-1256'), 'charset');
    expect((await failure(parseAnswer(Buffer.concat([Buffer.from(envelope('<R>')), Buffer.from([0xc7, 0xe1]), Buffer.from('</R>')]), xml))).failure).toBe('charset');
  });

  it('reads a Fault as a typed error with its code, and escapes what it sends', async () => {
    const fault = await failure(parseAnswer(Buffer.from(envelope('<soap:Fault><faultcode>soap:Server</faultcode><faultstring>down</faultstring></soap:Fault>')), xml));
    expect([fault.failure, fault.faultCode, fault.message]).toEqual(['fault', 'Server', 'SOAP Fault Server: down']);
    expect(buildEnvelope('GetInfractionsByCin', { Cin: '<x>&"' })).toContain('<inf:Cin>&#60;x&#62;&#38;&#34;</inf:Cin>');
    expect(() => buildEnvelope('Get><x', {})).toThrow(RangeError);
  });
});

describe('the adapter maps tickets to the referentials and vehicle changes to ownership changes', () => {
  const ticket = { ticketNumber: 'PV-1', issuedAt: '2026-01-01T10:00:00+01:00', communeCode: '06.141.01.0', offence: { code: 'V-20', label: 'x' }, amount: 300, points: 2, paymentState: 'unpaid', source: 'agent', sequence: 7 };

  it('gives the vehicle with its owner and the named driver; a camera ticket without a known owner gives the plate alone', () => {
    const records = ticketRecords({ ...ticket, plate: '4567-ب-1', ownerCin: 'AB654321', driverCin: 'EE998877', driverNameLatin: 'Fatima Zahra Bennani', driverNameArabic: 'فاطمة الزهراء بناني' });
    expect(records).toEqual([
      { referential: 'vehicles', sourceSystem: 'infractions', sourceId: 'plate:4567|B|1', sourceVersion: '7', attributes: { plate: '4567-ب-1', owner: { type: 'person', cin: 'AB654321' } } },
      { referential: 'persons', sourceSystem: 'infractions', sourceId: 'cin:EE998877', sourceVersion: '7', attributes: { cin: 'EE998877', firstNameLatin: 'Fatima', lastNameLatin: 'Zahra Bennani', firstNameArabic: 'فاطمة', lastNameArabic: 'الزهراء بناني' } },
    ]);
    expect(ticketRecords({ ...ticket, plate: '22222-و-40', source: 'speed-camera' })).toEqual([
      { referential: 'vehicles', sourceSystem: 'infractions', sourceId: 'plate:22222|W|40', sourceVersion: '7', attributes: { plate: '22222-و-40' } },
    ]);
    expect(ticketRecords({ ...ticket, plate: 'garbage', driverCin: '??' })).toEqual([]);
  });

  it('reads a pushed vehicle change with a person owner as an ownership change from the change date', () => {
    const change = { id: 'c', seq: 1, type: 'updated', goldenId: 'g', version: 2, at: '2026-05-01T09:00:00Z' };
    expect(ownershipChange({ ...change, record: { goldenId: 'g', version: 2, status: null, mergedInto: null, attributes: { plate: '12345-A-6', owner: { type: 'person', cin: 'CD111222' } } } })).toEqual({ plate: '12345-A-6', ownerCin: 'CD111222', effectiveDate: '2026-05-01' });
    expect(ownershipChange({ ...change, record: { goldenId: 'g', version: 2, status: null, mergedInto: null, attributes: { plate: '12345-A-6', owner: { type: 'company', ice: '001234567000089' } } } })).toBeUndefined();
    expect(ownershipChange(change)).toBeUndefined();
  });
});

describe('a page with one unreadable ticket', () => {
  it('is refused as a whole: the pull takes nothing in and gives no cursor', async () => {
    const good = '<Infraction><TicketNumber>PV-1</TicketNumber><IssuedAt>2026-01-01T10:00:00+01:00</IssuedAt><CommuneCode>06.141.01.0</CommuneCode><Plate>12345-A-6</Plate><OffenceCode>V-20</OffenceCode><OffenceLabel>x</OffenceLabel><Amount>300</Amount><Points>2</Points><PaymentState>unpaid</PaymentState><Source>speed-camera</Source><Sequence>1</Sequence></Infraction>';
    const bad = good.replace('<Plate>12345-A-6</Plate>', '').replace('<Sequence>1</Sequence>', '<Sequence>2</Sequence>');
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(soapEnvelope(`<inf:ListInfractionsSinceResponse><Cursor>2</Cursor><More>false</More><inf:Infractions>${good}${bad}</inf:Infractions></inf:ListInfractionsSinceResponse>`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/InfractionsService`;
      const adapter = makeInfractionsAdapter();
      const ctx = { config: { endpoint, pageSize: 100, timeoutMs: 2000 }, logger: pino({ level: 'silent' }), signal: AbortSignal.timeout(5000) };
      const err = await failure(adapter.pull?.run(ctx, null) ?? Promise.resolve());
      expect([err.failure, err.message]).toEqual(['malformed', 'an Infraction without Plate']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
