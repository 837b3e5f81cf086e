// The hub app's router answers exactly as Hono's default router would, for every route the hub registers, and keeps
// only registered static paths (what a client sends cannot grow it).
import { SmartRouter } from 'hono/router/smart-router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { TrieRouter } from 'hono/router/trie-router';
import type { Result, Router } from 'hono/router';
import { describe, expect, it } from 'vitest';
import { buildOpenApiApp } from '../src/http/openapi.ts';
import { StaticMemoRouter } from '../src/http/static-memo-router.ts';

function hubRoutes(): { method: string; path: string }[] {
  return buildOpenApiApp().routes.map((r) => ({ method: r.method, path: r.path }));
}

/** The handlers (here: the index of their registration) and their parameters, whichever shape the router answers in. */
function resolved(result: Result<number>): Array<[number, Record<string, string | undefined>]> {
  const [handlers, stash] = result;
  return handlers.map(([handler, params]) => {
    const values: Record<string, string | undefined> = {};
    for (const [name, index] of Object.entries(params)) values[name] = stash ? stash[index as number] : (index as string);
    return [handler, values];
  });
}

/** A concrete request path for a route template: each parameter filled with a value its pattern accepts. */
const concrete = (path: string): string => path.replace(/:(\w+)(\{[^}]*\})?\??/g, (_, _name: string, pattern?: string) => (pattern ? '42' : 'x1')).replace(/\*$/, 'any/thing');

describe('StaticMemoRouter', () => {
  const routes = hubRoutes();
  const build = (router: Router<number>) => {
    routes.forEach((r, i) => router.add(r.method, r.path, i));
    return router;
  };
  const reference = build(new SmartRouter<number>({ routers: [new RegExpRouter<number>(), new TrieRouter<number>()] }));
  const memo = build(new StaticMemoRouter<number>());

  it('answers as the default router for every registered route, twice (the second answer comes from the memo)', () => {
    const targets = [...new Set(routes.map((r) => concrete(r.path))), '/nowhere', '/console/log/verify/7', '/docs/assets/5.35.0/init.js', '/healthz/'];
    expect(targets.length).toBeGreaterThan(50);
    for (const path of targets) {
      for (const method of ['GET', 'POST', 'PUT', 'HEAD', 'DELETE']) {
        const expected = resolved(reference.match(method, path));
        expect(resolved(memo.match(method, path)), `${method} ${path}`).toEqual(expected);
        expect(resolved(memo.match(method, path)), `${method} ${path} (again)`).toEqual(expected);
      }
    }
  });

  it('serves /healthz with the hub middleware first, then its handler', () => {
    const handlers = resolved(memo.match('GET', '/healthz')).map(([h]) => routes[h]?.path);
    expect(handlers).toEqual(['/*', '/healthz']);
  });

  it('keeps no answer for a path that no route registers as such', () => {
    let innerCalls = 0;
    const inner = new TrieRouter<number>();
    const counting: Router<number> = {
      name: 'counting',
      add: (m, p, h) => inner.add(m, p, h),
      match: (m, p) => {
        innerCalls++;
        return inner.match(m, p);
      },
    };
    const router = new StaticMemoRouter<number>(counting);
    router.add('GET', '/static', 1);
    router.add('GET', '/items/:id', 2);
    router.match('GET', '/static');
    router.match('GET', '/static');
    expect(innerCalls).toBe(1);
    router.match('GET', '/items/1');
    router.match('GET', '/items/1');
    expect(innerCalls).toBe(3);
    // A route added after a match changes what /static matches: the memo is forgotten.
    router.add('ALL', '*', 3);
    expect(resolved(router.match('GET', '/static')).map(([h]) => h)).toEqual([1, 3]);
  });
});
