// The adapters' composition root: registers every adapter and the demo world with the hub's plug-in points.
import { registerPlugin } from '../src/plugins.ts';
import { demoWorldPlugin } from './demo/world.ts';

registerPlugin(demoWorldPlugin);
