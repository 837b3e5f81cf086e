// The review page in a real Chromium on a real hub: a steward sees a possible duplicate side by side (the differing
// fields marked, the score's weights), merges it with a reason (audited with the operator as actor), then undoes the
// merge, on the embedded database and on PostgreSQL; the auditor is refused the page; Arabic names read right to
// left; axe-core finds nothing serious.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personsModule, referentialModules } from '../referentials/index.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import { consoleStorages, expectAccessible, runConsoleTests, screenshot, startConsoleWorld, type ConsoleWorld } from './helpers/console.ts';

const persons = personsModule as unknown as ReferentialModule;
/** Runs in the page: the element's computed direction (the test's TypeScript has no DOM types). */
const directionOf = (el: unknown) => (globalThis as unknown as { getComputedStyle(e: unknown): { direction: string } }).getComputedStyle(el).direction;

describe.runIf(runConsoleTests()).each(consoleStorages())('console review page in Chromium on %s', (storage) => {
  let world: ConsoleWorld;
  let reviewId = '';
  let candidate = '';

  beforeAll(async () => {
    world = await startConsoleWorld({ referentials: referentialModules }, storage);
    const give = (system: string, id: string, attributes: Record<string, unknown>) => contribute(world.hub.db, persons, { sourceSystem: system, sourceId: id, attributes });
    // The admin API's near duplicate (test/admin-stewardship.test.ts): same names, the second with the birth date's day
    // and month swapped and no address (a doubtful pair: in review whatever the review threshold).
    const a = await give('civil-registry', 'c1', { firstNameLatin: 'Youssef', lastNameLatin: 'Bennani', firstNameArabic: 'يوسف', lastNameArabic: 'بناني', birthDate: '1985-02-03', sex: 'M', addressCommune: '07.191.05.05' });
    const b = await give('marroute', 'm1', { firstNameLatin: 'Youssef', lastNameLatin: 'Bennani', firstNameArabic: 'يوسف', lastNameArabic: 'بناني', birthDate: '1985-03-02', sex: 'M' });
    expect(b.decision).toBe('review');
    reviewId = b.reviewId ?? '';
    candidate = a.goldenId;
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  it('refuses the auditor the review queue on the server, and hides it from the menu', async () => {
    const { context, page } = await world.signedIn('auditor');
    expect(await page.locator('nav a').allTextContents()).not.toContain('Revue des doublons');
    expect((await page.goto(`${world.origin}/console/review`))?.status()).toBe(403);
    // A decision posted by the auditor's own session, with its form token: still refused (the role, not the token).
    const token = await page.locator('input[name=_csrf]').first().inputValue();
    const status = await page.evaluate(
      async ([path, csrf]) => (await fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${csrf}&reason=x` })).status,
      [`/console/review/persons/${reviewId}/distinct`, token] as const,
    );
    expect(status).toBe(403);
    const { rows } = await world.hub.db.query<{ status: string }>('SELECT status FROM ref_review_items WHERE id = $1', [reviewId]);
    expect(rows[0]?.status).toBe('open');
    await context.close();
  });

  it('lets a steward merge the item into its candidate with a reason, audited as the operator, then undo it', async () => {
    const { context, page } = await world.signedIn('steward');
    await page.goto(`${world.origin}/console/review`);
    await screenshot(page, 'review-queue');
    await expectAccessible(page);
    await Promise.all([page.waitForURL(`${world.origin}/console/review/persons/${reviewId}`), page.locator(`a[href="/console/review/persons/${reviewId}"]`).click()]);

    // Side by side: the birth dates (day and month swapped) are marked as differing; the names are not.
    const birth = page.locator('table.compare tr', { has: page.locator('th code', { hasText: /^birthDate$/ }) });
    expect(await birth.locator('td.differs').count()).toBe(1);
    const name = page.locator('table.compare tr', { has: page.locator('th code', { hasText: /^lastNameLatin$/ }) });
    expect(await name.locator('td.differs').count()).toBe(0);
    // The weights that made the score are shown.
    expect(await page.locator('section[aria-label="Score du candidat 1"] tbody tr').count()).toBeGreaterThan(0);
    // And why the engine proposed it (a swap with names alone: at its cap, above the review threshold).
    expect(await page.locator('section[aria-label="Score du candidat 1"] p.why').textContent()).toBe('Proposé : score au-dessus du seuil de revue.');

    // The Arabic name reads right to left within the French page.
    const arabic = page.locator('table.compare bdi', { hasText: 'بناني' }).first();
    expect(await arabic.evaluate(directionOf)).toBe('rtl');
    expect(await page.locator('html').evaluate(directionOf)).toBe('ltr');
    await screenshot(page, 'review');
    await expectAccessible(page);

    await page.fill('#reason-merge-0', 'même personne : noms, sexe et commune identiques');
    await Promise.all([page.waitForURL(/done=merged/), page.locator('form:has(#reason-merge-0) button').click()]);
    await expect.poll(() => page.locator('[role=status]').textContent()).toBe('Fusion enregistrée.');

    const actor = `operator:${world.operators.steward.id}`;
    const item = (await world.hub.db.query<{ status: string; linked_to: string; decided_by: string; reason: string }>('SELECT status, linked_to, decided_by, reason FROM ref_review_items WHERE id = $1', [reviewId])).rows[0];
    expect(item).toEqual({ status: 'linked', linked_to: candidate, decided_by: actor, reason: 'même personne : noms, sexe et commune identiques' });
    const audited = await world.hub.db.query<{ action: string; target: string }>('SELECT action, target FROM admin_audit WHERE actor = $1 ORDER BY id', [actor]);
    expect(audited.rows).toContainEqual({ action: 'referential.persons.review', target: reviewId });

    // Undo: the form on the decided item puts both records back.
    await page.fill('#reason-unmerge', 'fusion faite trop vite');
    await Promise.all([page.waitForURL(/done=unmerged/), page.locator('form:has(#reason-unmerge) button').click()]);
    const decisions = await world.hub.db.query<{ kind: string; actor: string }>("SELECT kind, actor FROM ref_steward_decisions WHERE kind = 'unmerge'");
    expect(decisions.rows).toEqual([{ kind: 'unmerge', actor }]);
    const merged = await world.hub.db.query<{ status: string }>("SELECT status FROM ref_golden WHERE id = (SELECT golden_id FROM ref_review_items WHERE id = $1)", [reviewId]);
    expect(merged.rows[0]?.status).toBe('active');
    await context.close();
  });

  it('refuses a decision without a reason as a 400 naming the field, before anything changes', async () => {
    const { context, page } = await world.signedIn('admin');
    const token = await page.locator('input[name=_csrf]').first().inputValue();
    const answer = await page.evaluate(
      async ([path, csrf]) => {
        const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${csrf}&goldenId=x&reason=%20` });
        return { status: res.status, text: await res.text() };
      },
      [`/console/review/persons/${reviewId}/merge`, token] as const,
    );
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('reason');
    expect((await page.goto(`${world.origin}/console/review?cursor=not-one`))?.status()).toBe(400);
    expect((await page.goto(`${world.origin}/console/review?ref=nope`))?.status()).toBe(400);
    await context.close();
  });
});
