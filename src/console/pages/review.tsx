// Review of possible duplicates (steward, admin): the queue by referential, an item side by side with its candidates
// (the fields that differ marked, the weights that made each score), and the decisions: merge into a candidate, mark
// distinct, unmerge, each with a reason, through the stewardship engine the admin API calls (src/golden/stewardship.ts)
// with the operator as the audited actor.
import type { Context, Hono } from 'hono';
import { operatorActor } from '../../admin/actor.ts';
import type { ReferentialModule } from '../../golden/module.ts';
import { decideReview, unmerge } from '../../golden/stewardship.ts';
import type { AppEnv } from '../../http/context.ts';
import { backgroundFailureReporter } from '../../observability/metrics.ts';
import { ConsoleInputError } from '../errors.ts';
import { formatDateTime, formatDecimal } from '../format.ts';
import { recordNames } from '../golden-view.ts';
import { formText, requireAction, requirePage } from '../guard.ts';
import { ActionForm, Layout, Name, NextPage } from '../layout.tsx';
import { pages } from '../navigation.ts';
import { decodeCursor } from '../pagination.ts';
import { liveMergeOf } from '../referential-lookup.ts';
import { render } from '../render.tsx';
import { compare, queuePage, reviewIdPattern, reviewItem, reviewStatuses, stewardReason, type Comparison, type ReviewStatus } from '../review-data.ts';
import { recordPath, reviewItemPath, unmergePath } from '../data-paths.ts';

const page = pages.review;
const deciders = ['admin', 'steward'] as const;
const statusLabels: Record<ReviewStatus, string> = { open: 'à décider', linked: 'fusionnés', distinct: 'distincts' };
const doneNotices: Record<string, string> = { merged: 'Fusion enregistrée.', distinct: 'Enregistrés comme distincts.', unmerged: 'Fusion défaite : les deux enregistrements sont rétablis.' };

/** A referential of the hub that scores its records (the others have no review queue), or a 400 naming the field. */
function reviewedModule(c: Context<AppEnv>, name: string | undefined, field: string): ReferentialModule {
  const module = name === undefined ? reviewedModules(c)[0] : c.var.deps.referentials?.module(name);
  if (!module?.score) throw new ConsoleInputError(field, "ce référentiel n'a pas de file de revue sur ce hub");
  return module;
}
const reviewedModules = (c: Context<AppEnv>) => (c.var.deps.referentials?.modules() ?? []).filter((m) => m.score !== undefined);

function checkedId(raw: string, field: string): string {
  if (!reviewIdPattern.test(raw)) throw new ConsoleInputError(field, "n'est pas un numéro");
  return raw;
}

const itemPath = reviewItemPath;

function ReasonField(props: { id: string }) {
  return (
    <>
      <label for={props.id}>Raison (gardée avec la décision et dans le journal d'audit)</label>
      <textarea id={props.id} name="reason" required maxlength={1000} rows={2} dir="auto"></textarea>
    </>
  );
}

/** The side-by-side table: a row per attribute, a column per record; a candidate's value that differs is marked. */
function SideBySide(props: { comparison: Comparison; referential: string; itemGoldenId: string }) {
  const { comparison } = props;
  return (
    <div class="table-scroll" tabindex={0}>
      <table class="compare">
        <caption>Les attributs côte à côte ; ≠ marque une valeur qui diffère de l'enregistrement en revue</caption>
        <thead>
          <tr>
            <th scope="col">Attribut</th>
            <th scope="col">En revue <a href={recordPath(props.referential, props.itemGoldenId)}><code>{props.itemGoldenId.slice(-8)}</code></a></th>
            {comparison.candidates.map((c, i) => (
              <th scope="col">Candidat {i + 1} <a href={recordPath(props.referential, c.goldenId)}><code>{c.goldenId.slice(-8)}</code></a></th>
            ))}
          </tr>
        </thead>
        <tbody>
          {comparison.paths.map((path) => {
            const mine = comparison.item.get(path);
            return (
              <tr>
                <th scope="row"><code>{path}</code></th>
                <td>{mine === undefined ? '—' : <Name>{mine}</Name>}</td>
                {comparison.candidates.map((c) => {
                  const theirs = c.values.get(path);
                  const differs = theirs !== mine;
                  return (
                    <td class={differs ? 'differs' : undefined}>
                      {differs ? <span class="mark" title="diffère">≠ </span> : null}
                      {theirs === undefined ? '—' : <Name>{theirs}</Name>}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Why the engine proposed a candidate (src/golden/tie.ts), in the steward's words. */
function whyText(why: 'tie' | 'near-link' | 'score', uncertain: { field: string; scoreIfAgreeing: number } | undefined): string {
  if (why === 'tie') return 'Proposé : ex æquo avec un autre candidat au-dessus du seuil de fusion (aucun des deux n’est choisi d’office).';
  if (why === 'near-link') {
    const field = uncertain ? ` (${uncertain.field}, ${formatDecimal(uncertain.scoreIfAgreeing)} s’il concordait)` : '';
    return `Proposé : un seul champ douteux${field} le sépare d’une fusion.`;
  }
  return 'Proposé : score au-dessus du seuil de revue.';
}

export function registerReviewRoutes(app: Hono<AppEnv>): void {
  app.get('/review', requirePage(page), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const modules = reviewedModules(c);
    const module = reviewedModule(c, c.req.query('ref'), 'ref');
    const statusText = c.req.query('status') ?? 'open';
    if (!(reviewStatuses as readonly string[]).includes(statusText)) throw new ConsoleInputError('status', `est l'un de ${reviewStatuses.join(', ')}`);
    const status = statusText as ReviewStatus;
    const [after] = decodeCursor(c.req.query('cursor'), [reviewIdPattern]) ?? [];
    const queue = await queuePage(c.var.deps.db, module, status, after);
    const name = (id: string) => {
      const record = queue.records.get(id);
      return record ? recordNames(module.name, record.attributes, id) : [id];
    };
    return render(
      c,
      <Layout title={page.label} current="review" operator={operator} csrfToken={csrfToken}>
        <form class="search" method="get" action={page.path}>
          <div class="field">
            <label for="ref">Référentiel</label>
            <select id="ref" name="ref">{modules.map((m) => <option value={m.name} selected={m.name === module.name}>{m.name}</option>)}</select>
          </div>
          <div class="field">
            <label for="status">État</label>
            <select id="status" name="status">{reviewStatuses.map((s) => <option value={s} selected={s === status}>{statusLabels[s]}</option>)}</select>
          </div>
          <button type="submit">Afficher</button>
        </form>
        {queue.rows.length === 0 ? <p>Aucun élément {statusLabels[status]} dans ce référentiel.</p> : (
          <div class="table-scroll" tabindex={0}>
            <table>
              <caption>Doublons possibles ({statusLabels[status]}), les plus anciens d'abord</caption>
              <thead><tr><th scope="col">N°</th><th scope="col">Enregistrement en revue</th><th scope="col">Meilleur candidat</th><th scope="col" class="num">Score</th><th scope="col">Source</th><th scope="col">Ouvert le</th></tr></thead>
              <tbody>
                {queue.rows.map((item) => {
                  const best = item.candidates[0];
                  return (
                    <tr>
                      <td><a href={itemPath(module.name, item.id)}>{item.id}</a></td>
                      <td>{name(item.goldenId).map((n, i) => <>{i > 0 ? ' · ' : ''}<Name>{n}</Name></>)}</td>
                      <td>{best ? name(best.goldenId).map((n, i) => <>{i > 0 ? ' · ' : ''}<Name>{n}</Name></>) : '—'}</td>
                      <td class="num">{best ? formatDecimal(best.score) : '—'}</td>
                      <td><code>{item.source.system}</code> <small><Name>{item.source.id}</Name></small></td>
                      <td>{formatDateTime(item.createdAt)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <NextPage next={queue.next} query={c.req.query()} path={page.path} />
      </Layout>,
    );
  });

  app.get('/review/:referential/:id{[0-9]+}', requirePage(page), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const module = reviewedModule(c, c.req.param('referential'), 'referential');
    const id = checkedId(c.req.param('id'), 'id');
    const db = c.var.deps.db;
    const item = await reviewItem(db, module.name, id);
    if (!item) return render(c, <Layout title="Élément introuvable" current="review" operator={operator} csrfToken={csrfToken}><p role="alert" class="problem">Aucun élément de revue n° {id} dans {module.name}.</p></Layout>, 404);
    const { comparison } = await compare(db, item);
    const liveMerge = item.status === 'linked' ? await liveMergeOf(db, module.name, item.goldenId) : undefined;
    const done = doneNotices[c.req.query('done') ?? ''];
    const thresholds = module.thresholds;
    return render(
      c,
      <Layout title={`Doublon possible n° ${item.id}`} current="review" operator={operator} csrfToken={csrfToken}>
        {done ? <p role="status" class="notice">{done}</p> : null}
        <dl class="facts">
          <dt>Référentiel</dt><dd>{module.name}</dd>
          <dt>Apporté par</dt><dd><code>{item.source.system}</code> <Name>{item.source.id}</Name>, le {formatDateTime(item.createdAt)}</dd>
          <dt>État</dt><dd>{statusLabels[item.status]}{item.decidedAt ? <> — par <code>{item.decidedBy}</code> le {formatDateTime(item.decidedAt)} : « <Name>{item.reason}</Name> »</> : null}</dd>
          {thresholds ? <><dt>Seuils</dt><dd>revue à partir de {formatDecimal(thresholds.review)}, fusion automatique à partir de {formatDecimal(thresholds.link)}</dd></> : null}
        </dl>
        <h2 id="cote-a-cote">Côte à côte</h2>
        <SideBySide comparison={comparison} referential={module.name} itemGoldenId={item.goldenId} />
        <h2 id="raisons">Les raisons du score</h2>
        <div class="columns">
          {comparison.candidates.map((c, i) => (
            <section aria-label={`Score du candidat ${i + 1}`}>
              <h3>Candidat {i + 1} : {formatDecimal(c.score)}</h3>
              {c.why ? <p class="why">{whyText(c.why, c.uncertain)}</p> : null}
              <table>
                <thead><tr><th scope="col">Champ</th><th scope="col" class="num">Poids</th></tr></thead>
                <tbody>{c.weights.map(([field, w]) => <tr><td><code>{field}</code></td><td class="num">{formatDecimal(w)}</td></tr>)}</tbody>
              </table>
            </section>
          ))}
        </div>
        {item.status === 'open' ? (
          <>
            <h2 id="decider">Décider</h2>
            <div class="cards">
              {comparison.candidates.map((c, i) => (
                <ActionForm action={`${itemPath(module.name, item.id)}/merge`} csrfToken={csrfToken} class="card">
                  <input type="hidden" name="goldenId" value={c.goldenId} />
                  <ReasonField id={`reason-merge-${i}`} />
                  <button type="submit">Fusionner dans le candidat {i + 1}</button>
                </ActionForm>
              ))}
              <ActionForm action={`${itemPath(module.name, item.id)}/distinct`} csrfToken={csrfToken} class="card">
                <ReasonField id="reason-distinct" />
                <button type="submit" class="danger">Marquer comme distincts</button>
              </ActionForm>
            </div>
          </>
        ) : null}
        {liveMerge ? (
          <>
            <h2 id="defaire">Défaire la fusion</h2>
            <ActionForm action={unmergePath(module.name, liveMerge)} csrfToken={csrfToken} class="card">
              <input type="hidden" name="item" value={item.id} />
              <p>Décision de fusion n° {liveMerge} : l'annuler rétablit les deux enregistrements, leurs liens et leurs clés.</p>
              <ReasonField id="reason-unmerge" />
              <button type="submit" class="danger">Défaire la fusion</button>
            </ActionForm>
          </>
        ) : null}
      </Layout>,
    );
  });

  const decide = (decision: 'link' | 'distinct') => async (c: Context<AppEnv>) => {
    const module = reviewedModule(c, c.req.param('referential'), 'referential');
    const id = checkedId(c.req.param('id') ?? '', 'id');
    const form = c.var.consoleForm;
    const goldenId = formText(form, 'goldenId');
    if (decision === 'link' && (goldenId === undefined || goldenId === '' || goldenId.length > 100)) throw new ConsoleInputError('goldenId', 'le candidat à garder est requis');
    const reason = stewardReason(formText(form, 'reason'));
    await decideReview(
      c.var.deps.db,
      { reviewId: id, decision, ...(decision === 'link' && goldenId ? { goldenId } : {}), actor: operatorActor(c.var.consoleSession.operator), reason, module },
      { reportFailure: backgroundFailureReporter(c.var.deps.logger, c.var.deps.metrics) },
    );
    return c.redirect(itemPath(module.name, id, decision === 'link' ? 'merged' : 'distinct'), 303);
  };
  app.post('/review/:referential/:id{[0-9]+}/merge', requireAction(deciders), decide('link'));
  app.post('/review/:referential/:id{[0-9]+}/distinct', requireAction(deciders), decide('distinct'));

  app.post('/review/:referential/merges/:decisionId{[0-9]+}/unmerge', requireAction(deciders), async (c) => {
    const module = reviewedModule(c, c.req.param('referential'), 'referential');
    const decisionId = checkedId(c.req.param('decisionId'), 'decisionId');
    const reason = stewardReason(formText(c.var.consoleForm, 'reason'));
    await unmerge(c.var.deps.db, module, { mergeDecisionId: decisionId, actor: operatorActor(c.var.consoleSession.operator), reason }, { reportFailure: backgroundFailureReporter(c.var.deps.logger, c.var.deps.metrics) });
    // Back to the review item the merge came from, when the form came from one; else to the record that was merged.
    const from = formText(c.var.consoleForm, 'item');
    const back = from && reviewIdPattern.test(from) ? itemPath(module.name, from, 'unmerged') : `${page.path}?ref=${encodeURIComponent(module.name)}&status=linked`;
    return c.redirect(back, 303);
  });
}
