// The message log: search (time, client, service, purpose, status, subject identifier hashed with the hub's subject
// key as the log hashes it), keyset by seq, newest first; an entry's detail; "verify the chain" with its progress.
import type { Hono } from 'hono';
import { audit } from '../../admin/audit.ts';
import { operatorActor } from '../../admin/actor.ts';
import { hubOf } from '../../admin/http/shared.ts';
import { subjectHmac } from '../../exchange/subjects.ts';
import type { AppEnv } from '../../http/context.ts';
import type { Queryable, SqlValue } from '../../storage/db.ts';
import { isBigintText, parseInstant } from '../../storage/storable.ts';
import { ConsoleInputError } from '../errors.ts';
import { formatCount, formatDateTime, formatDecimal } from '../format.ts';
import { queryText, requireAction, requirePage } from '../guard.ts';
import { ActionForm, Layout, NextPage } from '../layout.tsx';
import { getVerification, startVerification, type VerificationJob } from '../log-verification.ts';
import { pages } from '../navigation.ts';
import { decodeCursor, defaultPageSize, toPage } from '../pagination.ts';
import { messagePage, render } from '../render.tsx';

export const subjectTypes = ['cin', 'ice', 'plate', 'vin', 'rc', 'if', 'cnss'] as const;
const seqPattern = /^\d{1,19}$/;

interface LogRow {
  seq: string;
  at: Date;
  client: string | null;
  service: string | null;
  operation: string | null;
  purpose: string | null;
  status: number;
  problem: string | null;
  duration_ms: number;
}

export interface LogSearch {
  from?: Date;
  to?: Date;
  client?: string;
  service?: string;
  purpose?: string;
  status?: 'ok' | 'refused' | number;
  problem?: string;
  subject?: { type: string; hmac: string };
}

/** A date-time from the form (datetime-local, read as UTC) or from a link (RFC 3339). */
function instant(value: string | undefined, field: string): Date | undefined {
  if (!value) return undefined;
  const text = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00Z` : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(value) ? `${value}Z` : value;
  const parsed = parseInstant(text);
  if (!parsed.ok) throw new ConsoleInputError(field, `${parsed.message}`);
  return parsed.at;
}

function short(field: string, value: string | undefined, max = 400): string | undefined {
  const text = queryText(value, field);
  if (!text) return undefined;
  if (text.length > max) throw new ConsoleInputError(field, `au plus ${max} caractères`);
  return text;
}

/** The query string read into a search, every field checked before any SQL. */
export function parseLogSearch(query: Record<string, string>, subjectKey: Buffer): LogSearch {
  const status = short('status', query.status, 10);
  let parsedStatus: LogSearch['status'];
  if (status === 'ok' || status === 'refused') parsedStatus = status;
  else if (status !== undefined) {
    if (!/^[1-5]\d\d$/.test(status)) throw new ConsoleInputError('status', 'ok, refused ou un code HTTP (200 à 599)');
    parsedStatus = Number(status);
  }
  const subjectValue = short('subject', query.subject, 100);
  const subjectType = short('subjectType', query.subjectType, 10) ?? 'cin';
  if (!(subjectTypes as readonly string[]).includes(subjectType)) throw new ConsoleInputError('subjectType', subjectTypes.join(', '));
  return {
    from: instant(query.from, 'from'),
    to: instant(query.to, 'to'),
    client: short('client', query.client),
    service: short('service', query.service, 64),
    purpose: short('purpose', query.purpose, 64),
    status: parsedStatus,
    problem: short('problem', query.problem, 64),
    subject: subjectValue ? { type: subjectType, hmac: subjectHmac(subjectKey, subjectType, subjectValue) } : undefined,
  };
}

/** One keyset page of the log, newest first. */
export async function searchLog(db: Queryable, search: LogSearch, beforeSeq: string | undefined, size = defaultPageSize): Promise<LogRow[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: (p: string) => string, value: SqlValue) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (search.from) add((p) => `l.at >= ${p}`, search.from);
  if (search.to) add((p) => `l.at < ${p}`, search.to);
  if (search.client) add((p) => `l.client = ${p}`, search.client);
  if (search.service) add((p) => `l.service = ${p}`, search.service);
  if (search.purpose) add((p) => `l.purpose = ${p}`, search.purpose);
  if (search.problem) add((p) => `l.problem = ${p}`, search.problem);
  if (search.status === 'ok') where.push('l.problem IS NULL');
  else if (search.status === 'refused') where.push('l.problem IS NOT NULL');
  else if (typeof search.status === 'number') add((p) => `l.status = ${p}`, search.status);
  if (beforeSeq) add((p) => `l.seq < ${p}::bigint`, beforeSeq);
  // By subject: the subjects' primary key (subject_hmac, seq) gives that subject's exchanges in seq order.
  const from = search.subject ? 'message_subjects s JOIN message_log l ON l.seq = s.seq' : 'message_log l';
  if (search.subject) add((p) => `s.subject_hmac = ${p}`, search.subject.hmac);
  params.push(size + 1);
  const { rows } = await db.query<LogRow>(
    `SELECT l.seq::text AS seq, l.at, l.client, l.service, l.operation, l.purpose, l.status, l.problem, l.duration_ms
       FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY l.seq DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}

function Progress({ job }: { job: VerificationJob }) {
  const done = job.result !== undefined || job.failed === true;
  return (
    // While it runs, htmx asks for this fragment again every second and swaps it in place.
    <div id="verification" {...(done ? {} : { 'hx-get': `/console/log/verify/${job.id}`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' })} aria-live="polite">
      {job.failed ? (
        <p class="bad" role="alert">La vérification a échoué (voir le journal du hub).</p>
      ) : job.result ? (
        job.result.ok ? (
          <p class="ok" role="status" data-result="ok">
            Chaîne intègre : {formatCount(job.result.rowsChecked)} lignes et {formatCount(job.result.checkpointsChecked)} points de contrôle vérifiés
            {job.result.firstSeq ? ` (n° ${job.result.firstSeq} à ${job.result.lastSeq ?? '?'})` : ''}.
          </p>
        ) : (
          <div role="alert" data-result="problems">
            <p class="bad">La chaîne n'est pas intègre : {formatCount(job.result.problems.length)} problème(s) sur {formatCount(job.result.rowsChecked)} lignes.</p>
            <ul>{job.result.problems.slice(0, 100).map((p) => <li>n° {p.seq} — {p.kind} : {p.detail}</li>)}</ul>
          </div>
        )
      ) : (
        <p role="status">
          Vérification en cours : {formatCount(job.rowsChecked)} / {formatCount(job.total)} lignes
          <br />
          <progress max={Math.max(job.total, 1)} value={job.rowsChecked} aria-label="Progression de la vérification"></progress>
        </p>
      )}
    </div>
  );
}

// Long because it registers the page's four routes together (search, entry, start a verification, its progress).
export function registerLogRoutes(app: Hono<AppEnv>): void {

  app.get('/log', requirePage(pages.log), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const query = c.req.query();
    const { keyring } = hubOf(c.var.deps);
    const search = parseLogSearch(query, keyring.subjectKey);
    const before = decodeCursor(query.cursor, [seqPattern])?.[0];
    if (before !== undefined && !isBigintText(before)) throw new ConsoleInputError('cursor', 'curseur invalide');
    const page = toPage(await searchLog(c.var.deps.db, search, before), defaultPageSize, (r) => [r.seq]);
    const field = (name: string) => query[name] ?? '';
    const job = query.verification ? await getVerification(c.var.deps.db, query.verification) : undefined;
    return render(
      c,
      <Layout title={pages.log.label} current="log" operator={operator} csrfToken={csrfToken}>
        <form method="get" action={pages.log.path} class="search" role="search">
          <div class="field"><label for="from">Du (UTC)</label><input id="from" name="from" value={field('from')} placeholder="2026-01-01T00:00" size={20} /></div>
          <div class="field"><label for="to">Au (UTC)</label><input id="to" name="to" value={field('to')} placeholder="2026-01-02T00:00" size={20} /></div>
          <div class="field"><label for="client">Client</label><input id="client" name="client" value={field('client')} size={28} /></div>
          <div class="field"><label for="service">Service</label><input id="service" name="service" value={field('service')} size={14} /></div>
          <div class="field"><label for="purpose">Finalité</label><input id="purpose" name="purpose" value={field('purpose')} size={14} /></div>
          <div class="field"><label for="status">Statut</label><input id="status" name="status" value={field('status')} placeholder="ok, refused, 404…" size={10} /></div>
          <div class="field">
            <label for="subjectType">Type d'identifiant</label>
            <select id="subjectType" name="subjectType">{subjectTypes.map((t) => <option value={t} selected={t === (query.subjectType ?? 'cin')}>{t.toUpperCase()}</option>)}</select>
          </div>
          <div class="field"><label for="subject">Identifiant de la personne ou de l'objet</label><input id="subject" name="subject" value={field('subject')} size={16} autocomplete="off" /></div>
          {query.problem ? <input type="hidden" name="problem" value={query.problem} /> : null}
          <button type="submit">Rechercher</button>
        </form>
        <p><small>L'identifiant n'est ni stocké ni journalisé : la recherche porte sur son empreinte (HMAC), calculée comme le journal la calcule.</small></p>
        <div class="table-scroll">
          <table>
            <thead><tr><th scope="col">N°</th><th scope="col">Quand</th><th scope="col">Client</th><th scope="col">Service · opération</th><th scope="col">Finalité</th><th scope="col">Statut</th><th scope="col" class="num">Durée</th></tr></thead>
            <tbody>
              {page.rows.map((r) => (
                <tr>
                  <td><a href={`${pages.log.path}/${r.seq}`}>{r.seq}</a></td>
                  <td>{formatDateTime(r.at)}</td>
                  <td><code>{r.client ?? '—'}</code></td>
                  <td><code>{r.service ?? '—'}</code> · <code>{r.operation ?? '—'}</code></td>
                  <td>{r.purpose ?? '—'}</td>
                  <td class={r.problem ? 'bad' : 'ok'}>{r.status}{r.problem ? ` ${r.problem}` : ''}</td>
                  <td class="num">{formatDecimal(r.duration_ms)} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {page.rows.length === 0 ? <p>Aucun échange ne correspond.</p> : null}
        <NextPage next={page.next} query={query} path={pages.log.path} />
        <h2 id="verifier">Vérifier la chaîne</h2>
        <p>Recalcule le hachage de chaque ligne et vérifie les points de contrôle signés par le hub.</p>
        {job ? <Progress job={job} /> : (
          <ActionForm action="/console/log/verify" csrfToken={csrfToken}>
            <button type="submit">Vérifier la chaîne</button>
          </ActionForm>
        )}
      </Layout>,
    );
  });

  app.get('/log/verify/:job', requirePage(pages.log), async (c) => {
    const job = await getVerification(c.var.deps.db, c.req.param('job'));
    if (!job) return messagePage(c, 404, 'Vérification introuvable', "Cette vérification n'est pas (ou plus) connue du hub (gardée une heure).");
    c.header('cache-control', 'no-store');
    return c.html(<Progress job={job} />);
  });

  app.get('/log/:seq{[0-9]+}', requirePage(pages.log), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const seq = c.req.param('seq');
    if (!isBigintText(seq)) throw new ConsoleInputError('seq', 'un numéro de ligne du journal est attendu');
    const { rows } = await c.var.deps.db.query<LogRow & { request_id: string; convention_id: string | null; convention_version: number | null; provider_ms: number | null; request_digest: string; response_digest: string; hash: string; prev_hash: string }>(
      `SELECT seq::text AS seq, at, request_id, client, service, operation, purpose, convention_id, convention_version, status, problem, duration_ms, provider_ms,
              request_digest, response_digest, hash, prev_hash FROM message_log WHERE seq = $1::bigint`,
      [seq],
    );
    const row = rows[0];
    if (!row) return messagePage(c, 404, 'Entrée introuvable', `Aucune ligne n° ${seq} dans le journal.`);
    const subjects = await c.var.deps.db.query<{ subject_type: string; location: string; subject_hmac: string }>('SELECT subject_type, location, subject_hmac FROM message_subjects WHERE seq = $1::bigint ORDER BY location LIMIT 100', [seq]);
    return render(
      c,
      <Layout title={`Échange n° ${row.seq}`} current="log" operator={operator} csrfToken={csrfToken}>
        <dl class="facts">
          <dt>Quand</dt><dd>{formatDateTime(row.at)}</dd>
          <dt>Requête</dt><dd><code>{row.request_id}</code></dd>
          <dt>Client</dt><dd><code>{row.client ?? '—'}</code></dd>
          <dt>Service</dt><dd><code>{row.service ?? '—'}</code> · <code>{row.operation ?? '—'}</code></dd>
          <dt>Finalité</dt><dd>{row.purpose ?? '—'}</dd>
          <dt>Convention</dt><dd>{row.convention_id ? <a href={`${pages.conventions.path}/detail?${new URLSearchParams({ id: row.convention_id, version: String(row.convention_version ?? 1) }).toString()}`}>{row.convention_id} v{row.convention_version}</a> : '—'}</dd>
          <dt>Statut</dt><dd class={row.problem ? 'bad' : 'ok'}>{row.status}{row.problem ? ` (${row.problem})` : ''}</dd>
          <dt>Durée</dt><dd>{formatDecimal(row.duration_ms)} ms{row.provider_ms !== null ? ` dont fournisseur ${formatDecimal(row.provider_ms)} ms` : ''}</dd>
          <dt>Empreinte requête</dt><dd><code>{row.request_digest}</code></dd>
          <dt>Empreinte réponse</dt><dd><code>{row.response_digest}</code></dd>
          <dt>Hachage</dt><dd><code>{row.hash}</code></dd>
          <dt>Précédent</dt><dd><code>{row.prev_hash}</code></dd>
        </dl>
        <h2>Personnes et objets concernés (empreintes)</h2>
        {subjects.rows.length === 0 ? <p>Aucun.</p> : (
          <ul>{subjects.rows.map((s) => <li>{s.subject_type.toUpperCase()} à <code>{s.location}</code> : <code>{s.subject_hmac}</code></li>)}</ul>
        )}
      </Layout>,
    );
  });

  app.post('/log/verify', requireAction(pages.log.roles), async (c) => {
    const { operator } = c.var.consoleSession;
    const { keyring } = hubOf(c.var.deps);
    const job = await startVerification(c.var.deps.db, keyring, operator.id, c.var.deps.logger);
    await audit(c.var.deps.db, operatorActor(operator), 'console.log.verify', 'message_log', { verification: job.id });
    return c.redirect(`${pages.log.path}?verification=${job.id}#verifier`, 303);
  });
}
