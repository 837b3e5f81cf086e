// `npx tsx scripts/call.ts --as ID --key private.jwk --purpose CODE [--hub URL] METHOD TARGET [BODY]`: one signed call
// through the hub, the answer's signature verified, as a ministry's system makes it (docs/onboarding.md). Exit 0 when
// the answer verified and is a 2xx, 1 otherwise.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { loadClientIdentity, TabadolClient } from '../src/client/index.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { as: { type: 'string' }, key: { type: 'string' }, purpose: { type: 'string' }, hub: { type: 'string' } },
});
const [method, target, body] = positionals;
if (!values.as || !values.key || !values.purpose || !method || !target?.startsWith('/')) {
  process.stderr.write('usage: call.ts --as SUBSYSTEM --key private.jwk --purpose CODE [--hub URL] METHOD /x/v1/PROVIDER/SERVICE/PATH [BODY]\n');
  process.exit(2);
}
const config = loadConfig(process.env);
const hubUrl = (values.hub ?? process.env.HUB_URL ?? `http://127.0.0.1:${config.PORT}`).replace(/\/$/, '');
const client = new TabadolClient({ hubUrl, hubId: config.HUB_ID, identity: await loadClientIdentity(values.as, values.key) });
try {
  const result = await client.call(method.toUpperCase(), target, { purpose: values.purpose, body });
  process.stdout.write(`${result.status} ${target}\n`);
  process.stdout.write(`verified: signed by ${result.claims.iss} for request ${result.claims.jti}, body digest ${result.claims.bdh}; message-log entry ${result.logId ?? '-'}\n`);
  process.stdout.write(`${result.body}\n`);
  process.exit(result.status >= 200 && result.status < 300 ? 0 : 1);
} catch (err) {
  process.stderr.write(`call: ${(err as Error).message}\n`);
  process.exit(1);
}
