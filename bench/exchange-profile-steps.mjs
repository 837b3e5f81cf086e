// Attributes the busy samples of a hub CPU profile (npm run bench:exchange -- --cpu-prof) to the steps of the exchange
// pipeline, deepest matching frame first: node bench/exchange-profile-steps.mjs <main-thread .cpuprofile> [hub CPU µs per exchange]
// prints the table of docs/benchmarks.md (µs = share × the figure given, from a run without --cpu-prof).
import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const nodes = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const fn = (n) => n.callFrame.functionName; const url = (n) => n.callFrame.url;
function classify(id) {
  const chain = []; for (let c = id; c !== undefined; c = parent.get(c)) chain.push(nodes.get(c));
  const leaf = chain[0];
  if (fn(leaf) === '(idle)') return null;
  if (fn(leaf) === '(garbage collector)') return 'garbage collection';
  if (fn(leaf) === '(program)') return '(program): V8/libuv outside JS';
  if (chain.some((n) => /internal\/modules|tsx\/dist|source_map|cjs-module-lexer/.test(url(n)) || fn(n) === 'compileServiceOpenApi' || fn(n) === 'prepare')) return 'start-up (module load, contract compile)';
  for (let i = 0; i < chain.length; i++) {
    const n = chain[i]; const u = url(n); const f = fn(n);
    if (f === 'signCompactSync') { const up = chain.slice(i + 1).find((m) => /pipeline\.ts/.test(url(m))); return up && fn(up) === 'forward' ? 'forward proof: ES256 sign' : 'answer: ES256 sign + digests'; }
    if (f === 'authenticateRequest') return 'check 1-4: verify request JWS (ES256)';
    if (f === 'checkRequestClaims') return 'check 5-6: claims, clock';
    if (f === 'readBody' && /pipeline\.ts/.test(u)) return 'body read + digest (check 8)';
    if (f === 'decideLocally') return 'checks 8-12: convention, operation, purpose';
    if (/ioredis|redis-errors|limits\.ts/.test(u) || f === 'checkReplayAndQuota') return 'checks 7+13: replay + quota (Redis)';
    if (f === 'validateRequest' && /pipeline\.ts/.test(u)) return 'check 14: request vs OpenAPI';
    if (f === 'checkAnswer') return 'check 16: answer parse, validate, minimise';
    if (f === 'subjectsOf') return 'subjects: extract + HMAC';
    if (f === 'signAnswer') return 'answer: ES256 sign + digests';
    if (/message-log|\/pg\/|pg-protocol|pg-pool|storage\/pg\.ts|packet-reader|pg-types/.test(u) || f === 'log' && /pipeline/.test(u)) return 'log write (group commit, PostgreSQL)';
    if (f === 'count' && /pipeline/.test(u) || /prom-client|observability\/metrics/.test(u)) return 'metrics';
    if (/undici/.test(u) || (/forward\.ts/.test(u)) || (f === 'forward' && /pipeline/.test(u))) return 'check 15: forward to provider (undici)';
    if (/pino|observability\/logger/.test(u)) return 'logging';
  }
  if (chain.some((n) => /hono|node-server|src\/http\//.test(url(n)) || /^_http|^http$/.test(url(n).replace(/^node:/, '')) || fn(n) === 'parserOnHeadersComplete')) return 'HTTP: server, parse, Hono, response write';
  if (chain.some((n) => /pipeline\.ts/.test(url(n)))) return 'pipeline: other (handle, deliver, headers)';
  return 'other (' + fn(leaf) + ' ' + url(leaf).replace(/^.*\//, '') + ')';
}
const dt = new Map();
for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const cats = new Map(); let busy = 0;
for (const [id, t] of dt) { const c = classify(id); if (c === null) continue; cats.set(c, (cats.get(c) ?? 0) + t); }
const startup = cats.get('start-up (module load, contract compile)') ?? 0; cats.delete('start-up (module load, contract compile)');
for (const v of cats.values()) busy += v;
const perEx = Number(process.argv[3] ?? 0);
const rows = [...cats].sort((a, b) => b[1] - a[1]);
const other = rows.filter(([c]) => c.startsWith('other ('));
const main = rows.filter(([c]) => !c.startsWith('other ('));
const otherT = other.reduce((s, [, t]) => s + t, 0);
console.log(`busy ${(busy/1000).toFixed(0)} ms (start-up excluded: ${(startup/1000).toFixed(0)} ms)`);
for (const [c, t] of [...main, ['other', otherT]]) console.log(`| ${c} | ${perEx ? (perEx * t / busy).toFixed(1) : ''} | ${(100 * t / busy).toFixed(1)} % |`);
if (process.argv[4] === "--other") for (const [c, t] of other.slice(0, 25)) console.log(`   ${(t / 1000).toFixed(0)} ms ${c}`);
