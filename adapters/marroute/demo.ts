// MARROUTE in the demo (`npm start`): its simulator beside the hub, its road events served through the exchange to the
// citizen portal (service MA/GOV/METLE/marroute/road-events), and a push subscription to the territory referential that
// brings it the communes' renumberings. A renumbering is recorded through the hub's normal path, `tabadol import` of
// the example file the demo writes (HCP as the source); MARROUTE then files Ait Kamra's events under 01.051.11.01.
// Its activity: a DPETL reports an event now and then (sometimes under a commune's 2014 code), and a closure reopens
// or closes again.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bindService } from '../../src/exchange/bindings.ts';
import { Random } from '../../referentials/generator/random.ts';
import { territory } from '../../referentials/territory/territory.ts';
import { configureAdapter } from '../../src/sync/inbound.ts';
import { createSubscription, listSubscriptions, rewindSubscription } from '../../src/sync/subscriptions.ts';
import { startActivity } from '../demo/activity.ts';
import type { DemoSystemContext, RunningDemoSystem } from '../demo/demo-system.ts';
import { recordSimulator } from '../demo/simulator-record.ts';
import { marrouteAdapter, marrouteSubscriptionInput, marrouteSubsystem } from './adapter.ts';
import { marrouteBinding, marrouteService } from './binding.ts';
import { demoRenumbering, roadProvinces, type RoadEvent } from './data.ts';
import { startMarrouteSimulator, type MarrouteSimulator } from './simulator.ts';


/** The adapter binding's name in the hub (service_bindings.adapter). */
export const marrouteBindingName = 'marroute-road-events';

/** The example renumbering, as `tabadol import --referential territory --source hcp` reads it (one NDJSON record). */
export function renumberingExample(): string {
  const unit = territory().unit(demoRenumbering.code2024);
  const record = { sourceId: `hcp-${demoRenumbering.code2024}`, attributes: { code: demoRenumbering.code2024, formerCodes: [demoRenumbering.code2014], nameFr: unit?.nameFr, nameAr: unit?.nameAr } };
  return `${JSON.stringify(record)}\n`;
}

/**
 * The territory subscription, one per hub: kept across starts, and rewound to the start of the feed because each start's
 * simulator is new and holds its events under their old codes again (it deduplicates by delivery id; renumbering twice
 * changes nothing).
 */
async function ensureSubscription(ctx: DemoSystemContext): Promise<string> {
  const { context, actor } = ctx;
  const input = marrouteSubscriptionInput();
  const found = (await listSubscriptions(context.db, { subscriber: marrouteSubsystem, state: 'active' })).find((s) => s.referential === 'territory' && s.target === input.target);
  if (found) return (await rewindSubscription(context.db, found.id, 0, actor)).id;
  return (await createSubscription(
    { db: context.db, findConvention: (c, p, s) => context.services.conventions.find(c, p, s), referentials: context.services.referentials.names() },
    { ...input, actor },
  )).id;
}

/** One step of activity: a new event (one in five under a renumbered commune's 2014 code), or a state flipped. */
async function activityStep(sim: MarrouteSimulator, token: string, rng: Random, signal: AbortSignal): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  if (rng.chance(0.5)) {
    const open = sim.store.data.events.filter((e) => e.type === 'fermeture');
    const e = rng.pick(open);
    await fetch(`${sim.url}/evenements/${e.id}/etat`, { method: 'POST', headers, body: JSON.stringify({ etat: e.etat === 'en_cours' ? 'termine' : 'en_cours' }), signal });
    return;
  }
  const province = rng.pick(roadProvinces);
  const crosswalk = territory().crosswalk().filter((c) => c.code2024.startsWith(`${province.code}.`));
  const communes = territory().all('commune').filter((u) => u.kind === 'commune' && u.provinceCode === province.code);
  const stale = crosswalk.length > 0 && rng.chance(0.2) ? rng.pick(crosswalk).code2014 : undefined;
  const commune = stale ?? rng.pick(communes).code;
  const report: Omit<RoadEvent, 'id' | 'version' | 'codeCommuneDeclare'> = {
    type: 'condition', nature: rng.pick(['Chaussée glissante', 'Brouillard dense', 'Vents forts']), route: rng.pick(province.roads), pkDebut: rng.int(5, 300), pkFin: rng.int(301, 320),
    codeProvince: province.code, codeCommune: commune, libelle: null, libelleAr: null, debut: '2026-02-14T07:00:00+01:00', finPrevue: null, etat: 'en_cours', deviation: null,
    source: `DPETL ${territory().unit(province.code)?.nameFr ?? province.code}`,
  };
  await fetch(`${sim.url}/evenements`, { method: 'POST', headers, body: JSON.stringify(report), signal });
}

/** MARROUTE as adapters/demo/systems.ts lists it (a DemoSystem). */
export const marrouteDemo = {
  name: 'marroute',
  subsystems: [{ id: marrouteSubsystem, name: "Ministère de l'Équipement et de l'Eau (METLE): MARROUTE, information routière" }],
  async start(ctx: DemoSystemContext): Promise<RunningDemoSystem> {
    const { context } = ctx;
    const token = randomBytes(24).toString('hex');
    const sim = await startMarrouteSimulator({ token });
    try {
      context.services.adapters.register(marrouteBindingName, marrouteBinding({ baseUrl: sim.url, token, timeoutMs: 4000 }));
      await bindService(context.db, { serviceId: marrouteService, binding: { kind: 'adapter', adapter: marrouteBindingName, timeoutMs: 5000 }, actor: ctx.actor });
      await context.services.directory.reload();
      await configureAdapter(context.db, marrouteAdapter, { baseUrl: sim.url, token });
      const subscription = await ensureSubscription(ctx);
      const folder = join(ctx.demoDir, 'marroute');
      await mkdir(folder, { recursive: true });
      // The token stays out of the banner and the logs: a file only this user reads.
      const tokenFile = join(folder, 'integration-token');
      await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
      recordSimulator(ctx.demoDir, 'marroute', { url: sim.url, tokenFile });
      const example = join(folder, 'territory-renumbering.ndjson');
      await writeFile(example, renumberingExample());
      const rng = Random.for('marroute-activity', 2026);
      const activity = startActivity({ name: 'marroute', everyMs: 6000, enabled: ctx.activity, logger: context.logger, step: (signal) => activityStep(sim, token, rng, signal) });
      const { code2014, code2024, province } = demoRenumbering;
      return {
        banner: [
          `MARROUTE at ${sim.url}: road events served as ${marrouteService}; territory changes pushed to it (subscription ${subscription})`,
          `renumber a commune: node bin/tabadol.js import --referential territory --source hcp ${example}   (${code2014} → ${code2024}, Ait Kamra)`,
          `then see it in MARROUTE: curl -H "authorization: Bearer $(cat ${tokenFile})" '${sim.url}/evenements?province=${province}&commune=${code2024}'`,
        ],
        async stop() {
          await activity.stop();
          await sim.close();
        },
      };
    } catch (err) {
      await sim.close();
      throw err;
    }
  },
};
