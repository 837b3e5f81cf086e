// The console's static assets, served by the hub itself (closed networks: nothing from another host): htmx and uPlot
// from node_modules, the console's own CSS and script from src/console/static. Each URL carries a digest of the
// content, so it is cached for good, and each tag carries the Subresource Integrity of what it loads.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
const staticDir = fileURLToPath(new URL('./static/', import.meta.url));

export interface Asset {
  /** The URL the page loads it from: /console/assets/<digest>/<name>. */
  url: string;
  /** sha384-… for the integrity attribute. */
  integrity: string;
  type: string;
  body: Buffer;
}

const sources = {
  'htmx.min.js': join(packageDir('htmx.org'), 'dist', 'htmx.min.js'),
  'uPlot.iife.min.js': join(packageDir('uplot'), 'dist', 'uPlot.iife.min.js'),
  'uPlot.min.css': join(packageDir('uplot'), 'dist', 'uPlot.min.css'),
  'console.css': join(staticDir, 'console.css'),
  'console.js': join(staticDir, 'console.js'),
} as const;
export type AssetName = keyof typeof sources;

function load(name: AssetName): Asset {
  const body = readFileSync(sources[name]);
  const digest = createHash('sha384').update(body).digest();
  return {
    url: `/console/assets/${digest.subarray(0, 8).toString('hex')}/${name}`,
    integrity: `sha384-${digest.toString('base64')}`,
    type: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
    body,
  };
}

// Read once at start (about 100 kB in all): a page names its assets with their digests without touching the disk.
export const assets: Record<AssetName, Asset> = Object.fromEntries((Object.keys(sources) as AssetName[]).map((name) => [name, load(name)])) as Record<AssetName, Asset>;
const byUrl = new Map(Object.values(assets).map((a) => [a.url, a]));

const immutable = 'public, max-age=31536000, immutable';

export function registerAssetRoutes(app: Hono<AppEnv>): void {
  app.get('/assets/:digest/:name', (c) => {
    // Only the URLs listed above: the parameters never reach the file system.
    const asset = byUrl.get(`/console/assets/${c.req.param('digest')}/${c.req.param('name')}`);
    if (!asset) return c.text('Introuvable', 404);
    return c.body(new Uint8Array(asset.body), 200, { 'content-type': asset.type, 'cache-control': immutable, 'x-content-type-options': 'nosniff' });
  });
}
