// Runs the infractions SOAP simulator standalone: tsx adapters/infractions/main.ts [--port N]. The WSDL is at <url>?wsdl.
import { parseArgs } from 'node:util';
import { startInfractionsSimulator } from './simulator.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8089' } } });

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port: ${values.port} is not a port number`);
  process.exit(2);
}

const simulator = await startInfractionsSimulator({ port });
console.log(`infractions SOAP simulator listening on ${simulator.url} (WSDL at ${simulator.url}?wsdl)`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}
