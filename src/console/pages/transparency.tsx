// Transparency: a subject's view (who accessed data about this CIN, ICE or plate, when, why), as a citizen portal
// would show it: the same rows the hub's transparency service reports (subjectAccessRows), over the last year.
import type { Hono } from 'hono';
import { audit } from '../../admin/audit.ts';
import { operatorActor } from '../../admin/actor.ts';
import { hubOf } from '../../admin/http/shared.ts';
import { subjectHmac } from '../../exchange/subjects.ts';
import type { AppEnv } from '../../http/context.ts';
import { subjectAccessRows } from '../../transparency/service.ts';
import { ConsoleInputError } from '../errors.ts';
import { formatDate, formatDateTime } from '../format.ts';
import { queryText, requirePage } from '../guard.ts';
import { Layout, Name, NextPage } from '../layout.tsx';
import { pages } from '../navigation.ts';
import { decodeCursor, defaultPageSize, toPage } from '../pagination.ts';
import { render } from '../render.tsx';

const kinds = { cin: "carte d'identité (CIN)", ice: 'entreprise (ICE)', plate: 'véhicule (immatriculation)' } as const;
type Kind = keyof typeof kinds;

export function registerTransparencyRoutes(app: Hono<AppEnv>): void {
  app.get('/transparency', requirePage(pages.transparency), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const query = c.req.query();
    const type = (queryText(query.type, 'type') || 'cin') as Kind;
    if (!Object.hasOwn(kinds, type)) throw new ConsoleInputError('type', 'cin, ice ou plate');
    const id = queryText(query.id, 'id') ?? '';
    if (id.length > 100) throw new ConsoleInputError('id', 'au plus 100 caractères');
    const before = decodeCursor(query.cursor, [/^\d{1,19}$/])?.[0];
    const to = new Date();
    const from = new Date(to.getTime() - 365 * 86_400_000);
    let result: { rows: Awaited<ReturnType<typeof subjectAccessRows>>; next?: string } | undefined;
    if (id) {
      const { keyring } = hubOf(c.var.deps);
      const rows = await subjectAccessRows(c.var.deps.db, subjectHmac(keyring.subjectKey, type, id), { from, to, cursor: before ?? null, limit: defaultPageSize + 1 });
      result = toPage(rows, defaultPageSize, (r) => [r.seq]);
      // Looking up a person is itself an access worth a trace: who looked, for which kind (the identifier stays out).
      await audit(c.var.deps.db, operatorActor(operator), 'console.transparency.view', type, { hmac: subjectHmac(keyring.subjectKey, type, id) });
    }
    return render(
      c,
      <Layout title={pages.transparency.label} current="transparency" operator={operator} csrfToken={csrfToken}>
        <p>Qui a consulté des données sur cette personne, cette entreprise ou ce véhicule, quand et pourquoi, comme un portail citoyen le montrerait.</p>
        <form method="get" action={pages.transparency.path} class="search" role="search">
          <div class="field">
            <label for="type">Type</label>
            <select id="type" name="type">{Object.entries(kinds).map(([value, label]) => <option value={value} selected={value === type}>{label}</option>)}</select>
          </div>
          <div class="field"><label for="id">Identifiant</label><input id="id" name="id" value={id} required maxlength={100} autocomplete="off" /></div>
          <button type="submit">Afficher</button>
        </form>
        {result ? (
          <>
            <h2>Accès du {formatDate(from)} au {formatDate(to)}</h2>
            {result.rows.length === 0 ? <p>Aucun accès enregistré sur cette période.</p> : (
              <div class="table-scroll">
                <table>
                  <thead><tr><th scope="col">Quand</th><th scope="col">Qui</th><th scope="col">Quoi</th><th scope="col">Pourquoi</th><th scope="col">Résultat</th></tr></thead>
                  <tbody>
                    {result.rows.map((r) => (
                      <tr>
                        <td>{formatDateTime(r.at)}</td>
                        <td><Name>{r.client_name ?? r.client ?? '—'}</Name></td>
                        <td><code>{r.service ?? '—'}</code> · <code>{r.operation ?? '—'}</code></td>
                        <td><Name>{r.purposes?.find((p) => p.code === r.purpose)?.description ?? r.purpose ?? '—'}</Name></td>
                        <td>{r.status < 400 ? 'données transmises' : 'refusé'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <NextPage next={result.next} query={query} path={pages.transparency.path} />
          </>
        ) : null}
      </Layout>,
    );
  });
}
