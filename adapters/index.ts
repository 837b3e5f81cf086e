// The adapters' part of a hub: the demo world (and its simulators), composed by bin/parts.ts.
import type { HubParts } from '../src/plugins.ts';
import { demoWorldPlugin } from './demo/world.ts';

export function adapterParts(): HubParts {
  return { plugins: [demoWorldPlugin] };
}
