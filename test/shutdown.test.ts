// Graceful shutdown: a request and a job in flight when close() starts both finish; nothing new is accepted.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/observability/logger.ts';
import { writeOutbox } from '../src/queue/outbox.ts';
import { startHub } from '../src/runtime.ts';
import { freshDataDir } from './helpers/db.ts';

const dataDir = freshDataDir();
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('graceful shutdown', () => {
  it('finishes the request and the job in flight, then closes the database', async () => {
    const requestEntered = deferred();
    const jobEntered = deferred();
    const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, HOST: '127.0.0.1' });
    const hub = await startHub(config, {
      logger: createLogger('silent'),
      http: true,
      workers: true,
      relay: { pollIntervalMs: 50 },
      routes: [
        (app) =>
          app.get('/test/slow', async (c) => {
            requestEntered.resolve();
            await new Promise((r) => setTimeout(r, 700));
            return c.json({ finished: true });
          }),
      ],
      consumers: [
        {
          topic: 'slow-job',
          handler: async (_payload, tx) => {
            jobEntered.resolve();
            await new Promise((r) => setTimeout(r, 700));
            await tx.query('CREATE TABLE job_done AS SELECT now() AS at');
          },
        },
      ],
    });
    const { db } = hub;
    await db.transaction((tx) => writeOutbox(tx, 'slow-job', {}));
    const response = fetch(`${hub.url}/test/slow`);
    await Promise.all([requestEntered.promise, jobEntered.promise]);

    const closed = hub.close();
    // New connections are refused at once while the in-flight work goes on.
    await new Promise((r) => setTimeout(r, 50));
    await expect(fetch(`${hub.url}/healthz`)).rejects.toThrow();
    const answer = await response;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ finished: true });
    await closed;
    await expect(db.query('SELECT 1')).rejects.toThrow();

    // The job committed before the database closed: reopen and look.
    const reopened = await startHub(config, { logger: createLogger('silent'), http: false, workers: false });
    const { rows } = await reopened.db.query<{ delivered: boolean }>('SELECT delivered_at IS NOT NULL AS delivered FROM outbox');
    expect(rows).toEqual([{ delivered: true }]);
    expect((await reopened.db.query('SELECT * FROM job_done')).rowCount).toBe(1);
    await reopened.close();
  });
});
