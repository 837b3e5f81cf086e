// `tabadol/client`, the integrators' entry point: it resolves through package.json `exports` (as another package
// importing tabadol would), its referential types are what the contracts generate today, and its typed calls go through
// a real hub, signed, with every answer verified (an answer that does not verify rejects).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { staleTypes } from '../scripts/client-types.ts';
import { referentialClients, ResponseVerificationError, TabadolClient } from '../src/client/index.ts';
import { startExchangeWorld, type Consumer, type ExchangeWorld } from './exchange/harness.ts';
import { openReferentials } from './helpers/referential-world.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const purpose = 'company-file';

describe('tabadol/client', () => {
  it('is the package export tabadol/client', () => {
    // Node's own resolution from the package root (self-reference through `exports`), as an integrator's code would.
    const probe = "const m = await import('tabadol/client'); console.log(Object.keys(m).sort().join(','));";
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split(',')).toEqual(expect.arrayContaining(['TabadolClient', 'signRequest', 'verifyResponse', 'loadClientIdentity', 'referentialClients', 'ResponseVerificationError']));
  });

  it("has the referential services' types as their contracts generate them (npm run client:types)", { timeout: 60_000 }, async () => {
    expect(await staleTypes()).toEqual([]);
  });

  describe('typed calls of the referential services through a hub', () => {
    let world: ExchangeWorld;
    let consumer: Consumer;

    beforeAll(async () => {
      world = await startExchangeWorld({ storage: 'pglite', redis: false });
      consumer = await world.registerConsumer('MA/GOV/TEST/guichet');
      await openReferentials(world, consumer, purpose, ['companies']);
    }, 120_000);

    afterAll(async () => {
      await world?.close();
    });

    it('contributes and reads a golden record, signed and verified', async () => {
      const { companies } = referentialClients(consumer.client(), { purpose });
      const contributed = await companies.POST('/contributions', { body: { sourceId: 'f-1', attributes: { ice: '001525487000088', nameFr: 'Oasis Travaux SARL', legalForm: 'SARL' } } });
      expect(contributed.response.status, JSON.stringify(contributed.error)).toBe(200);
      const goldenId = contributed.data?.goldenId ?? '';
      expect(contributed.data?.decision).toBe('created');

      // Another written form of the ICE; the path parameter is encoded by the typed client and signed as sent.
      const byKey = await companies.GET('/by-key/{keyType}/{keyValue}', { params: { path: { keyType: 'ice', keyValue: '001 525 487 000 088' } } });
      expect(byKey.response.status).toBe(200);
      expect(byKey.data).toMatchObject({ goldenId, status: 'active', attributes: { ice: '001525487000088' } });
      const logId = byKey.response.headers.get('tabadol-log-id') ?? '';
      expect(await world.logRow(logId)).toMatchObject({ client: consumer.id, operation: 'getByKey', purpose, status: 200 });

      const resolved = await companies.POST('/resolve', { body: { items: [{ goldenId }, { key: { type: 'ice', value: '009999999000012' } }] } });
      expect(resolved.data?.results.map((r) => r.found)).toEqual([true, false]);
    });

    it('answers refusals as typed errors, verified too', async () => {
      const { companies } = referentialClients(consumer.client(), { purpose });
      const refused = await companies.GET('/records/{goldenId}', { params: { path: { goldenId: 'x' } }, headers: { 'tabadol-purpose': 'curiosity' } });
      expect(refused.response.status).toBe(403);
      expect(refused.error).toMatchObject({ type: 'urn:tabadol:problem:purpose-not-allowed' });
    });

    it('rejects an answer that is not signed for it', async () => {
      const wrongHub = new TabadolClient({ hubUrl: world.urls[0] ?? '', hubId: 'MA/GOV/HUB/other', identity: consumer.identity });
      const { companies } = referentialClients(wrongHub, { purpose });
      await expect(companies.GET('/changes')).rejects.toThrow(ResponseVerificationError);
    });
  });
});
