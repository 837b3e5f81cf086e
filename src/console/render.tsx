// Rendering a console response: the doctype, the security headers every page carries (a strict CSP: scripts and
// styles from this hub only, no inline code), and no caching of pages that show data.
import type { Context } from 'hono';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { AppEnv } from '../http/context.ts';
import { Layout } from './layout.tsx';

export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function securityHeaders(c: Context<AppEnv>): void {
  c.header('content-security-policy', contentSecurityPolicy);
  c.header('x-frame-options', 'DENY');
  c.header('x-content-type-options', 'nosniff');
  // Not no-referrer: with it, Chromium sends `Origin: null` on the console's own form posts, which the origin check refuses.
  c.header('referrer-policy', 'same-origin');
  c.header('cache-control', 'no-store');
}

type Element = HtmlEscapedString | Promise<HtmlEscapedString>;

export async function render(c: Context<AppEnv>, element: Element, status: 200 | 400 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 502 | 503 | 504 = 200): Promise<Response> {
  securityHeaders(c);
  return c.html(`<!doctype html>\n${(await element).toString()}`, status);
}

/** A page that only says something went wrong (refused, not found, failed), inside the frame when signed in. */
export function messagePage(c: Context<AppEnv>, status: 400 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 502 | 503 | 504, title: string, message: string): Promise<Response> {
  const session = c.get('consoleSession');
  return render(
    c,
    <Layout title={title} operator={session?.operator} csrfToken={session?.csrfToken}>
      <p role="alert" class="problem">
        {message}
      </p>
      <p>
        <a href="/console">Retour à la vue d'ensemble</a>
      </p>
    </Layout>,
    status,
  );
}
