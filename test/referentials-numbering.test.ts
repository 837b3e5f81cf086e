// The change feed's numbering after commit fails without failing the write: the failure is logged with its context and
// counted in tabadol_background_failures_total, and the periodic recovery numbers what was left unnumbered.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backgroundFailureReporter, createMetrics } from '../src/observability/metrics.ts';
import type { Queue } from '../src/queue/queue.ts';
import { numberingTask, readChanges, startNumberingRecovery } from '../src/golden/changes.ts';
import { contribute } from '../src/golden/engine.ts';
import type { ReferentialModule } from '../src/golden/module.ts';
import type { Db } from '../src/storage/db.ts';
import { waitFor } from './helpers/wait.ts';
import { drivers, openTestDb, type TestDb } from './helpers/db.ts';

const things: ReferentialModule<{ key: string; label: string }> = {
  name: 'numbered-things-test',
  normalise(input) {
    const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
    if (typeof body.key !== 'string' || typeof body.label !== 'string') return { ok: false, problems: [{ location: 'body', message: 'key and label required' }] };
    return { ok: true, attributes: { key: body.key, label: body.label }, warnings: [] };
  },
  naturalKeys: (a) => [{ type: 'key', value: a.key }],
  trust: { default: ['a'] },
};

/** The database, except that numbering the change feed (its advisory lock's transaction) fails while `down()`. */
function numberingFailsWhile(db: Db, down: () => boolean): Db {
  return {
    driver: db.driver,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    ping: () => db.ping(),
    close: () => db.close(),
    transaction: (fn, options) =>
      down() && options?.prelude?.includes('tabadol:ref_changes:assign') ? Promise.reject(new Error('numbering is down')) : db.transaction(fn, options),
  };
}

describe.each(drivers())('change feed numbering on %s', (driver) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await openTestDb(driver);
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('a change left unnumbered (a crash between commit and numbering) is numbered by the periodic recovery', async () => {
    const r = await contribute(t.db, things, { sourceSystem: 'a', sourceId: '1', attributes: { key: 'k1', label: 'one' } }, { assignPositions: false });
    expect((await readChanges(t.db, { since: 0 })).changes).toEqual([]);
    const reported: unknown[] = [];
    const recovery = startNumberingRecovery(t.db, (task, err) => reported.push({ task, err }), 20);
    try {
      await waitFor(async () => (await readChanges(t.db, { since: 0 })).changes.length > 0, 'the recovery to number the change');
    } finally {
      recovery.stop();
    }
    expect((await readChanges(t.db, { since: 0 })).changes.map((c) => [c.position, c.goldenId, c.type])).toEqual([[1, r.goldenId, 'golden.created']]);
    expect(reported).toEqual([]);
  });

  it('a failed numbering after commit keeps the write, is logged with its context and counted, and is recovered', async () => {
    let down = true;
    const db = numberingFailsWhile(t.db, () => down);
    const metrics = createMetrics({ db: t.db, queue: {} as Queue, defaultMetrics: false });
    const warnings: Array<{ fields: Record<string, unknown>; message: string | undefined }> = [];
    const report = backgroundFailureReporter({ warn: (fields: Record<string, unknown>, message?: string) => warnings.push({ fields, message }) } as never, metrics);

    const r = await contribute(db, things, { sourceSystem: 'a', sourceId: '1', attributes: { key: 'k1', label: 'one' } }, { reportFailure: report });
    expect(r.decision).toBe('created');
    expect(warnings).toEqual([
      { fields: { after: 'contribution', referential: things.name, goldenId: r.goldenId, task: numberingTask, err: { name: 'Error', message: 'numbering is down' } }, message: 'background task failed' },
    ]);
    expect(await metrics.registry.getSingleMetricAsString('tabadol_background_failures_total')).toContain(`tabadol_background_failures_total{task="${numberingTask}"} 1`);
    expect((await readChanges(t.db, { since: 0 })).changes).toEqual([]);

    // The recovery's own failures are reported the same way, and it numbers the change once the database answers again.
    const recovery = startNumberingRecovery(db, report, 20);
    try {
      await waitFor(async () => warnings.length > 1, 'the recovery to report its failure');
      expect(warnings[1]?.fields).toMatchObject({ after: 'periodic recovery', task: numberingTask });
      down = false;
      await waitFor(async () => (await readChanges(t.db, { since: 0 })).changes.length > 0, 'the recovery to number the change');
    } finally {
      recovery.stop();
    }
    expect((await readChanges(t.db, { since: 0 })).changes.map((c) => [c.position, c.goldenId])).toEqual([[1, r.goldenId]]);
  });
});
