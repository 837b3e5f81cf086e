// Statistics (every role): the connected systems' tables as the exchange serves them (statistics-sources.ts), each as a
// chart with its table beside it for those who do not see the chart; a system not connected to this hub says so.
import type { Hono } from 'hono';
import type { AppEnv } from '../../http/context.ts';
import { formatCount } from '../format.ts';
import { requirePage } from '../guard.ts';
import { Layout, Name } from '../layout.tsx';
import { pages } from '../navigation.ts';
import { render } from '../render.tsx';
import { readStatistics, statisticsSources, type StatisticsOutcome, type StatisticsSource } from '../statistics-sources.ts';

const page = pages.statistics;

function SourceSection(props: { source: StatisticsSource; outcome: StatisticsOutcome }) {
  const { source, outcome } = props;
  const id = `stat-${source.key}`;
  return (
    <section aria-labelledby={id} data-source={source.key} data-state={outcome.state}>
      <h2 id={id}>{source.title}</h2>
      <p><small>Système <code>{source.system}</code>, service <code>{source.serviceId}</code></small></p>
      {outcome.state === 'disconnected' ? <p class="disconnected">non connecté : ce système n'est pas relié à ce hub.</p> : null}
      {outcome.state === 'unavailable' ? <p role="alert" class="problem">indisponible : {outcome.why}.</p> : null}
      {outcome.state === 'ok' ? (
        <>
          <div class="chart" data-chart={JSON.stringify(outcome.table.chart)} role="img" aria-label={`Graphique : ${source.title}`}></div>
          <div class="table-scroll" tabindex={0}>
            <table>
              <caption>{outcome.table.caption}</caption>
              <thead>
                <tr>
                  <th scope="col"></th>
                  {outcome.table.columns.map((col) => <th scope="col" class="num"><Name>{col}</Name></th>)}
                </tr>
              </thead>
              <tbody>
                {outcome.table.rows.map((r) => (
                  <tr>
                    <th scope="row"><Name>{r.label}</Name></th>
                    {r.values.map((v) => <td class="num">{v === null ? '' : formatCount(v)}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}

export function registerStatisticsRoutes(app: Hono<AppEnv>): void {
  app.get('/statistics', requirePage(page), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const outcomes = await Promise.all(statisticsSources.map((source) => readStatistics(c.var.deps.db, c.var.deps.hub?.adapters, source, c.get('requestId'))));
    return render(
      c,
      <Layout title={page.label} current="statistics" operator={operator} csrfToken={csrfToken} charts>
        <p>Les tableaux des systèmes connectés, tels que l'échange les sert, lus à l'ouverture de la page.</p>
        {statisticsSources.map((source, i) => <SourceSection source={source} outcome={outcomes[i] ?? { state: 'disconnected' }} />)}
      </Layout>,
    );
  });
}
