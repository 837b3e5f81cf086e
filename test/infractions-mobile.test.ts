// The road agents' app's own parts (issue 15 item 2), without a hub: its journal on the terminal (a restart, a write
// torn by a power cut, a corrupt line), the checks it makes as the agent types, the system's RecordInfractions and
// GetPlateCheck (WSDL, client faults, dedup per channel, agent and row id), and the binding refusing an answer that
// does not account for every row sent (a real SOAP server answering short).
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTicket, RecordError, RoadAgentApp, type HubCaller } from '../adapters/infractions-mobile/app.ts';
import { Journal, JournalCorruptError } from '../adapters/infractions-mobile/journal.ts';
import { infractionsBinding } from '../adapters/infractions/binding.ts';
import { recordInfractions, recordInfractionsEnvelope } from '../adapters/infractions/roadside.ts';
import { soapEnvelope, startInfractionsSimulator, type InfractionsSimulator } from '../adapters/infractions/simulator.ts';
import { callSoapEnvelope, SoapError } from '../adapters/infractions/soap.ts';
import type { ProviderRequest } from '../src/exchange/bindings.ts';

const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tabadol-mobile-unit-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A hub nobody reaches: the terminal is out of coverage (a real refused connection, not a mock). */
const nowhere: HubCaller = {
  call: async () => {
    await fetch('http://127.0.0.1:9/');
    throw new Error('unreachable');
  },
};
const recent = (): string => `${new Date(Date.now() - 20 * 60_000 + 3_600_000).toISOString().slice(0, 19)}+01:00`;
const ticket = { issuedAt: '2026-03-04T09:00:00+01:00', communeCode: '06.141.01.0', plate: '12345-أ-6', offenceCode: 'V-20' };

describe('the terminal\'s journal', () => {
  it('keeps recorded tickets across a restart, in order, with their ids', () => {
    const dir = dataDir();
    const app = new RoadAgentApp({ dataDir: dir, agentId: 'AGT-1', hub: nowhere });
    const ids = [app.record(ticket), app.record({ ...ticket, plate: '4567-B-1', driverCin: 'BK123456' })];
    app.close();
    const again = new RoadAgentApp({ dataDir: dir, agentId: 'AGT-1', hub: nowhere });
    expect(again.tickets().map((t) => [t.rowId, t.state, t.row.plate])).toEqual([
      [ids[0], 'pending', '12345-أ-6'],
      [ids[1], 'pending', '4567-B-1'],
    ]);
    again.close();
  });

  it('cuts off a last line torn by a power cut, and goes on appending after it', () => {
    const dir = dataDir();
    const app = new RoadAgentApp({ dataDir: dir, agentId: 'AGT-1', hub: nowhere });
    const id = app.record(ticket);
    app.close();
    const path = join(dir, 'journal.jsonl');
    appendFileSync(path, '{"t":"recorded","row":{"rowId":"torn');
    const again = new RoadAgentApp({ dataDir: dir, agentId: 'AGT-1', hub: nowhere });
    expect(again.tickets().map((t) => t.rowId)).toEqual([id]);
    const next = again.record(ticket);
    again.close();
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as { row: { rowId: string } }).row.rowId)).toEqual([id, next]);
  });

  it('refuses to open over a corrupt line rather than drop what it says', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'journal.jsonl'), '{"t":"recorded","row":{}}\n');
    expect(() => new RoadAgentApp({ dataDir: dir, agentId: 'AGT-1', hub: nowhere })).toThrow(JournalCorruptError);
    expect(() => Journal.open(join(dir, 'journal.jsonl'), (v) => v)).not.toThrow();
  });

  it('seals the pending tickets into one batch before sending, and keeps it sealed when the hub is out of reach', async () => {
    const app = new RoadAgentApp({ dataDir: dataDir(), agentId: 'AGT-1', hub: nowhere });
    app.record(ticket);
    expect(await app.upload()).toEqual({ outcome: 'offline', batches: [], kept: 1 });
    app.record(ticket);
    expect(app.tickets().map((t) => t.state)).toEqual(['sealed', 'pending']);
    app.close();
  });
});

describe('the checks the terminal makes as the agent types', () => {
  it.each([
    [{ issuedAt: '04/03/2026 09:00' }, 'issuedAt'],
    [{ communeCode: 'Rabat' }, 'communeCode'],
    [{ plate: 'ABC' }, 'plate'],
    [{ driverCin: '123' }, 'driverCin'],
    [{ offenceCode: 'speeding' }, 'offenceCode'],
  ])('refuses %o naming %s', (change, field) => {
    expect(() => checkTicket({ ...ticket, ...change })).toThrow(RecordError);
    try {
      checkTicket({ ...ticket, ...change });
    } catch (err) {
      expect((err as RecordError).field).toBe(field);
    }
  });

  it('takes both plate notations', () => {
    expect(() => checkTicket({ ...ticket, plate: '12345-A-6' })).not.toThrow();
    expect(() => checkTicket({ ...ticket, plate: '12345-أ-6' })).not.toThrow();
  });
});

describe('the system\'s RecordInfractions and GetPlateCheck', () => {
  let sim: InfractionsSimulator;
  beforeAll(async () => {
    sim = await startInfractionsSimulator();
  });
  afterAll(async () => {
    await sim.close();
  });
  const options = { timeoutMs: 2000 };
  const row = (rowId: string, extra: Record<string, string> = {}) => ({ rowId, issuedAt: recent(), communeCode: '06.141.01.0', plate: '12345-A-6', offenceCode: 'V-20', ...extra });

  it('lists both operations in its WSDL', async () => {
    const wsdl = await (await fetch(`${sim.url}?wsdl`)).text();
    expect(wsdl).toContain('<wsdl:operation name="RecordInfractions">');
    expect(wsdl).toContain('<wsdl:operation name="GetPlateCheck">');
  });

  it('creates each row once per channel, agent and row id, and names the field of a row it refuses', async () => {
    const batch = { channel: 'MA/GOV/METLE/infractions-mobile', agent: 'AGT-1', batchId: 'batch-00000001', rows: [row('row-00000001'), row('row-00000002', { plate: 'XYZ' }), row('row-00000003', { driverCin: '0000' })] };
    const first = await recordInfractions(sim.url, batch, options);
    expect(first).toEqual([
      { rowId: 'row-00000001', outcome: 'created', ticketNumber: expect.stringMatching(/^PV-2026-/) },
      { rowId: 'row-00000002', outcome: 'rejected', field: 'plate', reason: expect.any(String) },
      { rowId: 'row-00000003', outcome: 'rejected', field: 'driverCin', reason: expect.any(String) },
    ]);
    const again = await recordInfractions(sim.url, batch, options);
    expect(again[0]).toEqual({ ...first[0], outcome: 'duplicate' });
    expect(sim.store.agentBatches.ticketsCreated).toBe(1);
    // The same row id from another app's channel is another row.
    await recordInfractions(sim.url, { ...batch, channel: 'MA/GOV/DGSN/controle-routier', rows: [row('row-00000001')] }, options);
    expect(sim.store.agentBatches.ticketsCreated).toBe(2);
  });

  it('answers a client fault, creating nothing, for a request without its batch id or with more rows than it takes', async () => {
    const created = sim.store.agentBatches.ticketsCreated;
    const noBatchId = recordInfractionsEnvelope({ channel: 'c', agent: 'a', batchId: '', rows: [row('row-00000009')] });
    await expect(callSoapEnvelope(sim.url, 'RecordInfractions', noBatchId, options)).rejects.toMatchObject({ failure: 'fault', faultCode: 'Client' });
    const tooMany = { channel: 'c', agent: 'a', batchId: 'batch-big-000001', rows: Array.from({ length: 101 }, (_, i) => row(`row-big-${String(i).padStart(6, '0')}`)) };
    await expect(recordInfractions(sim.url, tooMany, options)).rejects.toMatchObject({ failure: 'fault', faultCode: 'Client' });
    expect(sim.store.agentBatches.ticketsCreated).toBe(created);
  });

  it('answers the owner today and the unpaid tickets of a plate, the ticket it holds twice once', () => {
    const check = sim.store.plateCheck('9876-D-33', '2026-06-01');
    expect(check.ownerCin).toBe('J456789');
    expect(check.unpaid.map((t) => t.offenceCode)).toEqual(['C-01']);
  });
});

describe('an answer that does not account for every row', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    // A system answering one Result for a batch of two (a real SOAP server, as a buggy legacy service would).
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(
          soapEnvelope('<inf:RecordInfractionsResponse><inf:BatchId>b</inf:BatchId><inf:Results><inf:Result><inf:RowId>row-00000001</inf:RowId><inf:Outcome>created</inf:Outcome><inf:TicketNumber>PV-1</inf:TicketNumber></inf:Result></inf:Results></inf:RecordInfractionsResponse>'),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('is unusable as a whole: the binding answers provider-response-invalid (502)', async () => {
    const rows = [
      { rowId: 'row-00000001', ...ticket },
      { rowId: 'row-00000002', ...ticket },
    ];
    await expect(recordInfractions(url, { channel: 'c', agent: 'a', batchId: 'batch-00000001', rows }, { timeoutMs: 2000 })).rejects.toBeInstanceOf(SoapError);
    const binding = infractionsBinding({ endpoint: url, timeoutMs: 2000 });
    const request: ProviderRequest = {
      serviceId: 'MA/GOV/METLE/infractions/tickets',
      operationId: 'recordInfractionBatch',
      pathParams: {},
      method: 'POST',
      pathAndQuery: '/infraction-batches',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ batchId: 'batch-00000001', agentId: 'AGT-1', rows })),
      client: 'MA/GOV/METLE/infractions-mobile',
      purpose: 'roadside-enforcement',
      requestId: 'r1',
    };
    const answer = await binding.handle(request, AbortSignal.timeout(5000));
    expect(answer.status).toBe(502);
    expect(JSON.parse(Buffer.from(answer.body).toString('utf8')).type).toMatch(/provider-response-invalid$/);
  });
});
