// The hub is composed from an explicit list of parts and torn down by one stack of closers (issue 12 items 5 and 6):
// two hubs in one process share no referential, adapter or plug-in, and a plug-in that fails to start leaves nothing behind (the
// port free, the embedded database's lock released, the pool ended).
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import type { AdapterBinding } from '../src/exchange/bindings.ts';
import { addOperator } from '../src/identity/operators.ts';
import type { HubPlugin } from '../src/plugins.ts';
import { startHub } from '../src/runtime.ts';
import type { Db } from '../src/storage/db.ts';
import { dropSchema, freshDataDir, uniqueSchema } from './helpers/db.ts';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.ts';
import { captureLogger } from './helpers/hub.ts';
import { deletePrefix, uniquePrefix } from './helpers/queues.ts';
import { hasServer } from './helpers/servers.ts';
import { companiesModule, personsModule } from '../referentials/index.ts';
import type { ReferentialModule } from '../src/golden/module.ts';

const dirs: string[] = [];
const dataDir = () => {
  const dir = freshDataDir();
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const echo = (text: string): AdapterBinding => ({ handle: async () => ({ status: 200, headers: {}, body: Buffer.from(text) }) });

/** A port nothing listens on now (the kernel's pick, released at once). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether this process can listen on the port (it cannot while a server it leaked holds it). */
async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (listening) await new Promise((resolve) => server.close(resolve));
  return listening;
}

/** A plug-in that fails to start, after a first one that started (and whose stop must run), keeping the hub's database. */
function failingPlugins(): { plugins: HubPlugin[]; seen: { db?: Db; stopped: boolean } } {
  const seen: { db?: Db; stopped: boolean } = { stopped: false };
  return {
    seen,
    plugins: [
      {
        name: 'fine',
        start: async (context) => {
          seen.db = context.db;
          return { stop: async () => void (seen.stopped = true) };
        },
      },
      { name: 'broken', start: () => Promise.reject(new Error('the plug-in cannot start')) },
    ],
  };
}

describe('a plug-in that fails to start', () => {
  it('leaves nothing behind on the embedded database: port, data directory lock, database', async () => {
    const port = await freePort();
    const config = loadConfig({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir() });
    const { logger, lines } = captureLogger('warn');
    const { plugins, seen } = failingPlugins();
    await expect(startHub(config, { logger, http: true, workers: true, plugins, consumers: [{ topic: 't', handler: async () => undefined }] })).rejects.toThrow('the plug-in cannot start');
    expect(lines.join('\n')).toContain('plugin failed to start');
    expect(seen.stopped).toBe(true);
    await expect(seen.db?.query('SELECT 1')).rejects.toThrow();
    expect(await canListen(port)).toBe(true);
    // The same data directory and port again: the lock file was released and the port is free.
    const again = await startHub(config, { logger, http: true, workers: true });
    expect(again.url).toBe(`http://127.0.0.1:${port}`);
    await again.close();
  });

  it.runIf(hasServer('postgres') && hasServer('redis'))('ends the PostgreSQL pool and closes the queue', async () => {
    const schema = uniqueSchema();
    const queuePrefix = uniquePrefix();
    try {
      const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir(), DATABASE_URL: testDatabaseUrl, REDIS_URL: testRedisUrl });
      const { plugins, seen } = failingPlugins();
      await expect(startHub(config, { logger: captureLogger('silent').logger, http: true, workers: true, plugins, schema, queuePrefix })).rejects.toThrow('the plug-in cannot start');
      expect(seen.stopped).toBe(true);
      await expect(seen.db?.query('SELECT 1')).rejects.toThrow();
    } finally {
      await dropSchema(schema);
      await deletePrefix(queuePrefix);
    }
  });
});

describe('two hubs in one process', () => {
  it('each sees only the adapters and plug-ins it was given', async () => {
    const started: string[] = [];
    const plugin = (name: string): HubPlugin => ({
      name,
      start: async (context) => {
        started.push(name);
        context.services.adapters.register(`test:${name}:late`, echo(name));
        return { stop: async () => undefined };
      },
    });
    const logger = captureLogger('silent').logger;
    const a = await startHub(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir() }), { logger, http: true, workers: false, adapters: { 'test:a': echo('a') }, plugins: [plugin('pa')] });
    const b = await startHub(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir() }), { logger, http: true, workers: false, adapters: { 'test:b': echo('b') }, plugins: [plugin('pb')] });
    try {
      expect(started).toEqual(['pa', 'pb']);
      expect(a.services.adapters.get('test:a')).toBeDefined();
      expect(a.services.adapters.get('test:b')).toBeUndefined();
      expect(a.services.adapters.get('test:pa:late')).toBeDefined();
      expect(a.services.adapters.get('test:pb:late')).toBeUndefined();
      expect(b.services.adapters.get('test:b')).toBeDefined();
      expect(b.services.adapters.get('test:a')).toBeUndefined();
      expect(b.services.adapters.get('test:pb:late')).toBeDefined();
      expect(b.services.adapters.get('test:pa:late')).toBeUndefined();
      // Each hub's own transparency service answers from its own database and keys.
      expect(a.services.adapters.get('hub:transparency')).toBeDefined();
      expect(a.services.adapters.get('hub:transparency')).not.toBe(b.services.adapters.get('hub:transparency'));
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('two hubs given different referentials in one process', () => {
  it('each sees only its own: in its catalog and through its admin API', async () => {
    const persons = personsModule as unknown as ReferentialModule;
    const companies = companiesModule as unknown as ReferentialModule;
    const logger = captureLogger('silent').logger;
    const a = await startHub(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir() }), { logger, http: true, workers: false, referentials: [persons] });
    const b = await startHub(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir() }), { logger, http: true, workers: false, referentials: [companies] });
    try {
      expect(a.services.referentials.names()).toEqual(['persons']);
      expect(a.services.referentials.module('persons')).toBe(persons);
      expect(a.services.referentials.module('companies')).toBeUndefined();
      expect(b.services.referentials.names()).toEqual(['companies']);
      expect(b.services.referentials.module('companies')).toBe(companies);
      expect(b.services.referentials.module('persons')).toBeUndefined();
      // The stewardship routes serve the hub's own referentials: the other hub's is an unknown referential there.
      const reviewQueue = async (hub: typeof a, referential: string) => {
        const { token } = await addOperator(hub.db, { name: 'auditor', role: 'auditor', actor: 'test' });
        const res = await fetch(`${hub.url}/admin/v1/referentials/${referential}/review`, { headers: { authorization: `Bearer ${token}` } });
        return res.status;
      };
      expect(await reviewQueue(a, 'persons')).toBe(200);
      expect(await reviewQueue(a, 'companies')).toBe(404);
      expect(await reviewQueue(b, 'companies')).toBe(200);
      expect(await reviewQueue(b, 'persons')).toBe(404);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('a referential given twice refuses the start', async () => {
    const persons = personsModule as unknown as ReferentialModule;
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir() });
    await expect(startHub(config, { logger: captureLogger('silent').logger, http: false, workers: false, referentials: [persons, persons] })).rejects.toThrow('referential persons is given twice');
  });
});
