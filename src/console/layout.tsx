// The page frame: head with the served assets (integrity-checked), the menu of the pages this operator may open, the
// operator and the sign-out form. Every page renders through Layout; a page only writes its <main> content.
import type { Child } from 'hono/jsx';
import type { Operator } from '../identity/operators.ts';
import { assets } from './assets.ts';
import { csrfField } from './csrf.ts';
import { mayOpen, pages, roleLabels, type PageName } from './navigation.ts';

export interface LayoutProps {
  title: string;
  /** The menu entry shown as current. */
  current?: PageName;
  /** Absent on the sign-in and error pages before a session exists. */
  operator?: Operator;
  csrfToken?: string;
  /** Loads uPlot (the pages that draw a chart). */
  charts?: boolean;
  children?: Child;
}

export function Layout(props: LayoutProps) {
  const { operator } = props;
  return (
    <html lang="fr" dir="ltr">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* htmx would otherwise add an inline <style>, which the CSP refuses. */}
        <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}' />
        {/* No favicon request (and no 404 for it): the CSP admits data: images. */}
        <link rel="icon" href="data:," />
        <title>{`${props.title} · console tabadol`}</title>
        <link rel="stylesheet" href={assets['console.css'].url} integrity={assets['console.css'].integrity} />
        {props.charts ? <link rel="stylesheet" href={assets['uPlot.min.css'].url} integrity={assets['uPlot.min.css'].integrity} /> : null}
        <script src={assets['htmx.min.js'].url} integrity={assets['htmx.min.js'].integrity} defer></script>
        {props.charts ? <script src={assets['uPlot.iife.min.js'].url} integrity={assets['uPlot.iife.min.js'].integrity} defer></script> : null}
        <script src={assets['console.js'].url} integrity={assets['console.js'].integrity} defer></script>
      </head>
      <body>
        <a class="skip" href="#contenu">Aller au contenu</a>
        <header class="top">
          <a class="brand" href="/console">tabadol <span>console</span></a>
          {operator ? (
            <div class="who">
              <span>
                <bdi dir="auto">{operator.name}</bdi> · {roleLabels[operator.role]}
              </span>
              <form method="post" action="/console/sign-out">
                <input type="hidden" name={csrfField} value={props.csrfToken ?? ''} />
                <button type="submit" class="link">Se déconnecter</button>
              </form>
            </div>
          ) : null}
        </header>
        <div class="frame">
          {operator ? (
            <nav aria-label="Menu principal">
              <ul>
                {Object.entries(pages)
                  .filter(([, page]) => mayOpen(operator.role, page))
                  .map(([name, page]) => (
                    <li>
                      <a href={page.path} aria-current={name === props.current ? 'page' : undefined}>
                        {page.label}
                      </a>
                    </li>
                  ))}
              </ul>
            </nav>
          ) : null}
          <main id="contenu">
            <h1>{props.title}</h1>
            {props.children}
          </main>
        </div>
      </body>
    </html>
  );
}

/** A user-supplied name (a company, a person, a member): its own direction, so Arabic reads right to left among French. */
export function Name(props: { children: Child }) {
  return <bdi dir="auto">{props.children}</bdi>;
}

/** "Page suivante" for a keyset page: the current query with the cursor replaced. */
export function NextPage(props: { next?: string; query: Record<string, string | undefined>; path: string }) {
  if (!props.next) return null;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(props.query)) if (v !== undefined && v !== '' && k !== 'cursor') params.set(k, v);
  params.set('cursor', props.next);
  return (
    <p class="pager">
      <a href={`${props.path}?${params.toString()}`} rel="next">
        Page suivante →
      </a>
    </p>
  );
}

/** A POST form with this session's CSRF token: every console action goes through one. */
export function ActionForm(props: { action: string; csrfToken: string; children?: Child; class?: string }) {
  return (
    <form method="post" action={props.action} class={props.class}>
      <input type="hidden" name={csrfField} value={props.csrfToken} />
      {props.children}
    </form>
  );
}
