// The persons, companies and vehicles referentials, as the list a hub is given (HubParts.referentials, composed by
// referentialParts in referentials/services.ts). Importing this module registers nothing anywhere.

import type { ReferentialModule } from '../src/golden/module.ts';
import { companiesModule } from './companies/module.ts';
import { personsModule } from './persons/module.ts';
import { vehiclesModule } from './vehicles/module.ts';

export { companiesModule, personsModule, vehiclesModule };

/** The three modules, typed loosely for the engine (which never names a referential). */
export const referentialModules: readonly ReferentialModule[] = [
  personsModule as unknown as ReferentialModule,
  companiesModule as unknown as ReferentialModule,
  vehiclesModule as unknown as ReferentialModule,
];
