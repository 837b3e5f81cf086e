// The operator console at /console: server-rendered pages (hono/jsx), one sub-app with its own error pages (HTML, not
// problem+json), mounted on the hub's app so that the hub's request ids, limits and metrics apply to it too.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { toProblem } from '../http/error-mapping.ts';
import { registerAssetRoutes } from './assets.ts';
import { ConsoleInputError } from './errors.ts';
import { requirePage } from './guard.ts';
import { Layout } from './layout.tsx';
import { pages, type PageName } from './navigation.ts';
import { registerConventionRoutes } from './pages/conventions.tsx';
import { registerLogRoutes } from './pages/log.tsx';
import { registerMemberRoutes } from './pages/members.tsx';
import { registerOverviewRoutes } from './pages/overview.tsx';
import { registerTransparencyRoutes } from './pages/transparency.tsx';
import { registerReferentialRoutes } from './pages/referentials.tsx';
import { registerReviewRoutes } from './pages/review.tsx';
import { registerStatisticsRoutes } from './pages/statistics.tsx';
import { registerSyncRoutes } from './pages/sync.tsx';
import { registerSignInRoutes } from './pages/sign-in.tsx';
import { messagePage, render } from './render.tsx';

/** The pages another change builds on this framework: listed in the menu now, saying so until they land. */
const upcoming: PageName[] = [];

type ErrorStatus = Parameters<typeof messagePage>[1];

export function createConsoleApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError((err, c) => {
    if (err instanceof ConsoleInputError) return messagePage(c, 400, 'Demande invalide', `${err.field} : ${err.message}`);
    const problem = toProblem(err);
    if (problem.status >= 500) {
      // The error goes to the log; the page gives the request id to quote, never the error itself.
      c.var.deps.logger.error({ requestId: c.get('requestId'), err: { name: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack } }, 'console: unhandled error');
      return messagePage(c, (problem.status === 503 ? 503 : 500) as ErrorStatus, 'Erreur', `Une erreur interne est survenue (requête ${c.get('requestId')}) : citez ce numéro aux exploitants.`);
    }
    // The hub's own refusals (a member not found, a convention that does not verify) are written for operators.
    return messagePage(c, problem.status as ErrorStatus, 'Demande refusée', problem.detail);
  });
  app.notFound((c) => messagePage(c, 404, 'Page introuvable', `Aucune page à ${c.req.path}.`));

  registerAssetRoutes(app);
  registerSignInRoutes(app);
  registerOverviewRoutes(app);
  registerMemberRoutes(app);
  registerConventionRoutes(app);
  registerLogRoutes(app);
  registerTransparencyRoutes(app);
  registerReferentialRoutes(app);
  registerReviewRoutes(app);
  registerSyncRoutes(app);
  registerStatisticsRoutes(app);
  for (const name of upcoming) {
    const page = pages[name];
    app.get(page.path.slice('/console'.length), requirePage(page), (c) =>
      render(
        c,
        <Layout title={page.label} current={name} operator={c.var.consoleSession.operator} csrfToken={c.var.consoleSession.csrfToken}>
          <p>Cette page arrive avec la prochaine version de la console.</p>
        </Layout>,
      ),
    );
  }
  return app;
}

/** Mounts the console on the hub's app (a route module, src/http/routes/index.ts). */
export function registerConsoleRoutes(app: OpenAPIHono<AppEnv>): void {
  app.route('/console', createConsoleApp());
}
