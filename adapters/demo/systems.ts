// The seed's systems the demo world starts beside the hub (besides the BTP platform and the regional office, which
// adapters/demo/world.ts starts itself): each one a simulator, its adapter's configuration, its subscriptions and its
// gentle activity, in adapters/<system>/demo.ts. Adding a system to the demo is one line in `demoSystems`.
import type { PluginContext } from '../../src/plugins.ts';
import { dpmDemoSystem } from '../dpm-occupations/demo.ts';

export interface DemoSubsystem {
  id: string;
  name: string;
}

export interface DemoSystemContext {
  context: PluginContext;
  /** DATA_DIR/demo: where a system keeps its files (its simulator's folder, a token file readable by this user only). */
  demoDir: string;
  /** The actor the demo's administrative actions are audited under. */
  actor: string;
  /** DEMO_ACTIVITY: whether the system makes activity of its own. */
  activity: boolean;
}

export interface RunningDemoSystem {
  /** Lines for the start banner: where the simulator listens, what flows, what to try. */
  banner: string[];
  stop(): Promise<void>;
}

export interface DemoSystem {
  /** The system's name as `tabadol sync status` shows it (its adapter's system). */
  name: string;
  /** Member subsystems the demo registers with keys, so that its conventions under contracts/ are signed and activated. */
  subsystems: readonly DemoSubsystem[];
  start(ctx: DemoSystemContext): Promise<RunningDemoSystem>;
}

/** In start order. */
export const demoSystems: readonly DemoSystem[] = [dpmDemoSystem];
