// Referentials: search persons, companies, vehicles (the referential service's trigram search, Arabic or Latin, or an
// identifier) and the territory; a golden record with each attribute's value, source and date, as of an instant, its
// history and its source records. Read-only: decisions are taken on the review page.
import type { Hono } from 'hono';
import { getGolden, sourceRefs } from '../../golden/reads.ts';
import type { ReferentialModule } from '../../golden/module.ts';
import type { AppEnv } from '../../http/context.ts';
import { parseInstant } from '../../storage/storable.ts';
import { ConsoleInputError } from '../errors.ts';
import { formatCount, formatDateTime } from '../format.ts';
import { attributeLines, recordNames } from '../golden-view.ts';
import { requirePage } from '../guard.ts';
import { ActionForm, Layout, Name, NextPage } from '../layout.tsx';
import { pages } from '../navigation.ts';
import { decodeCursor, encodeCursor } from '../pagination.ts';
import { liveMergeOf, recordHistory, searchRecords, searchText, sourceAttributes } from '../referential-lookup.ts';
import { render } from '../render.tsx';
import { recordPath, unmergePath } from '../data-paths.ts';

const page = pages.referentials;
const referentialLabels: Record<string, string> = { persons: 'Personnes', companies: 'Entreprises', vehicles: 'Véhicules', territory: 'Territoire' };
const statusLabels: Record<string, string> = { active: 'actif', merged: 'fusionné', retired: 'retiré' };
const goldenIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
/** A name in a search cursor: text PostgreSQL stores (no control character, no lone surrogate), at most 500 units. */
const searchCursorName = /^(?:[^\u0000-\u001f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff]){1,500}$/;

/** The catalog's referential of that name, or a 400 naming the field (never a 500 for a name typed in the URL). */
function moduleOf(c: { var: AppEnv['Variables'] }, name: string, field: string): ReferentialModule {
  const module = c.var.deps.referentials?.module(name);
  if (!module) throw new ConsoleInputError(field, "ce référentiel n'existe pas sur ce hub");
  return module;
}


function SearchForm(props: { names: string[]; referential: string; q: string }) {
  return (
    <form class="search" method="get" action={page.path} role="search">
      <div class="field">
        <label for="ref">Référentiel</label>
        <select id="ref" name="ref">
          {props.names.map((n) => (
            <option value={n} selected={n === props.referential}>
              {referentialLabels[n] ?? n}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="q">Nom ou identifiant (arabe ou latin)</label>
        <input id="q" name="q" type="search" value={props.q} minlength={2} maxlength={200} dir="auto" />
      </div>
      <button type="submit">Rechercher</button>
    </form>
  );
}

/** A referential of shipped reference data (the territory): its units nearest the query, 50 at most. */
function ReferenceResults(props: { search: NonNullable<ReferentialModule['searchReference']>; q: string }) {
  const hits = props.search(props.q, 50);
  if (hits.length === 0) return <p>Aucune unité ne correspond.</p>;
  return (
    <div class="table-scroll" tabindex={0}>
      <table>
        <caption>Unités territoriales (les 50 plus proches)</caption>
        <thead><tr><th scope="col">Code</th><th scope="col">Type</th><th scope="col">Nom (français)</th><th scope="col">Nom (arabe)</th><th scope="col" class="num">Population 2024</th></tr></thead>
        <tbody>
          {hits.map((h) => (
            <tr>
              <td><code>{h.code}</code></td>
              <td>{h.kindLabel}</td>
              <td><Name>{h.nameFr}</Name></td>
              <td>{h.nameAr === undefined ? '' : <Name>{h.nameAr}</Name>}</td>
              <td class="num">{h.population === undefined ? '' : formatCount(h.population)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function registerReferentialRoutes(app: Hono<AppEnv>): void {
  app.get('/referentials', requirePage(page), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const names = c.var.deps.referentials?.names() ?? [];
    const referential = c.req.query('ref') ?? names[0] ?? 'territory';
    const q = searchText(c.req.query('q'));
    // Keyset: the last row's name (a blocking text, any script) and golden id.
    const cursor = decodeCursor(c.req.query('cursor'), [searchCursorName, goldenIdPattern]);
    const after = cursor ? { blockingText: cursor[0] ?? '', id: cursor[1] ?? '' } : undefined;
    let results = <p>Saisissez au moins deux caractères : un nom en arabe ou en latin, un CIN, un ICE, une plaque.</p>;
    const module = q === undefined ? undefined : moduleOf(c, referential, 'ref');
    if (q !== undefined && module?.searchReference) results = <ReferenceResults search={(query, limit) => module.searchReference?.(query, limit) ?? []} q={q} />;
    else if (q !== undefined && module) {
      const found = await searchRecords(c.var.deps.db, module, q, after);
      results =
        found.records.length === 0 ? <p>Aucun enregistrement ne correspond.</p> : (
          <>
            <div class="table-scroll" tabindex={0}>
              <table>
                <caption>Enregistrements de référence, les plus proches d'abord</caption>
                <thead><tr><th scope="col">Enregistrement</th><th scope="col">Statut</th><th scope="col" class="num">Similarité</th><th scope="col">Mis à jour</th></tr></thead>
                <tbody>
                  {found.records.map(({ golden, similarity }) => (
                    <tr>
                      <td>
                        <a href={recordPath(referential, golden.id)}>
                          {recordNames(referential, golden.attributes, golden.id).map((n, i) => (
                            <>{i > 0 ? ' · ' : ''}<Name>{n}</Name></>
                          ))}
                        </a>
                        <br /><small><code>{golden.id}</code></small>
                      </td>
                      <td>{statusLabels[golden.status] ?? golden.status}</td>
                      <td class="num">{similarity === null ? 'identifiant' : `${formatCount(Math.round(similarity * 100))} %`}</td>
                      <td>{formatDateTime(golden.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <NextPage next={found.next === undefined ? undefined : encodeCursor([found.next.blockingText, found.next.id])} query={c.req.query()} path={page.path} />
          </>
        );
    }
    return render(
      c,
      <Layout title={page.label} current="referentials" operator={operator} csrfToken={csrfToken}>
        <SearchForm names={names} referential={referential} q={q ?? ''} />
        <section aria-label="Résultats">{results}</section>
      </Layout>,
    );
  });

  app.get('/referentials/:referential/:goldenId', requirePage(page), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const referential = c.req.param('referential');
    const goldenId = c.req.param('goldenId');
    const module = moduleOf(c, referential, 'referential');
    if (!goldenIdPattern.test(goldenId)) throw new ConsoleInputError('goldenId', "n'est pas un identifiant d'enregistrement");
    const asOfText = c.req.query('asOf');
    const instant = asOfText ? parseInstant(asOfText) : undefined;
    if (instant && !instant.ok) throw new ConsoleInputError('asOf', `date invalide (${instant.message})`);
    const asOf = instant?.ok ? instant.at : undefined;
    const db = c.var.deps.db;
    const record = await getGolden(db, module.name, goldenId, asOf ? { asOf } : {});
    if (!record) {
      return render(c, <Layout title="Enregistrement introuvable" current="referentials" operator={operator} csrfToken={csrfToken}><p role="alert" class="problem">Aucun enregistrement {goldenId} dans ce référentiel{asOf ? ` au ${formatDateTime(asOf)}` : ''}.</p></Layout>, 404);
    }
    const [history, sources, liveMerge] = await Promise.all([
      recordHistory(db, module.name, goldenId),
      sourceRefs(db, module.name, goldenId),
      record.status === 'merged' ? liveMergeOf(db, module.name, goldenId) : Promise.resolve(undefined),
    ]);
    const sourceValues = await sourceAttributes(db, module.name, sources);
    const names = recordNames(module.name, record.attributes, record.id);
    return render(
      c,
      <Layout title={`${referentialLabels[module.name] ?? module.name} : enregistrement de référence`} current="referentials" operator={operator} csrfToken={csrfToken}>
        <p class="lead">
          {names.map((n, i) => (<>{i > 0 ? ' · ' : ''}<strong><Name>{n}</Name></strong></>))}
        </p>
        <dl class="facts">
          <dt>Identifiant</dt><dd><code>{record.id}</code></dd>
          <dt>Statut</dt><dd>{statusLabels[record.status] ?? record.status}{record.survivorId ? <> — fusionné dans <a href={recordPath(module.name, record.survivorId)}><code>{record.survivorId}</code></a></> : null}</dd>
          <dt>Version</dt><dd>{formatCount(record.version)}</dd>
          <dt>Vu</dt><dd>{asOf ? `tel qu'il était le ${formatDateTime(asOf)}` : 'état actuel'}</dd>
          {liveMerge ? <><dt>Fusion</dt><dd>décision n° {liveMerge}</dd></> : null}
        </dl>
        {liveMerge && (operator.role === 'admin' || operator.role === 'steward') ? (
          <ActionForm action={unmergePath(module.name, liveMerge)} csrfToken={csrfToken} class="card">
            <label for="reason-unmerge">Raison de défaire cette fusion (gardée dans le journal d'audit)</label>
            <textarea id="reason-unmerge" name="reason" required maxlength={1000} rows={2} dir="auto"></textarea>
            <button type="submit" class="danger">Défaire la fusion</button>
          </ActionForm>
        ) : null}
        <form class="search" method="get" action={recordPath(module.name, record.id)}>
          <div class="field">
            <label for="asOf">Tel qu'à l'instant (ISO 8601)</label>
            <input id="asOf" name="asOf" type="text" value={asOfText ?? ''} placeholder="2025-06-01T09:00:00Z" />
          </div>
          <button type="submit">Afficher</button>
        </form>
        <h2 id="attributs">Attributs</h2>
        <div class="table-scroll" tabindex={0}>
          <table aria-labelledby="attributs">
            <thead><tr><th scope="col">Attribut</th><th scope="col">Valeur</th><th scope="col">Source</th><th scope="col">Reçu le</th></tr></thead>
            <tbody>
              {attributeLines(record.attributes).map((l) => (
                <tr>
                  <th scope="row"><code>{l.path}</code></th>
                  <td><Name>{l.text}</Name></td>
                  <td><code>{l.sourceSystem}</code> <small><Name>{l.sourceId}</Name></small></td>
                  <td>{formatDateTime(new Date(l.at))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <h2 id="historique">Historique</h2>
        <div class="table-scroll" tabindex={0}>
          <table aria-labelledby="historique">
            <thead><tr><th scope="col">Version</th><th scope="col">Depuis</th><th scope="col">Cause</th><th scope="col">Statut</th></tr></thead>
            <tbody>
              {history.map((h) => (
                <tr>
                  <td class="num"><a href={recordPath(module.name, record.id, h.validFrom)}>{formatCount(h.version)}</a></td>
                  <td>{formatDateTime(h.validFrom)}</td>
                  <td><code>{h.cause}</code></td>
                  <td>{statusLabels[h.status] ?? h.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <h2 id="sources">Enregistrements sources</h2>
        {sources.length === 0 ? <p>Aucun enregistrement source n'est lié à celui-ci.</p> : (
          <div class="table-scroll" tabindex={0}>
            <table aria-labelledby="sources">
              <thead><tr><th scope="col">Système</th><th scope="col">Identifiant</th><th scope="col">Version</th><th scope="col">Lien</th><th scope="col">Attributs reçus</th></tr></thead>
              <tbody>
                {sources.map((s) => (
                  <tr>
                    <td><code>{s.system}</code></td>
                    <td><Name>{s.id}</Name></td>
                    <td class="num">{formatCount(s.version)}</td>
                    <td>{s.how} · {formatDateTime(s.linkedAt)}</td>
                    <td><Name>{JSON.stringify(sourceValues.get(`${s.system}\u0000${s.id}`) ?? {})}</Name></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Layout>,
    );
  });
}
