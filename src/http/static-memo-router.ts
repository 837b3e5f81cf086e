// The hub app's router: Hono's SmartRouter, with the match of each route registered without parameters or wildcard
// (/healthz, /readyz, /metrics, /openapi.json, most admin and console pages) worked out once and kept.
//
// Why: Hono's fastest router (RegExpRouter) refuses a literal segment beside a parameter at the same place
// (/console/log/verify/:job beside /console/log/:seq, /docs/assets/<v>/init.js beside /docs/assets/<v>/:name), so
// SmartRouter falls back to the TrieRouter, which splits the path and walks the trie on every request. A registered
// static path always gets the same answer, so it is computed by the inner router once. Only registered paths are kept
// (a bounded set: paths × methods), never whatever a client sends, so the memo cannot be grown from outside.
import type { Result, Router } from 'hono/router';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { SmartRouter } from 'hono/router/smart-router';
import { TrieRouter } from 'hono/router/trie-router';

/** A path with neither a parameter (`:id`, `:id?`, `:id{re}`) nor a wildcard: it matches itself only. */
const isStatic = (path: string): boolean => !path.includes(':') && !path.includes('*');

/** Methods beyond Node's HTTP parser's list never reach the memo in production; in process (tests) they still cap it. */
const maxEntries = 4096;

export class StaticMemoRouter<T> implements Router<T> {
  name = 'StaticMemoRouter';
  readonly #inner: Router<T>;
  readonly #static = new Set<string>();
  /** method → path → the inner router's answer. Hono reads a match result without changing it (RegExpRouter shares its own). */
  readonly #memo = new Map<string, Map<string, Result<T>>>();
  #entries = 0;

  constructor(inner: Router<T> = new SmartRouter<T>({ routers: [new RegExpRouter<T>(), new TrieRouter<T>()] })) {
    this.#inner = inner;
  }

  add(method: string, path: string, handler: T): void {
    this.#inner.add(method, path, handler);
    // A route added later can change what an earlier path matches (a middleware on `*`, say): forget every answer.
    this.#memo.clear();
    this.#entries = 0;
    if (isStatic(path)) this.#static.add(path);
  }

  match(method: string, path: string): Result<T> {
    if (!this.#static.has(path)) return this.#inner.match(method, path);
    let byPath = this.#memo.get(method);
    const known = byPath?.get(path);
    if (known !== undefined) return known;
    const result = this.#inner.match(method, path);
    if (this.#entries < maxEntries) {
      if (byPath === undefined) this.#memo.set(method, (byPath = new Map()));
      byPath.set(path, result);
      this.#entries++;
    }
    return result;
  }
}
