// The statistics page in a real Chromium on a real hub: the permis-rdv appointments per month and half-hour slot read
// through the service's binding on this hub (the simulator behind permisBinding), drawn as a chart with its table; the
// systems not bound here say "non connecté"; a system that stops answering is "indisponible", the page still 200.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permisBinding, permisService } from '../adapters/permis-rdv/binding.ts';
import { startPermisSimulator, type PermisSimulator } from '../adapters/permis-rdv/simulator.ts';
import { bindService } from '../src/exchange/bindings.ts';
import { expectAccessible, runConsoleTests, screenshot, startConsoleWorld, type ConsoleWorld } from './helpers/console.ts';

const token = 'permis-console-token-0123456789';

describe.runIf(runConsoleTests())('console statistics page in Chromium', () => {
  let world: ConsoleWorld;
  let sim: PermisSimulator;
  let simRunning = false;

  beforeAll(async () => {
    sim = await startPermisSimulator({ token });
    simRunning = true;
    world = await startConsoleWorld({ adapters: { 'permis-rdv-appointments': permisBinding({ baseUrl: sim.url, token }) } });
    await bindService(world.hub.db, { serviceId: permisService, binding: { kind: 'adapter', adapter: 'permis-rdv-appointments', timeoutMs: 5000 }, actor: 'test' });
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    if (simRunning) await sim.close();
  });

  it('shows every role the permis appointments by month and slot as the simulator counts them; the others not connected', async () => {
    const expected = (await (await fetch(`${sim.url}/statistics`, { headers: { authorization: `Bearer ${token}` } })).json()) as { months: Array<{ month: string; total: number }> };
    for (const role of ['auditor', 'steward', 'admin'] as const) {
      const { context, page } = await world.signedIn(role);
      expect((await page.goto(`${world.origin}/console/statistics`))?.status()).toBe(200);
      const permis = page.locator('section[data-source="permis-rdv"]');
      expect(await permis.getAttribute('data-state')).toBe('ok');
      const totals = await permis.locator('.table-scroll tbody tr td:last-child').allTextContents();
      expect(totals.map((t) => Number(t.replace(/\D/g, '')))).toEqual(expected.months.map((m) => m.total));
      expect(await page.locator('section[data-source="btp"] .disconnected').textContent()).toContain('non connecté');
      expect(await page.locator('section[data-source="reclamations"] .disconnected').textContent()).toContain('non connecté');
      if (role === 'admin') {
        await page.waitForSelector('section[data-source="permis-rdv"] .chart canvas');
        await screenshot(page, 'statistics');
        await expectAccessible(page);
      }
      await context.close();
    }
  });

  it('says the system is unavailable when it stops answering, and still shows the page', async () => {
    await sim.close();
    simRunning = false;
    const { context, page } = await world.signedIn('admin');
    expect((await page.goto(`${world.origin}/console/statistics`))?.status()).toBe(200);
    expect(await page.locator('section[data-source="permis-rdv"]').getAttribute('data-state')).toBe('unavailable');
    expect(await page.locator('section[data-source="permis-rdv"] [role=alert]').textContent()).toContain('indisponible');
    await context.close();
  });
});
