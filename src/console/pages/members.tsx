// Members and keys: the list (keyset by id), a member's detail with its keys and their rotation state, and disable /
// enable (admin), through the admin API's own service function so that the audit row names the operator.
import type { Hono } from 'hono';
import { operatorActor } from '../../admin/actor.ts';
import { countMembers, getMember, listMembersPage, setMemberStatus, type Member } from '../../identity/members.ts';
import type { AppEnv } from '../../http/context.ts';
import { ConsoleInputError } from '../errors.ts';
import { formatCount, formatDateTime } from '../format.ts';
import { formText, requireAction, requirePage } from '../guard.ts';
import { ActionForm, Layout, Name, NextPage } from '../layout.tsx';
import { pages } from '../navigation.ts';
import { decodeCursor, defaultPageSize, toPage } from '../pagination.ts';
import { messagePage, render } from '../render.tsx';

const memberIdPattern = /^[A-Za-z0-9/._-]{1,400}$/;
const statusLabels = { active: 'actif', disabled: 'désactivé' } as const;

/** Where a member's keys stand: one active key (steady), two or more (a rotation under way), none (cannot sign). */
export function rotationState(member: Pick<Member, 'keys'>): string {
  const active = member.keys.filter((k) => k.status === 'active').length;
  if (active === 0) return member.keys.length === 0 ? 'aucune clé' : 'aucune clé active';
  if (active === 1) return 'une clé active';
  return `rotation en cours (${active} clés actives)`;
}

const memberPath = (id: string) => `${pages.members.path}/detail?${new URLSearchParams({ id }).toString()}`;

export function registerMemberRoutes(app: Hono<AppEnv>): void {
  app.get('/members', requirePage(pages.members), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const after = decodeCursor(c.req.query('cursor'), [memberIdPattern])?.[0];
    // Keyset by id: size + 1 members after the cursor (and their keys), then one count for the heading.
    const page = toPage(await listMembersPage(c.var.deps.db, { after, limit: defaultPageSize + 1 }), defaultPageSize, (m) => [m.id]);
    const total = await countMembers(c.var.deps.db);
    return render(
      c,
      <Layout title={pages.members.label} current="members" operator={operator} csrfToken={csrfToken}>
        <p>{formatCount(total)} membres et sous-systèmes.</p>
        <div class="table-scroll">
          <table>
            <thead>
              <tr><th scope="col">Nom</th><th scope="col">Identifiant</th><th scope="col">Type</th><th scope="col">État</th><th scope="col">Clés</th></tr>
            </thead>
            <tbody>
              {page.rows.map((m) => (
                <tr>
                  <td><a href={memberPath(m.id)}><Name>{m.name}</Name></a></td>
                  <td><code>{m.id}</code></td>
                  <td>{m.kind === 'member' ? 'membre' : 'sous-système'}</td>
                  <td class={m.status === 'active' ? 'ok' : 'bad'}>{statusLabels[m.status]}</td>
                  <td>{rotationState(m)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <NextPage next={page.next} query={c.req.query()} path={pages.members.path} />
      </Layout>,
    );
  });

  app.get('/members/detail', requirePage(pages.members), async (c) => {
    const { operator, csrfToken } = c.var.consoleSession;
    const id = c.req.query('id') ?? '';
    if (!memberIdPattern.test(id)) throw new ConsoleInputError('id', 'un identifiant de membre (INSTANCE/CLASSE/CODE[/SOUS-SYSTÈME]) est attendu');
    const member = await getMember(c.var.deps.db, id);
    if (!member) return messagePage(c, 404, 'Membre introuvable', `Aucun membre ${id}.`);
    return render(
      c,
      <Layout title={member.name} current="members" operator={operator} csrfToken={csrfToken}>
        <dl class="facts">
          <dt>Nom</dt><dd><Name>{member.name}</Name></dd>
          <dt>Identifiant</dt><dd><code>{member.id}</code></dd>
          <dt>Type</dt><dd>{member.kind === 'member' ? 'membre' : 'sous-système'}</dd>
          <dt>État</dt><dd class={member.status === 'active' ? 'ok' : 'bad'}>{statusLabels[member.status]}</dd>
          <dt>Enregistré le</dt><dd>{formatDateTime(member.createdAt)}</dd>
          <dt>Clés</dt><dd>{rotationState(member)}</dd>
        </dl>
        <h2>Clés publiques</h2>
        {member.keys.length === 0 ? <p>Aucune clé enregistrée.</p> : (
          <div class="table-scroll">
            <table>
              <thead><tr><th scope="col">kid</th><th scope="col">Algorithme</th><th scope="col">État</th><th scope="col">Ajoutée le</th><th scope="col">Révoquée le</th></tr></thead>
              <tbody>
                {member.keys.map((k) => (
                  <tr>
                    <td><code>{k.kid}</code></td>
                    <td>{k.alg}</td>
                    <td class={k.status === 'active' ? 'ok' : 'bad'}>{k.status === 'active' ? 'active' : 'révoquée'}</td>
                    <td>{formatDateTime(k.createdAt)}</td>
                    <td>{formatDateTime(k.revokedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {operator.role === 'admin' ? (
          <>
            <h2>{member.status === 'active' ? 'Désactiver' : 'Réactiver'}</h2>
            <ActionForm action="/console/members/status" csrfToken={csrfToken} class="search">
              <input type="hidden" name="id" value={member.id} />
              <input type="hidden" name="status" value={member.status === 'active' ? 'disabled' : 'active'} />
              <div class="field">
                <label for="reason">Motif</label>
                <input id="reason" name="reason" maxlength={500} required size={40} />
              </div>
              <button type="submit" class={member.status === 'active' ? 'danger' : undefined}>
                {member.status === 'active' ? 'Désactiver ce membre' : 'Réactiver ce membre'}
              </button>
            </ActionForm>
            {member.status === 'active' && member.kind === 'member' ? <p>Désactiver un membre désactive ses sous-systèmes avec lui.</p> : null}
          </>
        ) : null}
      </Layout>,
    );
  });

  app.post('/members/status', requireAction(['admin']), async (c) => {
    const form = c.var.consoleForm;
    const id = formText(form, 'id') ?? '';
    const status = formText(form, 'status');
    const reason = formText(form, 'reason') ?? '';
    if (!memberIdPattern.test(id)) throw new ConsoleInputError('id', 'un identifiant de membre est attendu');
    if (status !== 'active' && status !== 'disabled') throw new ConsoleInputError('status', 'active ou disabled');
    if (reason.length < 1 || reason.length > 500) throw new ConsoleInputError('reason', 'un motif de 1 à 500 caractères est attendu');
    await setMemberStatus(c.var.deps.db, { id, status, reason, actor: operatorActor(c.var.consoleSession.operator) });
    return c.redirect(memberPath(id), 303);
  });
}
