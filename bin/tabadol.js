#!/usr/bin/env node
// The `tabadol` command: runs the TypeScript sources through tsx's loader (no build step to forget).
// It is also the composition root: adapters and the demo world register with the hub's plug-in points before the CLI runs.
import { register } from 'tsx/esm/api';

register();
await import('../referentials/services.ts');
await import('../adapters/index.ts');
await import('../src/cli/main.ts');
