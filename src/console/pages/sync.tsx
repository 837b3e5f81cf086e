// Sync and adapters (admin; auditor read-only): each subscription with its lag and circuit (src/sync/status.ts), the
// dead letters by keyset page with inspect and replay (src/sync/dead-letters.ts, as the admin API and `tabadol dlq`),
// and each system adapter's health (src/sync/inbound.ts). Replays are the admin's, audited with the operator as actor.
import type { Hono } from 'hono';
import { operatorActor } from '../../admin/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { getDeadLetter, listDeadLetters, replayDeadLetters } from '../../sync/dead-letters.ts';
import { adapterStatuses, type AdapterStatus } from '../../sync/inbound.ts';
import { subscriptionStatuses } from '../../sync/status.ts';
import { isSubscriptionId } from '../../sync/subscriptions.ts';
import { recordPath } from '../data-paths.ts';
import { ConsoleInputError } from '../errors.ts';
import { formatCount, formatDateTime, formatDuration } from '../format.ts';
import { requireAction, requirePage } from '../guard.ts';
import { ActionForm, Layout, Name, NextPage } from '../layout.tsx';
import { pages } from '../navigation.ts';
import { decodeCursor, toPage } from '../pagination.ts';
import { render } from '../render.tsx';

const page = pages.sync;
const deadLetterPageSize = 50;
// A delivery id (sub-…:position) is safe in a path as it is: its links carry it unencoded.
const deliveryIdPattern = /^sub-[a-z0-9]{12}:\d{1,15}$/;
const modeLabels = { push: 'envoi', pull: 'lecture', file: 'fichier' } as const;
const stateLabels = { active: 'active', paused: 'en pause', ended: 'terminée' } as const;

function deliveryParam(raw: string): string {
  if (!deliveryIdPattern.test(raw)) throw new ConsoleInputError('id', "n'est pas un identifiant de livraison <abonnement>:<position>");
  return raw;
}

/** An adapter's health in one word: never pulled, failing (with how many times in a row), or healthy. */
function health(a: AdapterStatus): { text: string; good: boolean } {
  if (a.consecutiveErrors > 0) return { text: `en erreur (${formatCount(a.consecutiveErrors)} de suite)`, good: false };
  if (!a.lastSuccessAt) return { text: 'jamais tiré', good: false };
  return { text: 'sain', good: true };
}

/** An error as the engine stored it, bounded for a table cell. */
const shortError = (text: string | null) => (text ? (text.length > 200 ? `${text.slice(0, 200)}…` : text) : '—');

export function registerSyncRoutes(app: Hono<AppEnv>): void {
  app.get('/sync', requirePage(page), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const db = c.var.deps.db;
    const [after] = decodeCursor(c.req.query('cursor'), [deliveryIdPattern]) ?? [];
    const [subscriptions, adapters, dead] = await Promise.all([
      subscriptionStatuses(db),
      adapterStatuses(db),
      listDeadLetters(db, { limit: deadLetterPageSize + 1, ...(after ? { after } : {}) }),
    ]);
    const deadPage = toPage(dead, deadLetterPageSize, (d) => [d.id]);
    const mayReplay = operator.role === 'admin';
    return render(
      c,
      <Layout title={page.label} current="sync" operator={operator} csrfToken={csrfToken}>
        <h2 id="abonnements">Abonnements</h2>
        {subscriptions.length === 0 ? <p>Aucun abonnement en cours.</p> : (
          <div class="table-scroll" tabindex={0}>
            <table aria-labelledby="abonnements">
              <thead><tr><th scope="col">Abonnement</th><th scope="col">Abonné</th><th scope="col">Mode</th><th scope="col">État</th><th scope="col" class="num">Retard (changements)</th><th scope="col" class="num">Retard</th><th scope="col">Circuit</th><th scope="col" class="num">Lettres mortes</th><th scope="col">Dernière livraison</th><th scope="col">Dernière erreur</th></tr></thead>
              <tbody>
                {subscriptions.map((s) => (
                  <tr>
                    <td><code>{s.id}</code><br /><small>{s.referential}</small></td>
                    <td><Name>{s.subscriber}</Name></td>
                    <td>{modeLabels[s.mode]}</td>
                    <td>{stateLabels[s.state]}</td>
                    <td class="num">{s.lagCapped ? '≥ ' : ''}{formatCount(s.lagChanges)}</td>
                    <td class="num">{formatDuration(s.lagSeconds)}</td>
                    <td>{s.circuit === 'open' ? <span class="bad">ouvert jusqu'à {formatDateTime(s.circuitOpenUntil)}</span> : <span class="ok">fermé</span>}</td>
                    <td class="num">{formatCount(s.deadLetters)}</td>
                    <td>{formatDateTime(s.lastDeliveredAt)}</td>
                    <td><Name>{shortError(s.lastError)}</Name></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <h2 id="adaptateurs">Adaptateurs des systèmes</h2>
        {adapters.length === 0 ? <p>Aucun adaptateur n'a encore tiré de données.</p> : (
          <div class="table-scroll" tabindex={0}>
            <table aria-labelledby="adaptateurs">
              <thead><tr><th scope="col">Adaptateur</th><th scope="col">Système</th><th scope="col">Santé</th><th scope="col">Dernier succès</th><th scope="col">Prochain tirage</th><th scope="col" class="num">Reçus</th><th scope="col" class="num">Erreurs</th><th scope="col">Dernière erreur</th></tr></thead>
              <tbody>
                {adapters.map((a) => {
                  const h = health(a);
                  return (
                    <tr>
                      <td><code>{a.adapter}</code></td>
                      <td><Name>{a.system}</Name></td>
                      <td><span class={h.good ? 'ok' : 'bad'}>{h.text}</span></td>
                      <td>{formatDateTime(a.lastSuccessAt)}</td>
                      <td>{formatDateTime(a.nextPullAt)}</td>
                      <td class="num">{formatCount(a.pulled)}</td>
                      <td class="num">{formatCount(a.errors)}</td>
                      <td><Name>{shortError(a.lastError)}</Name></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <h2 id="lettres-mortes">Lettres mortes</h2>
        {deadPage.rows.length === 0 ? <p>Aucune lettre morte.</p> : (
          <div class="table-scroll" tabindex={0}>
            <table aria-labelledby="lettres-mortes">
              <thead><tr><th scope="col">Livraison</th><th scope="col">Changement</th><th scope="col" class="num">Tentatives</th><th scope="col">Dernier statut</th><th scope="col">Morte le</th>{mayReplay ? <th scope="col">Action</th> : null}</tr></thead>
              <tbody>
                {deadPage.rows.map((d) => (
                  <tr>
                    <td><a href={`${page.path}/dead-letters/${d.id}`}><code>{d.id}</code></a></td>
                    <td><code>{d.type}</code> v{d.version}</td>
                    <td class="num">{formatCount(d.attempts)}</td>
                    <td>{d.lastStatus ?? '—'}</td>
                    <td>{formatDateTime(d.deadAt)}</td>
                    {mayReplay ? (
                      <td>
                        <ActionForm action={`${page.path}/dead-letters/${d.id}/replay`} csrfToken={csrfToken} class="inline">
                          <button type="submit" aria-label={`Rejouer ${d.id}`}>Rejouer</button>
                        </ActionForm>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <NextPage next={deadPage.next} query={c.req.query()} path={page.path} />
      </Layout>,
    );
  });

  app.get('/sync/dead-letters/:id', requirePage(page), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const id = deliveryParam(c.req.param('id'));
    const dead = await getDeadLetter(c.var.deps.db, id);
    if (!dead) return render(c, <Layout title="Lettre morte introuvable" current="sync" operator={operator} csrfToken={csrfToken}><p role="alert" class="problem">Aucune livraison morte {id} (jamais morte, ou rejouée depuis).</p></Layout>, 404);
    return render(
      c,
      <Layout title={`Lettre morte ${dead.id}`} current="sync" operator={operator} csrfToken={csrfToken}>
        <dl class="facts">
          <dt>Abonnement</dt><dd><code>{dead.subscriptionId}</code></dd>
          <dt>Position</dt><dd>{formatCount(dead.position)}</dd>
          <dt>Enregistrement</dt><dd><a href={recordPath(dead.referential, dead.goldenId)}><code>{dead.goldenId}</code></a> ({dead.referential}, version {dead.version})</dd>
          <dt>Changement</dt><dd><code>{dead.type}</code>, du {formatDateTime(dead.changeAt)}</dd>
          <dt>Tentatives</dt><dd>{formatCount(dead.attempts)}</dd>
          <dt>Dernier statut</dt><dd>{dead.lastStatus ?? '—'}</dd>
          <dt>Dernière erreur</dt><dd><Name>{dead.lastError ?? '—'}</Name></dd>
          <dt>Morte le</dt><dd>{formatDateTime(dead.deadAt)}</dd>
        </dl>
        {operator.role === 'admin' ? (
          <div class="cards">
            <ActionForm action={`${page.path}/dead-letters/${dead.id}/replay`} csrfToken={csrfToken} class="card">
              <p>Remettre cette livraison dans la file, pour une nouvelle série de tentatives.</p>
              <button type="submit">Rejouer cette livraison</button>
            </ActionForm>
            <ActionForm action={`${page.path}/subscriptions/${dead.subscriptionId}/replay`} csrfToken={csrfToken} class="card">
              <p>Remettre toutes les lettres mortes de l'abonnement, dans l'ordre.</p>
              <button type="submit">Rejouer tout l'abonnement</button>
            </ActionForm>
          </div>
        ) : null}
      </Layout>,
    );
  });

  app.post('/sync/dead-letters/:id/replay', requireAction(['admin']), async (c) => {
    const id = deliveryParam(c.req.param('id'));
    await replayDeadLetters(c.var.deps.db, { id }, operatorActor(c.var.consoleSession.operator));
    return c.redirect(`${page.path}#lettres-mortes`, 303);
  });

  app.post('/sync/subscriptions/:subscription/replay', requireAction(['admin']), async (c) => {
    const subscriptionId = c.req.param('subscription');
    if (!isSubscriptionId(subscriptionId)) throw new ConsoleInputError('subscription', "n'est pas un identifiant d'abonnement sub-<12 caractères>");
    await replayDeadLetters(c.var.deps.db, { subscriptionId }, operatorActor(c.var.consoleSession.operator));
    return c.redirect(`${page.path}#lettres-mortes`, 303);
  });
}
