// Conventions: the stored versions with state and validity (keyset by id and version), a version's detail with each
// signature re-verified as the hub does it (conventionDetail), and activate (the three files uploaded) and revoke,
// both admin-only and through the admin API's own functions, so that the audit row names the operator.
import type { Hono } from 'hono';
import { operatorActor } from '../../admin/actor.ts';
import { activateConventionContents } from '../../admin/conventions.ts';
import { hubOf } from '../../admin/http/shared.ts';
import { conventionDetail, revokeConvention, type ConventionStatus } from '../../conventions/store.ts';
import type { SignatureCheck } from '../../conventions/signing.ts';
import { memberKeyResolver } from '../../identity/key-resolvers.ts';
import type { AppEnv } from '../../http/context.ts';
import { textFault } from '../../storage/storable.ts';
import { ConsoleInputError } from '../errors.ts';
import { formatDateTime } from '../format.ts';
import { formText, queryText, requireAction, requirePage } from '../guard.ts';
import { ActionForm, Layout, Name, NextPage } from '../layout.tsx';
import { pages } from '../navigation.ts';
import { decodeCursor, defaultPageSize, toPage } from '../pagination.ts';
import { messagePage, render } from '../render.tsx';

const idPattern = /^[A-Za-z0-9._-]{1,128}$/;
const versionPattern = /^\d{1,9}$/;
const statusLabels: Record<ConventionStatus, string> = { active: 'active', superseded: 'remplacée', revoked: 'révoquée' };
const roleLabels: Record<string, string> = { provider: 'fournisseur', consumer: 'consommateur', hub: 'hub' };

interface ConventionListRow {
  id: string;
  version: number;
  provider: string;
  service: string;
  consumer: string;
  status: ConventionStatus;
  title: string | null;
  valid_from: string | null;
  valid_until: string | null;
  activated_at: Date;
}

const detailPath = (id: string, version: number) => `${pages.conventions.path}/detail?${new URLSearchParams({ id, version: String(version) }).toString()}`;

function parseIdent(id: string | undefined, version: string | undefined): { id: string; version: number } {
  if (!id || !idPattern.test(id)) throw new ConsoleInputError('id', 'un identifiant de convention [A-Za-z0-9._-] est attendu');
  if (!version || !versionPattern.test(version) || Number(version) < 1) throw new ConsoleInputError('version', 'un numéro de version (entier positif) est attendu');
  return { id, version: Number(version) };
}

function Signatures(props: { signatures: SignatureCheck[]; activatedAt: Date }) {
  return (
    <div class="table-scroll">
      <table>
        <thead><tr><th scope="col">Signataire</th><th scope="col">Rôle</th><th scope="col">Clé</th><th scope="col">Quand</th><th scope="col">Vérification</th></tr></thead>
        <tbody>
          {props.signatures.map((s) => (
            <tr>
              <td><code>{s.signer ?? '—'}</code></td>
              <td>{s.role ? (roleLabels[s.role] ?? s.role) : '—'}</td>
              <td><code>{s.kid ?? '—'}</code> {s.alg ?? ''}</td>
              {/* The parties sign before activation (their header carries no time); the hub countersigns at activation. */}
              <td>{s.role === 'hub' ? formatDateTime(props.activatedAt) : "avant l'activation"}</td>
              <td class={s.ok ? 'ok' : 'bad'}>{s.ok ? 'valide' : `invalide : ${s.reason ?? ''}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

async function uploadedText(form: Record<string, string | File>, name: string): Promise<string> {
  const value = form[name];
  const text = typeof value === 'string' ? value : value ? await value.text() : '';
  if (!text.trim()) throw new ConsoleInputError(name, 'fichier manquant ou vide');
  const fault = textFault(text);
  if (fault) throw new ConsoleInputError(name, fault);
  return text;
}

// Long because it registers the page's four routes together (list, detail, activate, revoke), each short.
export function registerConventionRoutes(app: Hono<AppEnv>): void {
  app.get('/conventions', requirePage(pages.conventions), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const status = queryText(c.req.query('status'), 'status') || undefined;
    if (status !== undefined && !(status in statusLabels)) throw new ConsoleInputError('status', 'active, superseded ou revoked');
    const after = decodeCursor(c.req.query('cursor'), [idPattern, versionPattern]);
    const { rows } = await c.var.deps.db.query<ConventionListRow>(
      `SELECT id, version, provider, service, consumer, status, document->>'title' AS title, document->>'validFrom' AS valid_from, document->>'validUntil' AS valid_until, activated_at
         FROM conventions
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR (id, version) > ($2, $3::int))
        ORDER BY id, version LIMIT $4`,
      [status ?? null, after?.[0] ?? null, after?.[1] ?? null, defaultPageSize + 1],
    );
    const page = toPage(rows, defaultPageSize, (r) => [r.id, r.version]);
    return render(
      c,
      <Layout title={pages.conventions.label} current="conventions" operator={operator} csrfToken={csrfToken}>
        <form method="get" action={pages.conventions.path} class="search">
          <div class="field">
            <label for="status">État</label>
            <select id="status" name="status">
              <option value="">tous</option>
              {Object.entries(statusLabels).map(([value, label]) => <option value={value} selected={value === status}>{label}</option>)}
            </select>
          </div>
          <button type="submit">Filtrer</button>
        </form>
        <div class="table-scroll">
          <table>
            <thead><tr><th scope="col">Convention</th><th scope="col">Version</th><th scope="col">Fournisseur · service</th><th scope="col">Consommateur</th><th scope="col">État</th><th scope="col">Validité</th></tr></thead>
            <tbody>
              {page.rows.map((r) => (
                <tr>
                  <td><a href={detailPath(r.id, r.version)}>{r.title ? <Name>{r.title}</Name> : <code>{r.id}</code>}</a></td>
                  <td class="num">{r.version}</td>
                  <td><code>{r.provider}</code> · <code>{r.service}</code></td>
                  <td><code>{r.consumer}</code></td>
                  <td class={r.status === 'active' ? 'ok' : undefined}>{statusLabels[r.status]}</td>
                  <td>{r.valid_from ?? '?'} → {r.valid_until ?? '?'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <NextPage next={page.next} query={c.req.query()} path={pages.conventions.path} />
        {operator.role === 'admin' ? (
          <>
            <h2 id="activer">Activer une convention</h2>
            <p>Les trois fichiers signés par le fournisseur et le consommateur : le hub vérifie leurs signatures, contresigne et applique la convention.</p>
            <form method="post" action="/console/conventions/activate" enctype="multipart/form-data" class="search">
              <input type="hidden" name="_csrf" value={csrfToken} />
              <div class="field"><label for="yaml">Convention (.yaml)</label><input id="yaml" name="yaml" type="file" accept=".yaml,.yml" required /></div>
              <div class="field"><label for="openapi">OpenAPI du service (.yaml)</label><input id="openapi" name="openapi" type="file" accept=".yaml,.yml,.json" required /></div>
              <div class="field"><label for="jws">Signatures (.jws)</label><input id="jws" name="jws" type="file" accept=".jws,.json" required /></div>
              <button type="submit">Vérifier et activer</button>
            </form>
          </>
        ) : null}
      </Layout>,
    );
  });

  app.get('/conventions/detail', requirePage(pages.conventions), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const ident = parseIdent(c.req.query('id'), c.req.query('version'));
    const { keyring } = hubOf(c.var.deps);
    const detail = await conventionDetail(c.var.deps.db, ident.id, ident.version, { resolveKey: memberKeyResolver(c.var.deps.db), keyring });
    if (!detail) return messagePage(c, 404, 'Convention introuvable', `Aucune convention ${ident.id} en version ${ident.version}.`);
    const doc = detail.document as { title?: string; purposes?: Array<{ code: string; description: string; legalBasis: string }>; operations?: Array<{ operationId: string; fields?: string[] }>; validFrom?: string; validUntil?: string; quota?: { count: number; windowSeconds: number } };
    return render(
      c,
      <Layout title={doc.title ?? detail.id} current="conventions" operator={operator} csrfToken={csrfToken}>
        <dl class="facts">
          <dt>Identifiant</dt><dd><code>{detail.id}</code> (version {detail.version})</dd>
          <dt>Fournisseur</dt><dd><code>{detail.provider}</code>, service <code>{detail.service}</code></dd>
          <dt>Consommateur</dt><dd><code>{detail.consumer}</code></dd>
          <dt>État</dt><dd>{statusLabels[detail.status]}{detail.revokedAt ? ` le ${formatDateTime(detail.revokedAt)} par ${detail.revokedBy ?? '?'} : ${detail.revokedReason ?? ''}` : ''}</dd>
          <dt>Validité</dt><dd>{doc.validFrom ?? '?'} → {doc.validUntil ?? '?'}</dd>
          <dt>Activée</dt><dd>{formatDateTime(detail.activatedAt)} par <code>{detail.activatedBy}</code></dd>
          <dt>Quota</dt><dd>{doc.quota ? `${doc.quota.count} appels par ${doc.quota.windowSeconds} s` : '—'}</dd>
          <dt>Vérification</dt><dd class={detail.problems.length === 0 ? 'ok' : 'bad'}>{detail.problems.length === 0 ? 'les trois signatures sont valides' : detail.problems.join(' ; ')}</dd>
        </dl>
        <h2>Signatures</h2>
        <Signatures signatures={detail.signatures} activatedAt={detail.activatedAt} />
        <h2>Finalités</h2>
        <ul>{(doc.purposes ?? []).map((p) => <li><code>{p.code}</code> : <Name>{p.description}</Name> <small>({p.legalBasis})</small></li>)}</ul>
        <h2>Opérations et champs</h2>
        <ul>{(doc.operations ?? []).map((o) => <li><code>{o.operationId}</code>{o.fields ? <> : {o.fields.map((f) => <code>{f} </code>)}</> : ' : toute la réponse'}</li>)}</ul>
        {operator.role === 'admin' && detail.status === 'active' ? (
          <>
            <h2>Révoquer</h2>
            <ActionForm action="/console/conventions/revoke" csrfToken={csrfToken} class="search">
              <input type="hidden" name="id" value={detail.id} />
              <input type="hidden" name="version" value={String(detail.version)} />
              <div class="field"><label for="reason">Motif</label><input id="reason" name="reason" required maxlength={500} size={40} /></div>
              <button type="submit" class="danger">Révoquer cette convention</button>
            </ActionForm>
          </>
        ) : null}
      </Layout>,
    );
  });

  app.post('/conventions/activate', requireAction(['admin']), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const form = c.var.consoleForm;
    const files = { yaml: await uploadedText(form, 'yaml'), openapi: await uploadedText(form, 'openapi'), jws: await uploadedText(form, 'jws') };
    const { keyring } = hubOf(c.var.deps);
    const result = await activateConventionContents(c.var.deps.db, files, { keyring, actor: operatorActor(operator) });
    return render(
      c,
      <Layout title="Convention activée" current="conventions" operator={operator} csrfToken={csrfToken}>
        <p role="status" class="ok">
          La convention <code>{result.id}</code> est active en version {result.version}
          {result.superseded ? ` (elle remplace la version ${result.superseded})` : ''} ; chaque processus du hub l'applique dès sa prochaine relecture du registre.
        </p>
        <Signatures signatures={result.verification.signatures} activatedAt={new Date()} />
        <p><a href={detailPath(result.id, result.version)}>Voir la convention</a></p>
      </Layout>,
      200,
    );
  });

  app.post('/conventions/revoke', requireAction(['admin']), async (c) => {
    const form = c.var.consoleForm;
    const ident = parseIdent(formText(form, 'id'), formText(form, 'version'));
    const reason = formText(form, 'reason') ?? '';
    if (reason.length < 1 || reason.length > 500) throw new ConsoleInputError('reason', 'un motif de 1 à 500 caractères est attendu');
    await revokeConvention(c.var.deps.db, { ...ident, reason, actor: operatorActor(c.var.consoleSession.operator) });
    return c.redirect(detailPath(ident.id, ident.version), 303);
  });
}

