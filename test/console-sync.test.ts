// The sync page in a real Chromium on a real hub: subscriptions with lag and circuit, adapters' health, dead letters
// inspected and replayed by an admin (audited as the operator); the auditor reads it without the replay; the steward is
// refused. The state is written as the engine writes it (a push subscription whose delivery died, an adapter failing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referentialModules } from '../referentials/index.ts';
import { expectAccessible, runConsoleTests, screenshot, startConsoleWorld, type ConsoleWorld } from './helpers/console.ts';

const subscription = 'sub-abcdef123456';
const deliveryId = `${subscription}:7`;

describe.runIf(runConsoleTests())('console sync page in Chromium', () => {
  let world: ConsoleWorld;

  beforeAll(async () => {
    world = await startConsoleWorld({ referentials: referentialModules });
    const db = world.hub.db;
    await db.query(
      `INSERT INTO sync_subscriptions (id, subscriber, referential, convention_id, purpose, mode, target, cursor, consecutive_failures, circuit_open_until, failed_count, last_error, created_by)
       VALUES ($1, 'MA/GOV/METLE/permis-rdv', 'persons', 'conv-test', 'person-referential-sync', 'push', 'https://permis.example/hub', 7, 5, now() + interval '5 minutes', 5, 'the subscriber answered 503', 'test')`,
      [subscription],
    );
    await db.query(
      `INSERT INTO sync_deliveries (subscription_id, position, golden_id, version, type, change_at, state, attempts, dead_at, last_status, last_error)
       VALUES ($1, 7, 'g-0001', 2, 'golden.updated', now() - interval '1 hour', 'dead', 8, now(), 503, 'the subscriber answered 503')`,
      [subscription],
    );
    await db.query(
      `INSERT INTO sync_adapter_cursors (adapter, system, last_pull_at, last_success_at, last_error, errors, consecutive_errors, pulled_count)
       VALUES ('infractions', 'infractions', now(), now() - interval '1 hour', 'the system did not answer', 3, 3, 120), ('permis-rdv', 'permis-rdv', now(), now(), NULL, 0, 0, 40)`,
    );
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  it('shows the auditor lag, circuit, adapters and dead letters, without the replay; refuses the steward', async () => {
    const { context, page } = await world.signedIn('auditor');
    expect((await page.goto(`${world.origin}/console/sync`))?.status()).toBe(200);
    const row = page.locator('#abonnements + .table-scroll tbody tr', { hasText: subscription });
    expect(await row.locator('.bad').textContent()).toContain('ouvert');
    expect(await page.locator('#adaptateurs + .table-scroll tbody tr', { hasText: 'infractions' }).locator('.bad').textContent()).toContain('en erreur (3 de suite)');
    expect(await page.locator('#adaptateurs + .table-scroll tbody tr', { hasText: 'permis-rdv' }).locator('.ok').textContent()).toBe('sain');
    expect(await page.locator('#lettres-mortes + .table-scroll tbody tr').count()).toBe(1);
    expect(await page.locator('button', { hasText: 'Rejouer' }).count()).toBe(0);
    await expectAccessible(page);
    const token = await page.locator('input[name=_csrf]').first().inputValue();
    const status = await page.evaluate(
      async ([path, csrf]) => (await fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${csrf}` })).status,
      [`/console/sync/dead-letters/${deliveryId}/replay`, token] as const,
    );
    expect(status).toBe(403);
    await context.close();

    const steward = await world.signedIn('steward');
    expect((await steward.page.goto(`${world.origin}/console/sync`))?.status()).toBe(403);
    await steward.context.close();
  });

  it('lets an admin inspect a dead letter and replay it, audited as the operator', async () => {
    const { context, page } = await world.signedIn('admin');
    await page.goto(`${world.origin}/console/sync`);
    await screenshot(page, 'sync');
    await expectAccessible(page);
    await Promise.all([page.waitForURL(`${world.origin}/console/sync/dead-letters/${deliveryId}`), page.locator(`a[href="/console/sync/dead-letters/${deliveryId}"]`).click()]);
    expect(await page.locator('dl.facts').textContent()).toContain('the subscriber answered 503');
    await expectAccessible(page);
    await Promise.all([page.waitForURL(/\/console\/sync#lettres-mortes$/), page.locator('button', { hasText: 'Rejouer cette livraison' }).click()]);
    expect(await page.locator('#lettres-mortes + p').textContent()).toBe('Aucune lettre morte.');
    const delivery = await world.hub.db.query<{ state: string; attempts: number }>('SELECT state, attempts FROM sync_deliveries WHERE subscription_id = $1 AND position = 7', [subscription]);
    expect(delivery.rows[0]).toEqual({ state: 'pending', attempts: 0 });
    const audited = await world.hub.db.query<{ action: string; target: string }>('SELECT action, target FROM admin_audit WHERE actor = $1', [`operator:${world.operators.admin.id}`]);
    expect(audited.rows).toContainEqual({ action: 'dlq.replay', target: deliveryId });
    // Gone: inspecting it again is a 404 page, a malformed id a 400 naming it.
    expect((await page.goto(`${world.origin}/console/sync/dead-letters/${deliveryId}`))?.status()).toBe(404);
    expect((await page.goto(`${world.origin}/console/sync/dead-letters/nope`))?.status()).toBe(400);
    await context.close();
  });
});
