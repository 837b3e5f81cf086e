// The referentials one hub was given (HubParts.referentials), by name: what the admin API, the batch consumer, the
// importer and the referential services look a referential up in. One catalog per hub, built from an explicit list,
// never filled by importing a module: two hubs in one process each see only their own (test/hub-composition.test.ts).
import type { ReferentialModule } from './module.ts';

export class ReferentialCatalog {
  private readonly byName = new Map<string, ReferentialModule>();

  /** Refuses two modules of one name: which one a hub would serve must not depend on the order of its parts. */
  constructor(modules: Iterable<ReferentialModule> = []) {
    for (const module of modules) {
      if (this.byName.has(module.name)) throw new Error(`referential ${module.name} is given twice`);
      this.byName.set(module.name, module);
    }
  }

  module(name: string): ReferentialModule | undefined {
    return this.byName.get(name);
  }

  /** In the order they were given (the order the services are bound and the backfill walks them). */
  modules(): ReferentialModule[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
