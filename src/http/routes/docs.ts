// The API reference at /docs, served whole by the hub: the page and the renderer's assets (swagger-ui-dist, from
// node_modules), so that it renders on a closed network. No CDN, no font service, no online spec validator.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';

const packageDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const rendererVersion = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;

/** The assets the page loads, by the name it loads them under; read on first request, then kept (about 1.5 MB). */
const assets: Record<string, { file: string; type: string }> = {
  'swagger-ui-bundle.js': { file: join(packageDir, 'swagger-ui-bundle.js'), type: 'text/javascript; charset=utf-8' },
  'swagger-ui.css': { file: join(packageDir, 'swagger-ui.css'), type: 'text/css; charset=utf-8' },
};
const loaded = new Map<string, Buffer>();

// The page's own start-up script is an asset too (not inline), so that a Content-Security-Policy of 'self' allows it.
const initScript = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#reference', deepLinking: true, validatorUrl: null });
});
`;

// The version is in the asset path: a new renderer is a new URL, so the assets can be cached for good.
export const docsAssetsPath = `/docs/assets/${rendererVersion}`;

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>tabadol hub API</title>
    <link rel="stylesheet" href="${docsAssetsPath}/swagger-ui.css" />
  </head>
  <body>
    <div id="reference"></div>
    <noscript>The reference needs JavaScript; the OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <script src="${docsAssetsPath}/swagger-ui-bundle.js"></script>
    <script src="${docsAssetsPath}/init.js"></script>
  </body>
</html>
`;

const immutable = 'public, max-age=31536000, immutable';

export function registerDocsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.get('/docs', (c) => c.html(page, 200, { 'cache-control': 'no-cache' }));
  app.get(`${docsAssetsPath}/init.js`, (c) => c.body(initScript, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': immutable }));
  app.get(`${docsAssetsPath}/:name`, (c) => {
    const name = c.req.param('name');
    // Only the names listed above: the parameter never reaches the file system.
    const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
    if (!asset) return c.notFound();
    let body = loaded.get(name);
    if (!body) {
      body = readFileSync(asset.file);
      loaded.set(name, body);
    }
    return c.body(new Uint8Array(body), 200, { 'content-type': asset.type, 'cache-control': immutable });
  });
}
