// One hub and one Chromium per console test file: operators of each role (token and password), sign-in, screenshots
// into docs/screenshots, and axe-core run inside the page (its source injected: nothing fetched).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.ts';
import { startHub, type Hub } from '../../src/runtime.ts';
import { addOperator, setOperatorPassword, type Operator, type OperatorRole } from '../../src/identity/operators.ts';
import { drivers, dropSchema, freshDataDir, uniqueSchema, type DriverName } from './db.ts';
import { testDatabaseUrl } from './env.ts';
import { captureLogger } from './hub.ts';
import { hasTool } from './servers.ts';
import type { HubParts } from '../../src/plugins.ts';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Whether this file runs: Chromium present, or CI (where its absence fails the file with a message naming it). */
export const runConsoleTests = () => hasTool('chromium', existsSync(chromiumPath));

const screenshotDir = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface ConsoleOperator extends Operator {
  token: string;
  password: string;
}

export interface ConsoleWorld {
  hub: Hub;
  storage: DriverName;
  origin: string;
  browser: Browser;
  operators: Record<OperatorRole, ConsoleOperator>;
  /** A fresh browser context (its own cookies) signed in as this role. */
  signedIn(role: OperatorRole, viewport?: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/**
 * The storages a console file runs its flows on: the embedded database always, PostgreSQL too when the run has it
 * (required with TABADOL_TEST_SERVERS=required, see test/helpers/servers.ts), each with its own hub and browser.
 */
export const consoleStorages = (): DriverName[] => drivers();

export async function startConsoleWorld(parts: HubParts = {}, storage: DriverName = 'pglite'): Promise<ConsoleWorld> {
  if (!existsSync(chromiumPath)) {
    // Never a silent skip: the browser is part of the test environment (.ci/run installs it).
    throw new Error(`Chromium is not at ${chromiumPath}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  const dataDir = freshDataDir();
  // On PostgreSQL: a schema of its own, dropped at close.
  const schema = storage === 'pg' ? uniqueSchema() : undefined;
  const hub = await startHub(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DEMO: 'off', ...(schema ? { DATABASE_URL: testDatabaseUrl } : {}) }), {
    ...parts,
    logger: captureLogger('warn').logger,
    http: true,
    workers: false,
    ...(schema ? { schema } : {}),
  });
  const operators = {} as Record<OperatorRole, ConsoleOperator>;
  const names: Record<OperatorRole, string> = { admin: 'Amina Admin', steward: 'Said Steward', auditor: 'Aicha Auditrice' };
  for (const role of ['admin', 'steward', 'auditor'] as const) {
    const { operator, token } = await addOperator(hub.db, { name: names[role], role, actor: 'test:console' });
    const password = `mot-de-passe-${role}-${operator.id}`;
    await setOperatorPassword(hub.db, { id: operator.id, password, actor: 'test:console' });
    operators[role] = { ...operator, token, password };
  }
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const origin = new URL(hub.url ?? '').origin;
  return {
    hub,
    storage,
    origin,
    browser,
    operators,
    async signedIn(role, viewport = { width: 1280, height: 900 }) {
      const context = await browser.newContext({ viewport, locale: 'fr-MA', timezoneId: 'Africa/Casablanca' });
      const page = await context.newPage();
      await closedNetwork(page, origin);
      await page.goto(`${origin}/console/sign-in`);
      await page.fill('#token', operators[role].token);
      await Promise.all([page.waitForURL(`${origin}/console`), page.locator('form:has(#token) button').click()]);
      return { context, page };
    },
    async close() {
      await browser.close();
      await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (schema) await dropSchema(schema);
    },
  };
}

/** As on a ministry's closed network: a request to any other host fails, and the test sees it. */
export async function closedNetwork(page: Page, origin: string): Promise<string[]> {
  const elsewhere: string[] = [];
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) await route.continue();
    else {
      elsewhere.push(url);
      await route.abort('internetdisconnected');
    }
  });
  return elsewhere;
}

/** Writes docs/screenshots/<name>.png (the README shows two of them). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Runs axe-core in the page; fails on any serious or critical violation, naming each. */
export async function expectAccessible(page: Page): Promise<void> {
  await page.evaluate(axeSource);
  // Written as text: this runs in the page (its DOM), which the test's TypeScript (lib without dom) does not know.
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) })))`)) as Array<{ id: string; impact: string | null; help: string; targets: string[] }>;
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
}
