// The console's access rules, enforced on the server for every route: a valid session (else to the sign-in page), a
// role allowed on the page or action (else 403), and on every POST the session's form token and a same-origin request.
import type { MiddlewareHandler } from 'hono';
import type { OperatorRole } from '../identity/operators.ts';
import type { AppEnv } from '../http/context.ts';
import { textFault } from '../storage/storable.ts';
import { csrfField, sameOrigin, sameToken } from './csrf.ts';
import { ConsoleInputError } from './errors.ts';
import { messagePage } from './render.tsx';
import { readSession, type ConsoleSession } from './session.ts';
import type { ConsolePage } from './navigation.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The signed-in operator and the session's form token, set by requirePage/requireAction. */
    consoleSession: ConsoleSession;
    /** A POST's form fields, parsed once by requireAction (files stay File objects). */
    consoleForm: Record<string, string | File>;
  }
}

function signInRedirect(path: string, expired: boolean): string {
  const params = new URLSearchParams({ next: path });
  if (expired) params.set('expired', '1');
  return `/console/sign-in?${params.toString()}`;
}

const sessionOrRedirect = (roles: readonly OperatorRole[]): MiddlewareHandler<AppEnv> => async (c, next) => {
  const lookup = await readSession(c, c.var.deps.db);
  if (lookup.state !== 'valid') {
    // After a POST, back to the page, not to the action: a GET of an action URL is no page.
    const back = c.req.method === 'GET' ? c.req.path + (new URL(c.req.url).search || '') : '/console';
    return c.redirect(signInRedirect(back, lookup.state === 'expired'), 303);
  }
  c.set('consoleSession', lookup.session);
  if (!roles.includes(lookup.session.operator.role)) {
    return messagePage(c, 403, 'Accès refusé', `Votre rôle (${lookup.session.operator.role}) ne permet pas cette page ou cette action.`);
  }
  await next();
};

/** A page (GET) that these roles may open. */
export function requirePage(page: Pick<ConsolePage, 'roles'>): MiddlewareHandler<AppEnv> {
  return sessionOrRedirect(page.roles);
}

/** An action (POST) that these roles may take: session, role, same origin, then the form token, in constant time. */
export function requireAction(roles: readonly OperatorRole[]): MiddlewareHandler<AppEnv> {
  const session = sessionOrRedirect(roles);
  return async (c, next) =>
    session(c, async () => {
      const form = await c.req.parseBody();
      const token = form[csrfField];
      if (!sameOrigin(c) || !sameToken(typeof token === 'string' ? token : undefined, c.var.consoleSession.csrfToken)) {
        return void (c.res = await messagePage(c, 403, 'Formulaire refusé', "Ce formulaire ne vient pas de cette session de la console (jeton anti-falsification absent ou faux) : rechargez la page et recommencez."));
      }
      c.set('consoleForm', form as Record<string, string | File>);
      await next();
    });
}

/**
 * A text field of the parsed form, trimmed; undefined when absent or not text. Text PostgreSQL cannot store (U+0000,
 * a lone surrogate) is a 400 naming the field here, before any SQL.
 */
export function formText(form: Record<string, string | File>, name: string): string | undefined {
  const value = form[name];
  if (typeof value !== 'string') return undefined;
  const fault = textFault(value);
  if (fault) throw new ConsoleInputError(name, fault);
  return value.trim();
}

/** A query parameter, checked the same way as a form field. */
export function queryText(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const fault = textFault(value);
  if (fault) throw new ConsoleInputError(name, fault);
  return value.trim();
}
