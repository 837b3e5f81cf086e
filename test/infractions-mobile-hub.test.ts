// The road agents' mobile app « INFRACTIONS ROUTIERES » (issue 15 item 2) against a real hub and the infractions SOAP
// simulator: tickets recorded offline survive a restart and go as one signed batch; a batch sent again (after a
// timeout that the system had in fact applied) or overlapping an earlier one creates nothing twice; a row the system
// rejects is kept for the agent to fix; a malformed batch is a 400 naming the row and the field; a plate check is
// minimised to the convention's fields; another purpose is refused; the system down keeps the batch for the next try.
// Under the committed convention contracts/MA.GOV.METLE.infractions/tickets/conventions/MA.GOV.METLE.infractions-mobile.yaml.
// On PGlite with the in-process queue and, when present, on PostgreSQL + Redis.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mobilePurpose, mobileSubsystem, RoadAgentApp, ticketsService, type HubCaller } from '../adapters/infractions-mobile/app.ts';
import { infractionsBinding, infractionsBindingName, infractionsProvider, infractionsService } from '../adapters/infractions/binding.ts';
import { startInfractionsSimulator, type InfractionsSimulator } from '../adapters/infractions/simulator.ts';
import { TabadolClient } from '../src/client/index.ts';
import { startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';
import { hasServer } from './helpers/servers.ts';

const setups = [
  { name: 'PGlite, in-process queue', storage: 'pglite' as const, redis: false },
  ...(hasServer('postgres') && hasServer('redis') ? [{ name: 'PostgreSQL + Redis', storage: 'pg' as const, redis: true }] : []),
];

/** An offence a few minutes ago, in Moroccan time, as the terminal writes it. */
const minutesAgo = (n: number): string => `${new Date(Date.now() - n * 60_000 + 3_600_000).toISOString().slice(0, 19)}+01:00`;
const ticket = (plate: string, offenceCode = 'V-20', extra: { driverCin?: string } = {}) => ({ issuedAt: minutesAgo(30), communeCode: '06.141.01.0', plate, offenceCode, ...extra });

describe.each(setups)('the infractions mobile app through a hub on $name', (setup) => {
  let world!: ExchangeWorld;
  let sim!: InfractionsSimulator;
  let mobile!: Consumer;
  let hub!: HubCaller;
  const dirs: string[] = [];
  const apps: RoadAgentApp[] = [];

  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabadol-mobile-'));
    dirs.push(dir);
    return dir;
  };
  const open = (dir: string, caller: HubCaller = hub, agentId = 'AGT-04512') => {
    const app = new RoadAgentApp({ dataDir: dir, agentId, hub: caller });
    apps.push(app);
    return app;
  };
  const created = () => sim.store.agentBatches.ticketsCreated;
  const post = async (body: unknown) =>
    world.send(await world.sign(mobile.identity, { method: 'POST', target: `/x/v1/${ticketsService}/infraction-batches`, purpose: mobilePurpose, body: JSON.stringify(body) }));

  beforeAll(async () => {
    sim = await startInfractionsSimulator();
    world = await startExchangeWorld({
      storage: setup.storage,
      redis: setup.redis,
      adapters: { [infractionsBindingName]: infractionsBinding({ endpoint: sim.url, timeoutMs: 1000 }) },
    });
    await world.registerConsumer(infractionsProvider);
    mobile = await world.registerConsumer(mobileSubsystem);
    await world.activate(join(world.contractsDir, 'MA.GOV.METLE.infractions', 'tickets', 'conventions', 'MA.GOV.METLE.infractions-mobile.yaml'));
    await world.bind(infractionsService, { kind: 'adapter', adapter: infractionsBindingName, timeoutMs: 5000 });
    hub = mobile.client();
  }, 120_000);
  afterAll(async () => {
    for (const app of apps) app.close();
    await world?.close();
    await sim?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    sim.fault = 'none';
  });

  it('records tickets offline, keeps them across a restart, and uploads them as one signed batch when back online', async () => {
    const dir = dataDir();
    const offline = new TabadolClient({ hubUrl: await world.closedPortUrl(), hubId: world.hubId, identity: mobile.identity });
    const terminal = open(dir, offline);
    const ids = [terminal.record(ticket('12345-أ-6', 'T-01', { driverCin: 'BK123456' })), terminal.record(ticket('4567-B-1', 'C-01')), terminal.record(ticket('9876-د-33', 'F-01'))];
    const before = created();
    expect(await terminal.upload()).toEqual({ outcome: 'offline', batches: [], kept: 3 });
    terminal.close();

    // The terminal restarts, back in coverage.
    const restarted = open(dir);
    expect(restarted.tickets().map((t) => [t.rowId, t.state])).toEqual(ids.map((id) => [id, 'sealed']));
    const report = await restarted.upload();
    expect(report.outcome).toBe('done');
    expect(report.kept).toBe(0);
    expect(report.batches).toEqual([{ batchId: expect.any(String), created: 3, duplicate: 0, rejected: 0 }]);
    expect(sim.store.agentBatches.received.at(-1)).toEqual({ channel: mobileSubsystem, agent: 'AGT-04512', batchId: report.batches[0]?.batchId, rows: 3 });
    expect(created() - before).toBe(3);
    const sent = restarted.tickets();
    expect(sent.every((t) => t.state === 'sent' && /^PV-2026-\d{6}$/.test(t.ticketNumber))).toBe(true);
    // Addressed by the system to the owner at the date of the offence, whichever notation the agent used.
    const first = sim.store.tickets.find((t) => t.number === (sent[0] as { ticketNumber: string }).ticketNumber);
    expect(first).toMatchObject({ plate: '12345-أ-6', ownerCin: 'BK123456', driverCin: 'BK123456', offenceCode: 'T-01', source: 'agent', paymentState: 'unpaid' });
    expect(await restarted.upload()).toEqual({ outcome: 'done', batches: [], kept: 0 });
  });

  it('creates nothing twice: a batch the system applied but answered too late is sent again as it was, and an overlapping batch', async () => {
    const terminal = open(dataDir());
    const ids = [terminal.record(ticket('12345-A-6')), terminal.record(ticket('22222-و-40', 'V-30'))];
    const before = created();
    sim.fault = 'slow';
    sim.slowMs = 2500;
    const late = await terminal.upload();
    expect(late).toMatchObject({ outcome: 'unavailable', status: 504, kept: 2 });
    expect(late.problem).toMatch(/provider-timeout$/);
    // The system applied the batch before its answer was lost.
    expect(created() - before).toBe(2);
    sim.fault = 'none';
    const retried = await terminal.upload();
    expect(retried.batches).toEqual([{ batchId: expect.any(String), created: 0, duplicate: 2, rejected: 0 }]);
    const batchIds = sim.store.agentBatches.received.slice(-2).map((b) => b.batchId);
    expect(batchIds[0]).toBe(batchIds[1]);
    expect(created() - before).toBe(2);
    expect(terminal.tickets().map((t) => t.state)).toEqual(['sent', 'sent']);

    // The same rows in another batch with a new row: only the new one is created; a reused row id for another
    // infraction is refused, naming rowId.
    const rows = terminal.tickets().map(({ row: { recordedAt: _at, ...row } }) => row);
    const overlapping = await post({ batchId: 'batch-overlap-0001', agentId: 'AGT-04512', rows: [...rows, { ...ticket('4567-ب-1', 'T-01'), rowId: 'row-new-00000001' }] });
    expect(overlapping.status).toBe(200);
    expect(overlapping.json).toMatchObject({
      counts: { created: 1, duplicate: 2, rejected: 0 },
      results: [{ rowId: ids[0], outcome: 'duplicate' }, { rowId: ids[1], outcome: 'duplicate' }, { rowId: 'row-new-00000001', outcome: 'created' }],
    });
    const reused = await post({ batchId: 'batch-overlap-0002', agentId: 'AGT-04512', rows: [{ ...rows[0], rowId: ids[1], offenceCode: 'F-01' }] });
    expect(reused.json).toMatchObject({ counts: { created: 0, duplicate: 0, rejected: 1 }, results: [{ rowId: ids[1], outcome: 'rejected', field: 'rowId' }] });
    // Another agent's row ids are its own.
    const other = await post({ batchId: 'batch-overlap-0003', agentId: 'AGT-07777', rows: [{ ...rows[0], rowId: ids[0] }] });
    expect(other.json).toMatchObject({ counts: { created: 1 } });
    expect(created() - before).toBe(4);
  });

  it('answers each row: a rejected row is kept with its field and reason for the agent to fix, the good rows are created', async () => {
    const terminal = open(dataDir());
    const good = terminal.record(ticket('12345-A-6', 'C-01'));
    const bad = terminal.record(ticket('9876-D-33', 'X-99'));
    const future = terminal.record({ ...ticket('4567-B-1'), issuedAt: minutesAgo(-180) });
    const report = await terminal.upload();
    expect(report.batches).toEqual([{ batchId: expect.any(String), created: 1, duplicate: 0, rejected: 2 }]);
    const byId = new Map(terminal.tickets().map((t) => [t.rowId, t]));
    expect(byId.get(good)).toMatchObject({ state: 'sent', ticketNumber: expect.stringMatching(/^PV-/) });
    expect(byId.get(bad)).toMatchObject({ state: 'rejected', field: 'offenceCode', reason: expect.stringContaining('X-99') });
    expect(byId.get(future)).toMatchObject({ state: 'rejected', field: 'issuedAt', reason: expect.stringContaining('future') });

    terminal.fix(bad, { offenceCode: 'V-30' });
    const fixed = await terminal.upload();
    expect(fixed.batches).toEqual([{ batchId: expect.any(String), created: 1, duplicate: 0, rejected: 0 }]);
    expect(terminal.tickets().find((t) => t.rowId === bad)?.state).toBe('sent');
    expect(terminal.tickets().find((t) => t.rowId === future)?.state).toBe('rejected');
  });

  it('refuses a malformed batch whole with a 400 naming the row and the field, before the system sees it', async () => {
    const calls = sim.calls.length;
    const row = (n: number) => ({ ...ticket('12345-A-6'), rowId: `row-${String(n).padStart(8, '0')}` });
    const tooLong = await post({ batchId: 'batch-bad-00000001', agentId: 'AGT-04512', rows: [row(1), { ...row(2), plate: '1'.repeat(40) }] });
    expect(tooLong.status).toBe(400);
    expect((tooLong.json as { errors: Array<{ location: string }> }).errors).toEqual([expect.objectContaining({ location: 'body.rows.1.plate' })]);
    const twice = await post({ batchId: 'batch-bad-00000002', agentId: 'AGT-04512', rows: [row(1), row(2), row(1)] });
    expect(twice.status).toBe(400);
    expect((twice.json as { errors: Array<{ location: string }> }).errors).toEqual([expect.objectContaining({ location: 'body.rows.2.rowId' })]);
    const tooMany = await post({ batchId: 'batch-bad-00000003', agentId: 'AGT-04512', rows: Array.from({ length: 51 }, (_, i) => row(i)) });
    expect(tooMany.status).toBe(400);
    expect((tooMany.json as { errors: Array<{ location: string }> }).errors).toEqual([expect.objectContaining({ location: 'body.rows' })]);
    expect(sim.calls.length).toBe(calls);
  });

  it('checks a plate in either notation, minimised to what the convention lets the app see', async () => {
    const terminal = open(dataDir());
    const arabic = await terminal.checkPlate('9876-د-33');
    expect(arabic.status).toBe(200);
    const body = arabic.body as { vehicle: Record<string, unknown>; owner: { cin: string }; unpaid: { count: number; amount: number; infractions: Array<Record<string, unknown>> } };
    expect(body.vehicle).toEqual({ plateKey: '9876|D|33', plateArabic: '9876-د-33', plateLatin: '9876-D-33' });
    expect(body.owner).toEqual({ cin: 'J456789' });
    // The seed's ticket held twice by the system is due once.
    const seeded = body.unpaid.infractions.filter((t) => t.issuedAt === '2026-03-04T09:00:00+01:00');
    expect(seeded).toEqual([{ ticketNumber: expect.any(String), issuedAt: '2026-03-04T09:00:00+01:00', offence: { code: 'C-01', label: 'Non-port de la ceinture de sécurité' }, amount: 300 }]);
    expect(body.unpaid.count).toBe(body.unpaid.infractions.length);
    expect(body.unpaid.amount).toBe(body.unpaid.infractions.reduce((s, t) => s + (t.amount as number), 0));
    expect(JSON.stringify(body)).not.toMatch(/Hassan|driverCin|points|prefecture/);
    const latin = await terminal.checkPlate('9876-D-33');
    expect(latin.body).toEqual(arabic.body);

    // A plate the system holds no owner for: no owner, and the driver's CIN on a ticket never shows.
    const unknown = await terminal.checkPlate('4567-ب-1');
    expect(unknown.status).toBe(200);
    expect(JSON.stringify(unknown.body)).not.toContain('EE998877');
    const bad = await hub.call('GET', `/x/v1/${ticketsService}/plates/not-a-plate/check`, { purpose: mobilePurpose });
    expect(bad.status).toBe(400);
  });

  it('refuses a purpose the convention does not give the app', async () => {
    const calls = sim.calls.length;
    const answer = await hub.call('GET', `/x/v1/${ticketsService}/plates/${encodeURIComponent('12345-A-6')}/check`, { purpose: 'traffic-statistics' });
    expect(answer.status).toBe(403);
    expect((JSON.parse(answer.body) as { type: string }).type).toMatch(/purpose-not-allowed$/);
    const batch = await hub.call('POST', `/x/v1/${ticketsService}/infraction-batches`, { purpose: 'traffic-statistics', body: JSON.stringify({ batchId: 'batch-purpose-01', agentId: 'AGT-1', rows: [{ ...ticket('12345-A-6'), rowId: 'row-purpose-01' }] }) });
    expect(batch.status).toBe(403);
    expect(sim.calls.length).toBe(calls);
  });

  it('keeps the batch when the system is down (a fault, a maintenance page, no listener) and sends it on the next try', async () => {
    const terminal = open(dataDir());
    terminal.record(ticket('12345-A-6', 'T-01'));
    terminal.record(ticket('22222-W-40', 'F-01'));
    const before = created();
    for (const fault of ['soap-fault', 'html-200', 'truncated'] as const) {
      sim.fault = fault;
      const down = await terminal.upload();
      expect(down).toMatchObject({ outcome: 'unavailable', status: 502, kept: 2, batches: [] });
      expect(terminal.tickets().map((t) => t.state)).toEqual(['sealed', 'sealed']);
    }
    sim.fault = 'none';
    // 'truncated' answers after applying: the system created the tickets, the retry finds them.
    const after = await terminal.upload();
    expect(after.outcome).toBe('done');
    expect(after.batches[0]).toMatchObject({ created: 0, duplicate: 2 });
    expect(created() - before).toBe(2);

    // The simulator stopped: unreachable, kept; started again on its port, it takes the batch.
    const port = Number(new URL(sim.url).port);
    await sim.close();
    terminal.record(ticket('9876-D-33', 'V-20'));
    expect(await terminal.upload()).toMatchObject({ outcome: 'unavailable', status: 502, kept: 1 });
    sim = await startInfractionsSimulator({ port });
    const back = await terminal.upload();
    expect(back).toMatchObject({ outcome: 'done', kept: 0, batches: [{ created: 1 }] });
  });
});
