// The console's frame in a real Chromium, on the embedded database and on PostgreSQL: sign-in (token and password),
// the overview, roles refused on the server, a forged form, an expired session, sign-out, the sign-in limit (429
// after 5 failures, per operator and per address, audited), "verify the chain" with its progress kept in the
// database; with the network off (nothing from another host) and axe-core.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectHmac } from '../src/exchange/subjects.ts';
import { maxFailures, refusedFor, throttleKeys, windowMs } from '../src/console/sign-in-limit.ts';
import { closedNetwork, consoleStorages, expectAccessible, runConsoleTests, screenshot, startConsoleWorld, type ConsoleWorld } from './helpers/console.ts';

describe.runIf(runConsoleTests()).each(consoleStorages())('console frame in Chromium on %s', (storage) => {
  let world: ConsoleWorld;

  beforeAll(async () => {
    world = await startConsoleWorld({}, storage);
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  it('signs in with a password, shows the overview with its chart, and loads nothing from another host', async () => {
    const context = await world.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const elsewhere = await closedNetwork(page, world.origin);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    await page.goto(`${world.origin}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await screenshot(page, 'sign-in');
    await expectAccessible(page);
    await page.fill('#operator', world.operators.admin.id);
    await page.fill('#password', world.operators.admin.password);
    await Promise.all([page.waitForURL(`${world.origin}/console`), page.locator('form:has(#password) button').click()]);
    await expect.poll(() => page.locator('h1').textContent()).toBe("Vue d'ensemble");
    // uPlot drew its canvas: the script and its library came from the hub, integrity-checked, under the CSP.
    await page.waitForSelector('.chart canvas');
    const cookie = (await context.cookies()).find((c) => c.name === 'tabadol_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    await screenshot(page, 'overview');
    await expectAccessible(page);
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('refuses a wrong password without saying which part was wrong', async () => {
    const context = await world.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${world.origin}/console/sign-in`);
    await page.fill('#operator', world.operators.admin.id);
    await page.fill('#password', 'not the password at all');
    await page.locator('form:has(#password) button').click();
    await expect.poll(() => page.locator('[role=alert]').textContent()).toBe('Identifiants refusés.');
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await context.close();
  });

  it('shows each role only its pages and refuses the others on the server', async () => {
    const { context, page } = await world.signedIn('steward');
    const menu = await page.locator('nav a').allTextContents();
    expect(menu).toContain('Revue des doublons');
    expect(menu).not.toContain('Membres et clés');
    expect(menu).not.toContain('Synchronisation');
    const refused = await page.goto(`${world.origin}/console/sync`);
    expect(refused?.status()).toBe(403);
    await context.close();
  });

  it('refuses a form posted from another page of the session without its token', async () => {
    const { context, page } = await world.signedIn('admin');
    // A forged sign-out: same cookies (as a same-site attacker would ride them), no form token.
    const status = await page.evaluate(async () => (await fetch('/console/sign-out', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '_csrf=forged' })).status);
    expect(status).toBe(403);
    // Still signed in: the forged form did nothing.
    const again = await page.goto(`${world.origin}/console`);
    expect(again?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/console');
    await context.close();
  });

  it('ends an idle session: the next page asks to sign in again, saying why', async () => {
    const { context, page } = await world.signedIn('auditor');
    await world.hub.db.query("UPDATE console_sessions SET last_seen_at = now() - interval '31 minutes' WHERE operator_id = $1", [world.operators.auditor.id]);
    await page.goto(`${world.origin}/console/statistics`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/console/statistics');
    await expect.poll(() => page.locator('[role=status]').textContent()).toContain('expiré');
    const { rows } = await world.hub.db.query('SELECT 1 FROM console_sessions WHERE operator_id = $1', [world.operators.auditor.id]);
    expect(rows).toEqual([]);
    await context.close();
  });

  it('signs out: the session is gone on the server and audited with the operator as actor', async () => {
    const { context, page } = await world.signedIn('admin');
    await Promise.all([page.waitForURL(/\/console\/sign-in/), page.getByRole('button', { name: 'Se déconnecter' }).click()]);
    const again = await page.goto(`${world.origin}/console`);
    expect(new URL(again?.url() ?? '').pathname).toBe('/console/sign-in');
    const { rows } = await world.hub.db.query<{ action: string }>("SELECT action FROM admin_audit WHERE actor = $1 AND action LIKE 'console.%' ORDER BY id", [`operator:${world.operators.admin.id}`]);
    expect(rows.map((r) => r.action)).toContain('console.sign-out');
    await context.close();
  });

  it('verifies the chain from the browser: progress and result read from the database by whichever process is asked', async () => {
    const hmac = subjectHmac(world.hub.services.keyring.subjectKey, 'cin', 'AB123');
    for (let i = 0; i < 3; i++) {
      await world.hub.services.log.append({ at: new Date(), requestId: `frame-${i}`, client: 'MA/GOV/X/s', service: 's', operation: 'o', purpose: 'p', status: 200, durationMs: 1, requestDigest: 'd'.repeat(43), responseDigest: 'e'.repeat(43), subjects: [{ type: 'cin', hmac, location: 'path.cin' }] });
    }
    const { context, page } = await world.signedIn('auditor');
    await page.goto(`${world.origin}/console/log`);
    await page.getByRole('button', { name: 'Vérifier la chaîne' }).click();
    await page.waitForSelector('[data-result]', { timeout: 30_000 });
    expect(await page.locator('[data-result]').getAttribute('data-result')).toBe('ok');
    const { rows } = await world.hub.db.query<{ started_by: string; state: string; rows_checked: string }>('SELECT started_by, state, rows_checked::text FROM console_log_verifications');
    expect(rows).toEqual([{ started_by: world.operators.auditor.id, state: 'done', rows_checked: '3' }]);
    await context.close();
  });

  it('refuses sign-in for a while after 5 failures (429, Retry-After), per operator and per address, and audits it', async () => {
    await world.hub.db.query('DELETE FROM console_sign_in_failures');
    const context = await world.browser.newContext();
    const page = await context.newPage();
    const steward = world.operators.steward;
    for (let i = 0; i < maxFailures; i++) {
      await page.goto(`${world.origin}/console/sign-in`);
      await page.fill('#operator', steward.id);
      await page.fill('#password', `wrong-${i}`);
      const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.locator('form:has(#password) button').click()]);
      expect(answer.status()).toBe(403);
    }
    // The right password now: refused all the same, before it is checked.
    await page.goto(`${world.origin}/console/sign-in`);
    await page.fill('#operator', steward.id);
    await page.fill('#password', steward.password);
    const [refused] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.locator('form:has(#password) button').click()]);
    expect(refused.status()).toBe(429);
    const retryAfter = Number(await refused.headerValue('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(windowMs / 1000);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Trop de tentatives');
    await expectAccessible(page);
    const { rows } = await world.hub.db.query<{ detail: { method: string } }>("SELECT detail FROM admin_audit WHERE action = 'console.sign-in.throttled'");
    expect(rows.map((r) => r.detail.method)).toEqual(['password']);
    // The operator's key holds from another address; another operator from another address is not held.
    expect(await refusedFor(world.hub.db, throttleKeys('192.0.2.7', steward.id))).toBeGreaterThan(0);
    expect(await refusedFor(world.hub.db, throttleKeys('192.0.2.7', world.operators.admin.id))).toBeUndefined();
    // The address's key holds for a token too.
    await page.goto(`${world.origin}/console/sign-in`);
    await page.fill('#token', world.operators.admin.token);
    const [byToken] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.locator('form:has(#token) button').click()]);
    expect(byToken.status()).toBe(429);
    // Once the window is over, the right password signs in again.
    await world.hub.db.query("UPDATE console_sign_in_failures SET window_start = now() - interval '16 minutes'");
    await page.goto(`${world.origin}/console/sign-in`);
    await page.fill('#operator', steward.id);
    await page.fill('#password', steward.password);
    await Promise.all([page.waitForURL(`${world.origin}/console`), page.locator('form:has(#password) button').click()]);
    await world.hub.db.query('DELETE FROM console_sign_in_failures');
    await context.close();
  });
});
