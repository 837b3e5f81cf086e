// The console's pages in a real Chromium, one hub and one browser for the file: members (a stored <script> shown as
// text, an Arabic name right to left, disable by an admin, refused to an auditor), conventions (an admin activates
// one by uploading its files, each signature shown verified), the message log (search by a CIN hashed as the log
// hashes it, an entry, "verify the chain" to its result), transparency; axe-core and a screenshot on every page, and
// the overview at 390 px without horizontal scrolling.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMemberKeyPair } from '../src/admin/keys.ts';
import { signConvention } from '../src/conventions/signing.ts';
import { subjectHmac } from '../src/exchange/subjects.ts';
import { registerMember } from '../src/identity/members.ts';
import { expectAccessible, runConsoleTests, screenshot, startConsoleWorld, type ConsoleWorld } from './helpers/console.ts';

const fixture = fileURLToPath(new URL('../contracts/MA.GOV.METLE.qualification-btp/classification/', import.meta.url));
const provider = 'MA/GOV/METLE/qualification-btp';
const consumer = 'MA/GOV/MEF/mp-console';
const hostileName = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">Société Atlas';
const arabicName = 'شركة الأطلس للبناء';
const cin = 'BK123456';

describe.runIf(runConsoleTests())('console pages in Chromium', () => {
  let world: ConsoleWorld;
  let contractsDir = '';
  const files = { yaml: '', openapi: '', jws: '' };

  beforeAll(async () => {
    world = await startConsoleWorld();
    const { db } = world.hub;
    const providerKeys = await generateMemberKeyPair('EdDSA', 'btp-console');
    const consumerKeys = await generateMemberKeyPair('ES256', 'mp-console');
    await registerMember(db, { id: 'MA/GOV/T-XSS', name: hostileName, actor: 'test' });
    await registerMember(db, { id: 'MA/GOV/T-AR', name: arabicName, actor: 'test' });
    await registerMember(db, { id: provider, name: 'Qualification BTP', jwks: providerKeys.publicJwks, actor: 'test' });
    await registerMember(db, { id: consumer, name: 'Marchés publics', jwks: consumerKeys.publicJwks, actor: 'test' });
    // The fixture convention with this file's consumer, signed by both parties: what an admin uploads to activate.
    contractsDir = mkdtempSync(join(tmpdir(), 'tabadol-console-contracts-'));
    const serviceDir = join(contractsDir, 'contracts', 'MA.GOV.METLE.qualification-btp', 'classification');
    mkdirSync(join(serviceDir, 'conventions'), { recursive: true });
    cpSync(join(fixture, 'openapi.yaml'), join(serviceDir, 'openapi.yaml'));
    const dotted = consumer.replaceAll('/', '.');
    const yamlPath = join(serviceDir, 'conventions', `${dotted}.yaml`);
    writeFileSync(yamlPath, readFileSync(join(fixture, 'conventions', 'MA.GOV.MEF.marches-publics.yaml'), 'utf8').replaceAll('MA.GOV.MEF.marches-publics', dotted).replaceAll('MA/GOV/MEF/marches-publics', consumer));
    await signConvention(yamlPath, { signer: provider, privateJwk: providerKeys.privateJwk });
    await signConvention(yamlPath, { signer: consumer, privateJwk: consumerKeys.privateJwk });
    files.yaml = yamlPath;
    files.openapi = join(serviceDir, 'openapi.yaml');
    files.jws = yamlPath.replace(/\.yaml$/, '.jws');
    // Exchanges in the log, through the hub's own writer (chained, checkpointed): one about the CIN, one refused.
    const hmac = subjectHmac(world.hub.services.keyring.subjectKey, 'cin', cin);
    const base = { requestDigest: 'd'.repeat(43), responseDigest: 'e'.repeat(43), durationMs: 12.5 };
    await world.hub.services.log.append({ ...base, at: new Date(), requestId: 'console-test-1', client: consumer, service: 'classification', operation: 'getClassification', purpose: 'verification-marche', status: 200, subjects: [{ type: 'cin', hmac, location: 'path.cin' }] });
    await world.hub.services.log.append({ ...base, at: new Date(), requestId: 'console-test-2', client: consumer, service: 'classification', operation: 'getClassification', purpose: 'verification-marche', status: 403, problem: 'convention-missing', subjects: [] });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    if (contractsDir) rmSync(contractsDir, { recursive: true, force: true });
  });

  it('shows a stored <script> as text and an Arabic name right to left', async () => {
    const { context, page } = await world.signedIn('auditor');
    await page.goto(`${world.origin}/console/members`);
    const hostile = page.locator('td a bdi', { hasText: 'Société Atlas' });
    expect(await hostile.textContent()).toBe(hostileName);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    const arabic = page.locator('bdi', { hasText: arabicName });
    expect(await arabic.getAttribute('dir')).toBe('auto');
    // Run in the page: the test's TypeScript has no DOM types.
    expect(await arabic.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { direction: string } }).getComputedStyle(el).direction)).toBe('rtl');
    // The auditor reads; the disable form is an admin's.
    await page.goto(`${world.origin}/console/members/detail?id=${encodeURIComponent('MA/GOV/T-AR')}`);
    expect(await page.locator('form[action="/console/members/status"]').count()).toBe(0);
    await screenshot(page, 'member');
    await expectAccessible(page);
    await page.goto(`${world.origin}/console/members`);
    await screenshot(page, 'members');
    await expectAccessible(page);
    // Posted anyway, with the session's own token: refused on the server.
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const status = await page.evaluate(async (token) => (await fetch('/console/members/status', { method: 'POST', body: new URLSearchParams({ _csrf: token, id: 'MA/GOV/T-AR', status: 'disabled', reason: 'x' }) })).status, csrf);
    expect(status).toBe(403);
    await context.close();
  });

  it('lets an admin disable a member, audited with the operator as actor', async () => {
    const { context, page } = await world.signedIn('admin');
    await page.goto(`${world.origin}/console/members/detail?id=${encodeURIComponent('MA/GOV/T-AR')}`);
    await page.fill('#reason', 'contrôle en cours');
    await Promise.all([page.waitForURL(/members\/detail/), page.getByRole('button', { name: 'Désactiver ce membre' }).click()]);
    await expect.poll(() => page.locator('dd.bad').first().textContent()).toBe('désactivé');
    const { rows } = await world.hub.db.query<{ actor: string }>("SELECT actor FROM admin_audit WHERE action = 'member.disable' AND target = 'MA/GOV/T-AR'");
    expect(rows).toEqual([{ actor: `operator:${world.operators.admin.id}` }]);
    await context.close();
  });

  it('lets an admin activate a convention by uploading its files, each signature shown verified', async () => {
    const { context, page } = await world.signedIn('admin');
    await page.goto(`${world.origin}/console/conventions`);
    await page.setInputFiles('#yaml', files.yaml);
    await page.setInputFiles('#openapi', files.openapi);
    await page.setInputFiles('#jws', files.jws);
    await Promise.all([page.waitForURL(/conventions\/activate/), page.getByRole('button', { name: 'Vérifier et activer' }).click()]);
    expect(await page.locator('[role=status]').textContent()).toContain('est active en version 1');
    await page.getByRole('link', { name: 'Voir la convention' }).click();
    await page.waitForURL(/conventions\/detail/);
    const checks = await page.locator('table tbody tr td:last-child').allTextContents();
    expect(checks).toEqual(['valide', 'valide', 'valide']);
    expect(await page.locator('dd.ok').textContent()).toBe('les trois signatures sont valides');
    await screenshot(page, 'convention');
    await expectAccessible(page);
    await page.goto(`${world.origin}/console/conventions`);
    await screenshot(page, 'conventions');
    await expectAccessible(page);
    const { rows } = await world.hub.db.query<{ actor: string }>("SELECT actor FROM admin_audit WHERE action = 'convention.activate'");
    expect(rows.map((r) => r.actor)).toContain(`operator:${world.operators.admin.id}`);
    await context.close();
  });

  it('finds the exchanges about a CIN by its HMAC, shows an entry, and verifies the chain to its result', async () => {
    const { context, page } = await world.signedIn('auditor');
    await page.goto(`${world.origin}/console/log?subjectType=cin&subject=${cin}`);
    const found = await page.locator('tbody tr').allTextContents();
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('200');
    await page.locator('tbody tr a').first().click();
    await page.waitForURL(/\/console\/log\/\d+$/);
    expect(await page.locator('dd code').first().textContent()).toBe('console-test-1');
    await screenshot(page, 'log-entry');
    await expectAccessible(page);
    await page.goto(`${world.origin}/console/log?status=refused`);
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.getByRole('button', { name: 'Vérifier la chaîne' }).click();
    // htmx polls the progress fragment until the result replaces it.
    await page.waitForSelector('[data-result]', { timeout: 30_000 });
    expect(await page.locator('[data-result]').getAttribute('data-result')).toBe('ok');
    expect(await page.locator('[data-result]').textContent()).toContain('Chaîne intègre : 2 lignes');
    await screenshot(page, 'log');
    await expectAccessible(page);
    await context.close();
  });

  it("shows a subject's accesses as a citizen portal would", async () => {
    const { context, page } = await world.signedIn('auditor');
    await page.goto(`${world.origin}/console/transparency?type=cin&id=${cin}`);
    const rows = await page.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('Marchés publics');
    await screenshot(page, 'transparency');
    await expectAccessible(page);
    await context.close();
  });

  it('refuses bad input with a 400 naming the field, before any SQL', async () => {
    const { context, page } = await world.signedIn('admin');
    const res = await page.goto(`${world.origin}/console/log?status=${encodeURIComponent('x\u0000')}`);
    expect(res?.status()).toBe(400);
    expect(await page.locator('[role=alert]').textContent()).toContain('status');
    const cursor = await page.goto(`${world.origin}/console/members?cursor=bm9wZQ`);
    expect(cursor?.status()).toBe(400);
    await context.close();
  });

  it('fits the overview into 390 px without scrolling sideways', async () => {
    const { context, page } = await world.signedIn('admin', { width: 390, height: 844 });
    await page.waitForSelector('.chart canvas');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(page, 'overview-390');
    await expectAccessible(page);
    await context.close();
  });
});
