// The overview: exchanges per hour (chart, with its table for those who do not see it), refusals by problem code,
// top consumers and services, queues, outbox lag, review queue, dead letters, the log's last checkpoint. Each figure
// links to the page where it can be worked on.
import type { Hono } from 'hono';
import type { AppEnv } from '../../http/context.ts';
import { formatCount, formatDateTime, formatDuration, formatHour } from '../format.ts';
import { requirePage } from '../guard.ts';
import { Layout, Name } from '../layout.tsx';
import { pages } from '../navigation.ts';
import { loadOverview, type Overview } from '../overview-data.ts';
import { render } from '../render.tsx';

const logSearch = (params: Record<string, string>) => `${pages.log.path}?${new URLSearchParams(params).toString()}`;

function Figure(props: { label: string; value: string; href: string }) {
  return (
    <a class="figure" href={props.href}>
      <span class="value">{props.value}</span>
      <span class="label">{props.label}</span>
    </a>
  );
}

function OverviewBody({ o }: { o: Overview }) {
  const since = o.since.toISOString();
  const total = o.perHour.reduce((n, h) => n + h.exchanges, 0);
  const chart = { labels: o.perHour.map((h) => h.hour.getTime() / 1000), series: [{ label: 'Échanges', values: o.perHour.map((h) => h.exchanges) }, { label: 'Refus', values: o.perHour.map((h) => h.refused) }] };
  return (
    <>
      <section class="figures" aria-label="Chiffres clés">
        <Figure label="échanges sur 24 h" value={formatCount(total)} href={logSearch({ from: since })} />
        <Figure label="revues de doublons ouvertes" value={formatCount(o.reviewOpen)} href={pages.review.path} />
        <Figure label="lettres mortes (synchronisation)" value={formatCount(o.deadLetters)} href={pages.sync.path} />
        <Figure label={`en attente dans l'outbox (plus ancien : ${formatDuration(o.outbox.oldestSeconds)})`} value={formatCount(o.outbox.pending)} href={pages.sync.path} />
        <Figure
          label={o.log.lastSeq ? `dernier point de contrôle du journal (n° ${formatCount(o.log.lastSeq)}, ${formatDateTime(o.log.lastCheckpointAt ? new Date(o.log.lastCheckpointAt * 1000) : null)}) ; lignes non signées` : 'aucun point de contrôle signé ; lignes non signées'}
          value={formatCount(o.log.unsignedRows)}
          href={`${pages.log.path}#verifier`}
        />
      </section>
      <section aria-labelledby="par-heure">
        <h2 id="par-heure">Échanges par heure</h2>
        <div class="chart" data-chart={JSON.stringify(chart)} role="img" aria-label="Graphique des échanges et des refus par heure sur les dernières 24 heures"></div>
        <details>
          <summary>Les chiffres du graphique</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">Heure</th>
                <th scope="col">Échanges</th>
                <th scope="col">Refus</th>
              </tr>
            </thead>
            <tbody>
              {o.perHour.map((h) => (
                <tr>
                  <td>{formatHour(h.hour)}</td>
                  <td class="num">{formatCount(h.exchanges)}</td>
                  <td class="num">{formatCount(h.refused)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </section>
      <div class="columns">
        <section aria-labelledby="refus">
          <h2 id="refus">Refus par problème</h2>
          {o.refusals.length === 0 ? <p>Aucun refus sur 24 h.</p> : (
            <table>
              <thead><tr><th scope="col">Problème</th><th scope="col">Nombre</th></tr></thead>
              <tbody>
                {o.refusals.map((r) => (
                  <tr><td><code>{r.problem}</code></td><td class="num"><a href={logSearch({ from: since, status: 'refused', problem: r.problem })}>{formatCount(r.count)}</a></td></tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-labelledby="consommateurs">
          <h2 id="consommateurs">Principaux consommateurs</h2>
          {o.topConsumers.length === 0 ? <p>Aucun échange sur 24 h.</p> : (
            <table>
              <thead><tr><th scope="col">Consommateur</th><th scope="col">Échanges</th></tr></thead>
              <tbody>
                {o.topConsumers.map((r) => (
                  <tr><td><Name>{r.name ?? r.client}</Name><br /><small><code>{r.client}</code></small></td><td class="num"><a href={logSearch({ from: since, client: r.client })}>{formatCount(r.count)}</a></td></tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-labelledby="services">
          <h2 id="services">Principaux services</h2>
          {o.topServices.length === 0 ? <p>Aucun échange sur 24 h.</p> : (
            <table>
              <thead><tr><th scope="col">Service</th><th scope="col">Échanges</th></tr></thead>
              <tbody>
                {o.topServices.map((r) => (
                  <tr><td><code>{r.service}</code></td><td class="num"><a href={logSearch({ from: since, service: r.service })}>{formatCount(r.count)}</a></td></tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-labelledby="files">
          <h2 id="files">Files d'attente</h2>
          <table>
            <thead><tr><th scope="col">File</th><th scope="col">En attente</th><th scope="col">En cours</th><th scope="col">Différés</th><th scope="col">Morts</th></tr></thead>
            <tbody>
              {o.queues.map((q) => (
                <tr>
                  <td><code>{q.topic}</code></td>
                  {q.depth ? (
                    <>
                      <td class="num">{formatCount(q.depth.waiting)}</td>
                      <td class="num">{formatCount(q.depth.active)}</td>
                      <td class="num">{formatCount(q.depth.delayed)}</td>
                      <td class="num"><a href={pages.sync.path}>{formatCount(q.depth.dead)}</a></td>
                    </>
                  ) : (
                    <td colspan={4}>injoignable</td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </>
  );
}

export function registerOverviewRoutes(app: Hono<AppEnv>): void {
  app.get('/', requirePage(pages.overview), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const overview = await loadOverview(c.var.deps.db, c.var.deps.queue);
    return render(
      c,
      <Layout title={pages.overview.label} current="overview" operator={operator} csrfToken={csrfToken} charts>
        <OverviewBody o={overview} />
      </Layout>,
    );
  });
}
