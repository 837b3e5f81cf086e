// The road agents' app in the demo (adapters/demo/systems.ts): one agent's terminal in DATA_DIR/demo/infractions-mobile
// records a ticket every few seconds and, every third step, uploads what it holds as one signed batch through the hub
// and checks a plate. It calls the infractions service that the infractions system's demo binds; until that service
// answers, the terminal keeps its tickets (as it does offline) and stops recording at a bound. Its subsystems are
// listed so that the demo signs and activates its convention (contracts/MA.GOV.METLE.infractions/tickets/conventions/
// MA.GOV.METLE.infractions-mobile.yaml), whose provider is the infractions system.
import { join } from 'node:path';
import { loadClientIdentity, TabadolClient } from '../../src/client/index.ts';
import { toFolderName } from '../../src/identity/ids.ts';
import type { DemoSystemContext, RunningDemoSystem } from '../demo/demo-system.ts';
import { startActivity } from '../demo/activity.ts';
import { mobileSubsystem, RoadAgentApp } from './app.ts';

const agentId = 'AGT-04512';
/** The terminal stops recording when it holds this many unsent tickets (the infractions service not bound). */
const keptBound = 200;
/** Plates as agents read them, in both notations, and real communes (Rabat, Casablanca, Tanger, Marrakech). */
const plates = ['12345-A-6', '12345-أ-6', '4567-ب-1', '9876-D-33', '22222-و-40', '31415-هـ-1', '2718-B-6', '16180-ط-33'];
const communes = ['04.421.01.0', '06.141.01.0', '01.511.01.0', '07.351.01.0'];
const offenceCodes = ['V-20', 'V-30', 'F-01', 'C-01', 'T-01'];
const drivers = ['BK123456', 'AB654321', undefined, 'J456789'];

export const infractionsMobileDemo = {
  name: 'infractions-mobile',
  subsystems: [
    { id: mobileSubsystem, name: 'METLE: application mobile « INFRACTIONS ROUTIERES » des agents de contrôle routier' },
    { id: 'MA/GOV/METLE/infractions', name: 'METLE: système de gestion des infractions routières' },
  ],
  async start(ctx: DemoSystemContext): Promise<RunningDemoSystem> {
    const { context } = ctx;
    const identity = await loadClientIdentity(mobileSubsystem, join(ctx.demoDir, toFolderName(mobileSubsystem), 'private.jwk'));
    const dataDir = join(ctx.demoDir, 'infractions-mobile');
    const app = new RoadAgentApp({ dataDir, agentId, hub: new TabadolClient({ hubUrl: context.hubUrl, hubId: context.config.HUB_ID, identity }) });
    let step = 0;
    const activity = startActivity({
      name: 'infractions-mobile',
      everyMs: 7000,
      enabled: ctx.activity,
      logger: context.logger,
      async step() {
        step += 1;
        const kept = app.tickets().filter((t) => t.state === 'pending' || t.state === 'sealed').length;
        if (kept < keptBound) {
          const now = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19);
          app.record({
            issuedAt: `${now}+01:00`,
            communeCode: communes[step % communes.length] as string,
            plate: plates[step % plates.length] as string,
            offenceCode: offenceCodes[step % offenceCodes.length] as string,
            ...(drivers[step % drivers.length] ? { driverCin: drivers[step % drivers.length] } : {}),
          });
        }
        if (step % 3 !== 0) return;
        const report = await app.upload();
        context.logger.info({ system: 'infractions-mobile', outcome: report.outcome, batches: report.batches.length, kept: report.kept, ...(report.status ? { status: report.status } : {}) }, 'road agent terminal uploaded its tickets');
        await app.checkPlate(plates[step % plates.length] as string);
      },
    });
    return {
      banner: [`road agent ${agentId}'s terminal in ${dataDir} (journal.jsonl): a ticket every 7 s, a signed batch every 21 s through ${mobileSubsystem}`],
      async stop() {
        await activity.stop();
        app.close();
      },
    };
  },
};
