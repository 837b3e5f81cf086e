// Sign-in (an operator token, or an operator id and the password set by `tabadol operator passwd`) and sign-out,
// both audited with the operator as actor, as the admin API records its changes; failed attempts limited per operator
// and per address (sign-in-limit.ts), a refusal audited.
import type { Hono } from 'hono';
import { audit } from '../../admin/audit.ts';
import { operatorActor } from '../../admin/actor.ts';
import { authenticateOperator, authenticateOperatorPassword, type Operator } from '../../identity/operators.ts';
import { maxPasswordLength } from '../../identity/passwords.ts';
import type { AppEnv } from '../../http/context.ts';
import { csrfField, sameOrigin, signInToken, signInTokenMatches } from '../csrf.ts';
import { requireAction } from '../guard.ts';
import { Layout } from '../layout.tsx';
import { pages } from '../navigation.ts';
import { messagePage, render } from '../render.tsx';
import { clientAddress, releaseAttempt, takeAttempt, throttleKeys } from '../sign-in-limit.ts';
import { closeSession, openSession, readSession } from '../session.ts';

/** Only a console path: `next` never sends the operator to another site (open redirect). */
function safeNext(next: string | undefined): string {
  return next && /^\/console(\/[A-Za-z0-9/_.-]*)?(\?[^\s\\]*)?$/.test(next) && !next.includes('//') ? next : '/console';
}

function SignInPage(props: { token: string; next: string; expired: boolean; failed: boolean }) {
  return (
    <Layout title="Connexion">
      {props.expired ? <p role="status" class="notice">Votre session a expiré : reconnectez-vous.</p> : null}
      {props.failed ? <p role="alert" class="problem">Identifiants refusés.</p> : null}
      <div class="cards">
        <form method="post" action="/console/sign-in" class="card">
          <h2>Avec un mot de passe</h2>
          <input type="hidden" name={csrfField} value={props.token} />
          <input type="hidden" name="next" value={props.next} />
          <label for="operator">Identifiant d'opérateur</label>
          <input id="operator" name="operator" autocomplete="username" required pattern="[a-f0-9]{16}" maxlength={16} />
          <label for="password">Mot de passe</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required maxlength={maxPasswordLength} />
          <button type="submit">Se connecter</button>
        </form>
        <form method="post" action="/console/sign-in" class="card">
          <h2>Avec un jeton d'opérateur</h2>
          <input type="hidden" name={csrfField} value={props.token} />
          <input type="hidden" name="next" value={props.next} />
          <label for="token">Jeton (tbd_op_…)</label>
          <input id="token" name="token" type="password" autocomplete="off" required maxlength={100} />
          <button type="submit">Se connecter</button>
        </form>
      </div>
    </Layout>
  );
}

export function registerSignInRoutes(app: Hono<AppEnv>): void {
  app.get('/sign-in', async (c) => {
    const lookup = await readSession(c, c.var.deps.db);
    const next = safeNext(c.req.query('next'));
    if (lookup.state === 'valid') return c.redirect(next, 303);
    return render(c, <SignInPage token={signInToken(c)} next={next} expired={c.req.query('expired') === '1' || lookup.state === 'expired'} failed={false} />);
  });

  app.post('/sign-in', async (c) => {
    const form = await c.req.parseBody();
    const text = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : undefined);
    const next = safeNext(text('next'));
    if (!sameOrigin(c) || !signInTokenMatches(c, text(csrfField))) {
      return render(c, <SignInPage token={signInToken(c)} next={next} expired={false} failed={true} />, 403);
    }
    const { db } = c.var.deps;
    const token = text('token');
    const operatorId = text('operator');
    const password = text('password');
    // The attempt is counted first, then refused before any credential is checked while this address, or the
    // operator typed, is over the limit.
    const keys = throttleKeys(clientAddress(c), token ? undefined : operatorId);
    const attempt = await takeAttempt(db, keys);
    if (attempt.retryAfter !== undefined) {
      const retryAfter = attempt.retryAfter;
      if (attempt.first) await audit(db, 'console:sign-in', 'console.sign-in.throttled', 'console', { address: keys.address, method: token ? 'token' : 'password', retryAfterSeconds: retryAfter });
      c.header('retry-after', String(retryAfter));
      return messagePage(c, 429, 'Trop de tentatives', `Trop de tentatives de connexion échouées : réessayez dans ${Math.ceil(retryAfter / 60)} min.`);
    }
    let operator: Operator | undefined;
    if (token) operator = token.length <= 100 ? await authenticateOperator(db, token.trim()) : undefined;
    else if (operatorId && password) operator = await authenticateOperatorPassword(db, operatorId.trim(), password);
    if (!operator) return render(c, <SignInPage token={signInToken(c)} next={next} expired={false} failed={true} />, 403);
    await releaseAttempt(db, keys);
    await openSession(c, db, operator);
    await audit(db, operatorActor(operator), 'console.sign-in', operator.id, { method: token ? 'token' : 'password' });
    return c.redirect(next, 303);
  });

  app.post('/sign-out', requireAction(pages.overview.roles), async (c) => {
    const { operator } = c.var.consoleSession;
    await closeSession(c, c.var.deps.db);
    await audit(c.var.deps.db, operatorActor(operator), 'console.sign-out', operator.id);
    return c.redirect('/console/sign-in', 303);
  });
}


