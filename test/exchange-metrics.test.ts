// The operator's metrics of the exchange platform, read from /metrics after real exchanges: an answered call, refusals,
// a provider that is down, a provider that is slow to answer; the quota used by convention and how far the message
// log's signed checkpoints trail its rows. Label values stay bounded (directory ids, problem codes), never a raw path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoIces } from '../adapters/btp-qualification/data.ts';
import { mefId, mefPurpose, provider, startExchangeWorld, type ExchangeWorld } from './exchange/harness.ts';

const classification = (service: string, ice: string) => `/x/v1/${provider}/${service}/companies/${ice}/classification`;
const mefConvention = 'MA.GOV.METLE.qualification-btp.classification--MA.GOV.MEF.marches-publics';

/** The value of one series (labels in any order), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

describe('exchange metrics', () => {
  let world: ExchangeWorld;
  let metrics: string;

  beforeAll(async () => {
    world = await startExchangeWorld({ storage: 'pglite', redis: false });
    await world.bind(`${provider}/down`, { kind: 'http', baseUrl: await world.closedPortUrl(), timeoutMs: 2000 });
    await world.addConvention({ consumer: mefId, service: 'down', operations: [{ operationId: 'getCompanyClassification' }] });

    const mef = world.mef.client();
    const ok = await mef.call('GET', classification('classification', demoIces.qualified), { purpose: mefPurpose });
    expect(ok.status).toBe(200);
    expect((await mef.call('GET', classification('classification', demoIces.qualified), { purpose: mefPurpose })).status).toBe(200);
    // Refused: a purpose the convention does not list; a caller with no convention; a service nobody binds.
    expect((await mef.call('GET', classification('classification', demoIces.qualified), { purpose: 'curiosity' })).status).toBe(403);
    expect((await world.noConvention.client().call('GET', classification('classification', demoIces.qualified), { purpose: mefPurpose })).status).toBe(403);
    expect((await mef.call('GET', `/x/v1/MA/GOV/NOPE/nothing/svc-${Date.now()}/x/y`, { purpose: mefPurpose })).status).toBe(403);
    // A request whose signature does not verify: no consumer is known.
    expect((await world.send({ method: 'GET', target: classification('classification', demoIces.qualified), headers: { 'tabadol-client': 'MA/GOV/FAKE/x-123', 'tabadol-purpose': 'p', 'tabadol-signature': 'not.a.jws' } })).status).toBe(401);
    // The provider is down.
    expect((await mef.call('GET', classification('down', demoIces.qualified), { purpose: mefPurpose })).status).toBe(502);

    metrics = (await world.send({ method: 'GET', target: '/metrics' })).text;
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  it('counts exchanges by provider service, consumer, outcome and problem code', () => {
    const service = `${provider}/classification`;
    expect(sample(metrics, 'tabadol_exchanges_total', { service, consumer: mefId, outcome: 'ok', problem: 'none' })).toBe(2);
    expect(sample(metrics, 'tabadol_exchanges_total', { service, consumer: mefId, outcome: 'refused', problem: 'purpose-not-allowed' })).toBe(1);
    expect(sample(metrics, 'tabadol_exchanges_total', { service, consumer: world.noConvention.id, outcome: 'refused', problem: 'no-convention' })).toBe(1);
    expect(sample(metrics, 'tabadol_exchanges_total', { service: 'none', consumer: mefId, outcome: 'refused', problem: 'no-convention' })).toBe(1);
    expect(sample(metrics, 'tabadol_exchanges_total', { service: 'none', consumer: 'none', outcome: 'refused' })).toBe(1);
    expect(sample(metrics, 'tabadol_exchanges_total', { service: `${provider}/down`, consumer: mefId, outcome: 'provider-failure', problem: 'provider-unavailable' })).toBe(1);
  });

  it('never labels with a raw path or an unverified caller', () => {
    expect(metrics).toContain('tabadol_exchanges_total{');
    expect(metrics).not.toContain('MA/GOV/NOPE');
    expect(metrics).not.toContain('MA/GOV/FAKE');
    expect(metrics).not.toContain(demoIces.qualified);
  });

  it('measures the exchange and the provider latency by service', () => {
    const service = `${provider}/classification`;
    expect(sample(metrics, 'tabadol_exchange_duration_seconds_count', { service })).toBe(4);
    expect(sample(metrics, 'tabadol_exchange_duration_seconds_sum', { service })).toBeGreaterThan(0);
    // The provider was called twice (the refusals never reached it), and once for the service that is down.
    expect(sample(metrics, 'tabadol_provider_duration_seconds_count', { service })).toBe(2);
    expect(sample(metrics, 'tabadol_provider_duration_seconds_count', { service: `${provider}/down` })).toBe(1);
    const providerSum = sample(metrics, 'tabadol_provider_duration_seconds_sum', { service }) ?? 0;
    expect(providerSum).toBeGreaterThan(0);
    expect(providerSum).toBeLessThan(sample(metrics, 'tabadol_exchange_duration_seconds_sum', { service }) ?? 0);
  });

  it('shows the quota used in the window by convention', () => {
    // The refused purpose is decided before the quota: it is not counted.
    expect(sample(metrics, 'tabadol_quota_window_used', { convention: mefConvention })).toBe(2);
    expect(sample(metrics, 'tabadol_quota_window_limit', { convention: mefConvention })).toBeGreaterThanOrEqual(2);
  });

  it("shows how far the log's signed checkpoints trail its rows", async () => {
    const { rows } = await world.db.query<{ n: number }>('SELECT count(*)::int AS n FROM message_log WHERE seq > COALESCE((SELECT max(seq) FROM log_checkpoints), 0)');
    expect(rows[0]?.n).toBeGreaterThanOrEqual(7);
    expect(sample(metrics, 'tabadol_message_log_unsigned_rows')).toBe(rows[0]?.n);
    expect(sample(metrics, 'tabadol_message_log_unsigned_age_seconds')).toBeGreaterThanOrEqual(0);
    // A checkpoint signs the tail at shutdown or after a minute: none yet in this fresh log.
    expect(sample(metrics, 'tabadol_message_log_last_checkpoint_timestamp_seconds')).toBe(0);
    // Once one is written, the gauges follow it.
    await world.hubs[0]?.services.log.close();
    const after = (await world.send({ method: 'GET', target: '/metrics' })).text;
    expect(sample(after, 'tabadol_message_log_unsigned_rows')).toBe(0);
    expect(sample(after, 'tabadol_message_log_unsigned_age_seconds')).toBe(0);
    expect(Math.abs((sample(after, 'tabadol_message_log_last_checkpoint_timestamp_seconds') ?? 0) - Date.now() / 1000)).toBeLessThan(60);
  });
});
