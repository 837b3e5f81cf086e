// The referentials page in a real Chromium on a real hub: search by name (Arabic or Latin) and by identifier, a golden
// record with each attribute's source and date, its history (asOf) and source records; the territory; a company name
// holding <script> shown as text; an Arabic name right to left; bad input a 400 naming the field; axe-core clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companiesModule, personsModule, referentialModules } from '../referentials/index.ts';
import { makeIce } from '../referentials/identifiers/index.ts';
import { territoryModule } from '../referentials/territory/module.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { expectAccessible, runConsoleTests, screenshot, startConsoleWorld, type ConsoleWorld } from './helpers/console.ts';

const directionOf = (el: unknown) => (globalThis as unknown as { getComputedStyle(e: unknown): { direction: string } }).getComputedStyle(el).direction;
const hostile = '<script>window.__xss=1</script> Atlas BTP';

describe.runIf(runConsoleTests())('console referentials page in Chromium', () => {
  let world: ConsoleWorld;
  let companyId = '';
  let personId = '';
  let firstVersionAt: Date;

  beforeAll(async () => {
    // As the hub composes them (referentials/services.ts): the territory's communes beside the three matched referentials.
    world = await startConsoleWorld({ referentials: [...referentialModules, territoryModule as unknown as ReferentialModule] });
    const db = world.hub.db;
    const ice = makeIce('001525283');
    companyId = (await contribute(db, companiesModule as unknown as ReferentialModule, { sourceSystem: 'ompic', sourceId: 'RC-1', attributes: { ice, nameFr: hostile, nameAr: 'أطلس للبناء' } })).goldenId;
    const person = await contribute(db, personsModule as unknown as ReferentialModule, { sourceSystem: 'civil-registry', sourceId: 'c1', attributes: { cin: 'AB123456', firstNameLatin: 'Fatima', lastNameLatin: 'Alaoui', firstNameArabic: 'فاطمة', lastNameArabic: 'العلوي', birthDate: '1990-04-01' } });
    personId = person.goldenId;
    firstVersionAt = (await db.query<{ valid_from: Date }>('SELECT valid_from FROM ref_golden_history WHERE golden_id = $1 ORDER BY valid_from LIMIT 1', [personId])).rows[0]?.valid_from ?? new Date();
    // A second source changes the address: a second version, whose attribute comes from that source.
    await contribute(db, personsModule as unknown as ReferentialModule, { sourceSystem: 'marroute', sourceId: 'm9', attributes: { cin: 'AB123456', firstNameLatin: 'Fatima', lastNameLatin: 'Alaoui', address: '3 rue Oqba, Agdal' } });
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  it('finds a person by an Arabic name and by a CIN typed in lower case, and shows the record with sources, history and asOf', async () => {
    const { context, page } = await world.signedIn('auditor');
    await page.goto(`${world.origin}/console/referentials?ref=persons&q=${encodeURIComponent('فاطمة العلوي')}`);
    const hit = page.locator(`a[href="/console/referentials/persons/${personId}"]`);
    expect(await hit.count()).toBe(1);
    const arabic = hit.locator('bdi', { hasText: 'فاطمة' });
    expect(await arabic.evaluate(directionOf)).toBe('rtl');
    await screenshot(page, 'referentials');
    await expectAccessible(page);

    await page.goto(`${world.origin}/console/referentials?ref=persons&q=ab123456`);
    expect(await page.locator('tbody td', { hasText: 'identifiant' }).count()).toBe(1);
    await Promise.all([page.waitForURL(`${world.origin}/console/referentials/persons/${personId}`), hit.click()]);
    // Each attribute with the source that won it.
    const address = page.locator('tr', { has: page.locator('th code', { hasText: /^address$/ }) });
    expect(await address.locator('td').nth(1).textContent()).toContain('marroute');
    expect(await page.locator('#sources + .table-scroll tbody tr').count()).toBe(2);
    expect(await page.locator('#historique + .table-scroll tbody tr').count()).toBe(2);
    await screenshot(page, 'referentials-record');
    await expectAccessible(page);

    // As of the first version: no address yet.
    await page.goto(`${world.origin}/console/referentials/persons/${personId}?asOf=${encodeURIComponent(firstVersionAt.toISOString())}`);
    expect(await page.locator('th code', { hasText: /^address$/ }).count()).toBe(0);
    expect(await page.locator('th code', { hasText: /^birthDate$/ }).count()).toBe(1);
    await context.close();
  });

  it('shows a company name holding <script> as text, never run', async () => {
    const { context, page } = await world.signedIn('steward');
    await page.goto(`${world.origin}/console/referentials?ref=companies&q=${encodeURIComponent('Atlas BTP')}`);
    const link = page.locator(`a[href="/console/referentials/companies/${companyId}"]`);
    expect(await link.textContent()).toContain('<script>window.__xss=1</script>');
    await page.goto(`${world.origin}/console/referentials/companies/${companyId}`);
    expect(await page.locator('p.lead').textContent()).toContain('<script>');
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(await page.locator('main script').count()).toBe(0);
    await context.close();
  });

  it('searches the territory in Arabic or Latin', async () => {
    const { context, page } = await world.signedIn('admin');
    await page.goto(`${world.origin}/console/referentials?ref=territory&q=${encodeURIComponent('Tanger')}`);
    expect(await page.locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('select#ref option[value=territory]').count()).toBe(1);
    await page.goto(`${world.origin}/console/referentials?ref=territory&q=${encodeURIComponent('طنجة')}`);
    const cell = page.locator('tbody bdi', { hasText: 'طنجة' }).first();
    expect(await cell.evaluate(directionOf)).toBe('rtl');
    await context.close();
  });

  it('answers bad input with a 400 naming the field, an unknown record with a 404', async () => {
    const { context, page } = await world.signedIn('admin');
    expect((await page.goto(`${world.origin}/console/referentials?ref=persons&q=x`))?.status()).toBe(400);
    expect(await page.locator('[role=alert]').textContent()).toContain('q');
    expect((await page.goto(`${world.origin}/console/referentials?ref=nothing&q=abc`))?.status()).toBe(400);
    expect((await page.goto(`${world.origin}/console/referentials?ref=persons&q=abc&cursor=zzz`))?.status()).toBe(400);
    expect((await page.goto(`${world.origin}/console/referentials/persons/${personId}?asOf=yesterday`))?.status()).toBe(400);
    expect((await page.goto(`${world.origin}/console/referentials/persons/no-such-record`))?.status()).toBe(404);
    await context.close();
  });
});
