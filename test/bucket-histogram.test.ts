// The HTTP latency histogram (src/observability/bucket-histogram.ts) must expose exactly what prom-client's Histogram
// would for the same observations, alone and summed across processes (the supervisor's AggregatorRegistry).
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BucketHistogram } from '../src/observability/bucket-histogram.ts';

const config = { name: 'h_seconds', help: 'latency', labelNames: ['method', 'route', 'status'] as const, buckets: [0.001, 0.0025, 0.005, 1] };
const observations: Array<[Record<'method' | 'route' | 'status', string>, number]> = [
  [{ method: 'GET', route: '/healthz', status: '200' }, 0.0005],
  [{ method: 'GET', route: '/healthz', status: '200' }, 0.001],
  [{ method: 'GET', route: '/healthz', status: '200' }, 0.0025],
  [{ method: 'GET', route: '/healthz', status: '200' }, 3],
  [{ method: 'POST', route: '/x/v1/*', status: '502' }, 0.02],
  [{ method: 'POST', route: '/x/v1/*', status: '502' }, 0],
];

function both() {
  const prom = new Registry();
  const ours = new Registry();
  const a = new Histogram({ ...config, registers: [prom] });
  const b = new BucketHistogram({ ...config, registers: [ours] });
  for (const [labels, value] of observations) {
    a.labels(labels).observe(value);
    b.labels(labels).observe(value);
  }
  return { prom, ours, b };
}

describe('BucketHistogram', () => {
  it("prints the same exposition as prom-client's Histogram", async () => {
    const { prom, ours } = both();
    const text = await ours.metrics();
    expect(text).toContain('h_seconds_bucket{le="+Inf",method="GET",route="/healthz",status="200"} 4');
    expect(text).toBe(await prom.metrics());
  });

  it('sums across processes as prom-client does', async () => {
    const { prom, ours } = both();
    const summed = AggregatorRegistry.aggregate([await ours.getMetricsAsJSON(), await ours.getMetricsAsJSON()]);
    const reference = AggregatorRegistry.aggregate([await prom.getMetricsAsJSON(), await prom.getMetricsAsJSON()]);
    expect(await summed.metrics()).toBe(await reference.metrics());
    expect(await summed.metrics()).toContain('h_seconds_count{method="POST",route="/x/v1/*",status="502"} 4');
  });

  it('refuses an unknown label and a value that is not a finite number', () => {
    const { b } = both();
    expect(() => b.labels({ method: 'GET', route: '/', status: '200', extra: 'x' } as never)).toThrow(/unknown label extra/);
    expect(() => b.labels({ method: 'GET', route: '/', status: '200' }).observe(Number.NaN)).toThrow(/finite/);
  });
});
