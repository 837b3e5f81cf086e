// The composition root: what a `tabadol serve` or `tabadol worker` hub is made of, as one explicit list given to
// startHub (src/runtime.ts). src/ never imports the referentials or the adapters; this file is where they meet.
import { adapterParts } from '../adapters/index.ts';
import { referentialParts } from '../referentials/services.ts';
import { mergeHubParts, type HubParts } from '../src/plugins.ts';

/** The referentials' services and consumers, then the adapters and the demo world (plug-ins start in this order). */
export function defaultHubParts(): HubParts {
  return mergeHubParts(referentialParts(), adapterParts());
}
