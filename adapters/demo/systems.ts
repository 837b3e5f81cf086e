// The seed's systems the demo world starts beside the hub (besides the BTP platform and the regional office, which
// adapters/demo/world.ts starts itself): each one a simulator, its adapter's configuration, its subscriptions and its
// gentle activity, in adapters/<system>/demo.ts. Adding a system to the demo is one line in `demoSystems`.
import type { DemoSystem } from './demo-system.ts';
import { dpmDemoSystem } from '../dpm-occupations/demo.ts';
import { infractionsMobileDemo } from '../infractions-mobile/demo.ts';
import { infractionsDemo } from '../infractions/demo.ts';
import { marrouteDemo } from '../marroute/demo.ts';
import { permisDemo } from '../permis-rdv/demo.ts';
import { reclamationsDemo } from '../reclamations/demo.ts';

export type { DemoSubsystem, DemoSystem, DemoSystemContext, RunningDemoSystem } from './demo-system.ts';

/** In start order. */
export const demoSystems: readonly DemoSystem[] = [
  permisDemo,
  infractionsDemo,
  infractionsMobileDemo,
  reclamationsDemo,
  marrouteDemo,
  dpmDemoSystem,
];
