// The API reference at /docs rendered by a real Chromium (Debian's, /usr/bin/chromium) with every request to another
// host refused, as on a ministry's closed network: the page must draw the whole API from what the hub serves.
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../src/config.ts';
import { startHub, type Hub } from '../src/runtime.ts';
import { freshDataDir } from './helpers/db.ts';
import { captureLogger } from './helpers/hub.ts';
import { hasTool } from './helpers/servers.ts';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Left out, and named at the end of the run, on a machine without Chromium; run (and failing if it is missing) in CI.
describe.runIf(hasTool('chromium', existsSync(chromiumPath)))('/docs in Chromium with the network off', () => {
  let hub: Hub;
  let browser: Browser;
  let dataDir = '';

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) {
      // Never a silent skip: the browser is part of the test environment (.ci/run installs it).
      throw new Error(`Chromium is not at ${chromiumPath}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`);
    }
    dataDir = freshDataDir();
    hub = await startHub(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO: 'off' }), { logger: captureLogger('warn').logger, http: true, workers: false });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('renders every tag of the API, the exchange included, and asks nothing of another host', async () => {
    const hubOrigin = new URL(hub.url ?? '').origin;
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    // The closed network: anything not addressed to the hub is refused and remembered.
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (new URL(url).origin === hubOrigin) await route.continue();
      else {
        elsewhere.push(url);
        await route.abort('internetdisconnected');
      }
    });
    const failures: string[] = [];
    page.on('pageerror', (err) => failures.push(err.message));
    await page.goto(`${hubOrigin}/docs`, { waitUntil: 'load' });
    // Swagger UI draws one block per operation once it has fetched and parsed /openapi.json.
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((n) => n.getAttribute('data-path') ?? n.textContent ?? ''));
    expect(paths.some((p) => p.startsWith('/x/v1/'))).toBe(true);
    expect(paths.some((p) => p.startsWith('/meta/v1/'))).toBe(true);
    expect(paths).toContain('/admin/v1/members');
    expect(paths).toContain('/healthz');
    expect(await page.title()).toBe('tabadol hub API');
    expect(elsewhere).toEqual([]);
    expect(failures).toEqual([]);
    await page.close();
  }, 60_000);
});
