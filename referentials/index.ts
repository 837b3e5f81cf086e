// Registers the persons, companies and vehicles referentials with the golden-record engine.

import { registerReferential, type ReferentialModule } from '../src/golden/module.ts';
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

/** Registers every module; idempotent (a second call replaces each module by itself). */
export function registerReferentials(): void {
  for (const module of referentialModules) registerReferential(module);
}

registerReferentials();
