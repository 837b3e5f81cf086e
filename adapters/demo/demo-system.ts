// What a system of the demo is (adapters/demo/systems.ts lists them): its own file, so that a system's demo.ts can
// import these types without importing the list that imports it (test/import-cycles.test.ts).
import type { PluginContext } from '../../src/plugins.ts';

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
