// The complaints platform in the demo (adapters/demo/systems.ts): its simulator and the citizen portal's receiver
// start beside the hub; the ministry's statistics service is bound to the simulator (an adapter binding of this start,
// so a new address each start) and the portal's complaint-status service to the receiver; the adapter pulls the
// complainants, tells the portal of status changes through the exchange (signed with the platform's demo key), and
// receives golden person changes (a push subscription, created once; one to an earlier start's target is kept, the
// target `adapter:reclamations` does not change). Gentle activity: an agent moves a complaint on, now and then a
// citizen files a new one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { bindService } from '../../src/exchange/bindings.ts';
import { toFolderName } from '../../src/identity/ids.ts';
import { configureAdapter } from '../../src/sync/inbound.ts';
import { createSubscription, listSubscriptions } from '../../src/sync/subscriptions.ts';
import { Random } from '../../referentials/generator/random.ts';
import { startActivity } from '../demo/activity.ts';
import type { DemoSystemContext, RunningDemoSystem } from '../demo/demo-system.ts';
import { recordSimulator } from '../demo/simulator-record.ts';
import { categoryCodes, statuses, type Status } from './data.ts';
import { portalStatusService, portalSubsystem, reclamationsAdapter, reclamationsSubsystem, reclamationsSystem } from './adapter.ts';
import { complaintsBinding, complaintsService, ministrySubsystem } from './binding.ts';
import { startPortalReceiver } from './portal.ts';
import { startComplaintsSimulator, type ComplaintsSimulator } from './simulator.ts';


const bindingName = 'reclamations-complaints';
const personsPurpose = 'person-referential-sync';

async function ensurePersonSubscription(ctx: DemoSystemContext): Promise<string> {
  const { context } = ctx;
  const target = `adapter:${reclamationsAdapter.id}`;
  const found = (await listSubscriptions(context.db, { subscriber: reclamationsSubsystem, state: 'active' })).find((s) => s.referential === 'persons' && s.mode === 'push' && s.target === target);
  if (found) return found.id;
  const created = await createSubscription(
    { db: context.db, findConvention: (c, p, s) => context.services.conventions.find(c, p, s), referentials: context.services.referentials.names() },
    { subscriber: reclamationsSubsystem, referential: 'persons', purpose: personsPurpose, mode: 'push', target, from: 'now', batchSize: 100, actor: ctx.actor },
  );
  return created.id;
}

/** The move an agent makes next on a complaint in this status (mostly forward; now and then a complement or a reopening). */
function nextMove(status: Status, r: Random): Status | undefined {
  switch (status) {
    case 'deposee': return r.chance(0.9) ? 'en-cours' : 'rejetee';
    case 'en-cours': return r.chance(0.8) ? 'traitee' : 'en-attente-complement';
    case 'en-attente-complement': return 'en-cours';
    case 'traitee': return r.chance(0.9) ? 'cloturee' : 'en-cours';
    default: return undefined;
  }
}

/** One unit of activity, through the platform's own HTTP API as its agents' and citizens' screens would call it. */
async function activityStep(simulator: ComplaintsSimulator, token: string, r: Random, signal: AbortSignal): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  if (r.chance(0.2)) {
    const body = {
      complainant: { kind: 'person', lastNameArabic: 'العلوي', firstNameArabic: 'فاطمة', phone: `06${String(r.int(10_000_000, 99_999_999))}` },
      subject: 'Réclamation déposée en ligne', category: r.pick(categoryCodes), channel: 'portail', commune: '04.421.01.0', description: 'Déposée depuis le portail.',
    };
    const answer = await fetch(new URL('/complaints', simulator.url), { method: 'POST', headers, body: JSON.stringify(body), signal });
    if (answer.status !== 201) throw new Error(`filing answered ${answer.status}`);
    return;
  }
  const open = simulator.store.data.complaints.filter((c) => statuses[c.status].next.length > 0);
  if (open.length === 0) return;
  const complaint = r.pick(open);
  const status = nextMove(complaint.status, r);
  if (!status) return;
  const moved = await fetch(new URL(`/admin/complaints/${complaint.number}/status`, simulator.url), { method: 'POST', headers, body: JSON.stringify({ status }), signal });
  if (!moved.ok) throw new Error(`moving ${complaint.number} answered ${moved.status}`);
}

export const reclamationsDemo = {
  name: reclamationsSystem,
  subsystems: [
    { id: reclamationsSubsystem, name: "Ministère de l'Équipement et de l'Eau (METLE): plate-forme de gestion des réclamations" },
    { id: ministrySubsystem, name: "Ministère de l'Équipement et de l'Eau (METLE): tableau de bord de pilotage (DSI)" },
  ],
  async start(ctx: DemoSystemContext): Promise<RunningDemoSystem> {
    const { context } = ctx;
    const token = randomBytes(24).toString('hex');
    const simulator = await startComplaintsSimulator({ token });
    const portal = await startPortalReceiver();
    try {
      context.services.adapters.register(bindingName, complaintsBinding({ baseUrl: simulator.url, token }));
      await bindService(context.db, { serviceId: complaintsService, binding: { kind: 'adapter', adapter: bindingName, timeoutMs: 5000 }, actor: ctx.actor });
      await bindService(context.db, { serviceId: portalStatusService, binding: { kind: 'http', baseUrl: portal.url, timeoutMs: 5000 }, actor: ctx.actor });
      await context.services.directory.reload();
      await configureAdapter(context.db, reclamationsAdapter, {
        baseUrl: simulator.url, token,
        portal: { hubUrl: context.hubUrl, hubId: context.config.HUB_ID, keyPath: join(ctx.demoDir, toFolderName(reclamationsSubsystem), 'private.jwk') },
      });
      const subscription = await ensurePersonSubscription(ctx);
      // The token stays out of the banner and the logs: a file only this user reads.
      const tokenFile = join(ctx.demoDir, 'reclamations-integration-token');
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      recordSimulator(ctx.demoDir, reclamationsSystem, { url: simulator.url, tokenFile });
      const r = Random.for('reclamations-demo-activity', Date.now());
      const activity = startActivity({ name: reclamationsSystem, everyMs: 3000 + r.int(0, 7000), enabled: ctx.activity, logger: context.logger, step: (signal) => activityStep(simulator, token, r, signal) });
      const open = simulator.store.data.complaints.filter((c) => statuses[c.status].next.length > 0).length;
      return {
        banner: [
          `complaints platform at ${simulator.url} (${simulator.store.data.complaints.length} complaints, ${open} open); complainants → persons/companies; status changes → ${portalSubsystem} (receiver ${portal.url})`,
          `ministry: GET /x/v1/${complaintsService}/statistics?category=routes-ouvrages as ${ministrySubsystem}; person changes pushed back (subscription ${subscription})`,
          `correct a name: curl -X PATCH -H "authorization: Bearer $(cat ${tokenFile})" -H 'content-type: application/json' -d '{"lastNameLatin":"Corrigé"}' ${simulator.url}/admin/complainants/P-00001`,
        ],
        async stop() {
          await activity.stop();
          await simulator.close();
          await portal.close();
        },
      };
    } catch (err) {
      await simulator.close();
      await portal.close();
      throw err;
    }
  },
};
