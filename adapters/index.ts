// The adapters' part of a hub: the demo world (and its simulators) and the systems' sync adapters, composed by bin/parts.ts.
import type { HubParts } from '../src/plugins.ts';
import { btpAdapter } from './btp-qualification/adapter.ts';
import { permisAdapter } from './permis-rdv/adapter.ts';
import { demoWorldPlugin } from './demo/world.ts';
import { consoleDemoPlugin } from '../src/console/demo-operator.ts';
import { infractionsAdapter } from './infractions/adapter.ts';
import { regionalOfficeAdapter } from './regional-office/adapter.ts';

export function adapterParts(): HubParts {
  return { plugins: [demoWorldPlugin, consoleDemoPlugin], syncAdapters: [btpAdapter, regionalOfficeAdapter, permisAdapter, infractionsAdapter] };
}
