// Runs the BTP qualification simulator standalone: tsx adapters/btp-qualification/main.ts [--port N] [--host H] [--hub-jwks URL [--hub-id ID]].
import { parseArgs } from 'node:util';
import { startBtpSimulator } from './simulator.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8088' },
    host: { type: 'string', default: '127.0.0.1' },
    'hub-jwks': { type: 'string' },
    'hub-id': { type: 'string' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port: ${values.port} is not a port number`);
  process.exit(2);
}

const jwks = values['hub-jwks'];
const simulator = await startBtpSimulator({
  port,
  host: values.host,
  ...(jwks ? { hubJwksUrl: jwks, requireHubSignature: true } : {}),
  ...(values['hub-id'] ? { hubId: values['hub-id'] } : {}),
});
console.log(`BTP qualification simulator listening on ${simulator.url}${jwks ? ' (hub signature required)' : ''}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}
