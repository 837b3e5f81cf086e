// Router micro-benchmark (npx tsx bench/router-match.ts): CPU time per match of the hub app's routes, by Hono's default
// router (SmartRouter, which falls back to the TrieRouter for the hub's routes) and by the hub's StaticMemoRouter.
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';
import type { Router } from 'hono/router';
import { buildOpenApiApp } from '../src/http/openapi.ts';
import { StaticMemoRouter } from '../src/http/static-memo-router.ts';

const routes = buildOpenApiApp().routes;
const build = (router: Router<number>): Router<number> => {
  routes.forEach((r, i) => router.add(r.method, r.path, i));
  return router;
};
const smart = build(new SmartRouter<number>({ routers: [new RegExpRouter<number>(), new TrieRouter<number>()] }));
const memo = build(new StaticMemoRouter<number>());
const calls = 1_000_000;

/** CPU ns per match, after a warm-up. */
function time(router: Router<number>, path: string): number {
  for (let i = 0; i < 10_000; i++) router.match('GET', path);
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) router.match('GET', path);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / calls;
}

process.stdout.write(`${routes.length} routes; default router: ${(smart.match('GET', '/healthz'), smart.name)}\n`);
for (let round = 1; round <= 3; round++) {
  process.stdout.write(
    `round ${round}: GET /healthz default ${time(smart, '/healthz').toFixed(0)} ns, memo ${time(memo, '/healthz').toFixed(0)} ns; ` +
      `GET /x/v1/a/b default ${time(smart, '/x/v1/a/b').toFixed(0)} ns, memo ${time(memo, '/x/v1/a/b').toFixed(0)} ns\n`,
  );
}
