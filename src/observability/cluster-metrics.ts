// /metrics under a supervisor (`tabadol serve --processes N`): a scrape lands on one child, which asks the supervisor
// for the sum over every child (prom-client's AggregatorRegistry, which asks each child for its registry over IPC).
// Without a supervisor the process's own registry is the answer.
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const request = 'tabadol:metrics-request';
const answer = 'tabadol:metrics-answer';
/** Longer than prom-client's own 5 s wait for the children: its error, not ours, says which one did not answer. */
const timeoutMs = 6000;

interface MetricsAnswer {
  type: typeof answer;
  id: number;
  text?: string;
  error?: string;
}

/** In a child: the registry reported to the supervisor, and the text /metrics serves (the whole cluster's). */
export function clusterMetricsText(registry: Registry): () => Promise<string> {
  if (!cluster.isWorker) return () => registry.metrics();
  // Installs prom-client's own listener that answers the supervisor's collection requests with this registry.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const waiting = new Map<number, (a: MetricsAnswer) => void>();
  process.on('message', (message: unknown) => {
    const m = message as Partial<MetricsAnswer> | null;
    if (m?.type === answer && typeof m.id === 'number') waiting.get(m.id)?.(m as MetricsAnswer);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => settle({ type: answer, id, error: `the supervisor did not answer within ${timeoutMs} ms` }), timeoutMs);
      function settle(a: MetricsAnswer) {
        clearTimeout(timer);
        waiting.delete(id);
        if (a.text !== undefined) resolve(a.text);
        else reject(new Error(a.error ?? 'no metrics'));
      }
      waiting.set(id, settle);
      process.send?.({ type: request, id });
    });
}

/** In the supervisor: answers each child's request with the registries of all children, summed (gauges: max). */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    const m = message as { type?: string; id?: number } | null;
    if (m?.type !== request || typeof m.id !== 'number') return;
    const id = m.id;
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ type: answer, id, text }),
      (err: unknown) => worker.isConnected() && worker.send({ type: answer, id, error: (err as Error).message }),
    );
  });
}
