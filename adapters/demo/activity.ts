// Gentle activity in the demo's simulated systems (a ticket issued, a booking made…) so that a newcomer watching
// `tabadol sync status` sees changes flow without doing anything. One timer per system, never overlapping itself;
// DEMO_ACTIVITY=off starts none.
import type { Logger } from '../../src/observability/logger.ts';

export interface DemoActivity {
  stop(): Promise<void>;
}

export interface ActivityOptions {
  /** The system's name, in the logs. */
  name: string;
  /** Milliseconds between two steps (a few seconds: the demo is a shop window, not a load test). */
  everyMs: number;
  /** false when DEMO_ACTIVITY=off: nothing is started. */
  enabled: boolean;
  logger: Logger;
  /** One unit of activity; its failure is logged at debug level and the next step goes on. */
  step(signal: AbortSignal): Promise<void>;
}

export function startActivity(options: ActivityOptions): DemoActivity {
  if (!options.enabled) return { stop: async () => undefined };
  const controller = new AbortController();
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    timer = setTimeout(() => {
      running = options
        .step(controller.signal)
        .catch((err: unknown) => {
          // A simulator briefly unreachable (a test switched a fault on, the hub is stopping) is not the operator's concern.
          if (!controller.signal.aborted) options.logger.debug({ system: options.name, err: { message: (err as Error).message } }, 'demo activity step failed');
        })
        .finally(() => {
          if (!controller.signal.aborted) schedule();
        });
    }, options.everyMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      controller.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
