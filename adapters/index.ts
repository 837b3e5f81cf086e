// The adapters' part of a hub: the demo world (and its simulators) and the systems' sync adapters, composed by bin/parts.ts.
import type { HubParts } from '../src/plugins.ts';
import { consoleDemoPlugin } from '../src/console/demo-operator.ts';
import { btpAdapter } from './btp-qualification/adapter.ts';
import { demoWorldPlugin } from './demo/world.ts';
import { dpmAdapter } from './dpm-occupations/adapter.ts';
import { infractionsAdapter } from './infractions/adapter.ts';
import { marrouteAdapter } from './marroute/adapter.ts';
import { permisAdapter } from './permis-rdv/adapter.ts';
import { reclamationsAdapter } from './reclamations/adapter.ts';
import { regionalOfficeAdapter } from './regional-office/adapter.ts';

/** One line a system: its sync adapter (what `tabadol sync status` lists). */
export function adapterParts(): HubParts {
  return {
    plugins: [demoWorldPlugin, consoleDemoPlugin],
    syncAdapters: [
      btpAdapter,
      regionalOfficeAdapter,
      permisAdapter,
      infractionsAdapter,
      reclamationsAdapter,
      marrouteAdapter,
      dpmAdapter,
    ],
  };
}
