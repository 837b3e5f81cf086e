// `npm run bench:jose`: ES256 sign and verify rates of node-jose, jose and node:crypto, measured in one process, for
// the choice recorded in docs/decisions.md. EdDSA is measured where the library supports it.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { CompactSign, compactVerify, exportJWK, generateKeyPair } from 'jose';
import nodeJose from 'node-jose';
import { parseBenchArgs, positiveNumber } from './lib.ts';

const payload = new TextEncoder().encode(JSON.stringify({ iss: 'MA/GOV/MEF/marches-publics', aud: 'MA/GOV/HUB/core', htm: 'GET', htu: '/x/v1/MA/GOV/METLE/qualification-btp/classification/companies/002145873000014/classification', pur: 'public-procurement-eligibility', iat: 1798761600, jti: '3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d', bdh: '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU' }));
const options = parseBenchArgs(process.argv.slice(2), { seconds: { type: 'string' } }, [
  'usage: npm run bench:jose -- [--seconds S]',
  '  --seconds  seconds measured per line (default 2)',
]);
const seconds = positiveNumber('seconds', options.seconds, 2);
const inFlight = 32;

async function rate(name: string, op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await op();
  let done = 0;
  const end = performance.now() + seconds * 1000;
  // Several operations in flight, as on a busy hub.
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await op();
        done++;
      }
    }),
  );
  const perSecond = done / seconds;
  process.stdout.write(`${name.padEnd(32)} ${Math.round(perSecond).toString().padStart(7)} /s\n`);
  return perSecond;
}

const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const joseJws = await new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid: 'k' }).sign(privateKey);
const nodeKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingInput = Buffer.from('eyJhbGciOiJFUzI1NiJ9.' + Buffer.from(payload).toString('base64url'));
const nodeSig = sign('sha256', signingInput, { key: nodeKeys.privateKey, dsaEncoding: 'ieee-p1363' });
const keystore = nodeJose.JWK.createKeyStore();
const njKey = await keystore.add({ ...(await exportJWK(privateKey)), kid: 'k', alg: 'ES256' }, 'json');
const njJws = await nodeJose.JWS.createSign({ format: 'compact', fields: { alg: 'ES256', kid: 'k' } }, njKey).update(Buffer.from(payload)).final();
const ed = await generateKeyPair('EdDSA');
const edJws = await new CompactSign(payload).setProtectedHeader({ alg: 'EdDSA', kid: 'e' }).sign(ed.privateKey);

process.stdout.write(`bench:jose  ${seconds} s per line, ${inFlight} operations in flight, node ${process.version}\n`);
await rate('node-jose ES256 sign', () => nodeJose.JWS.createSign({ format: 'compact', fields: { alg: 'ES256', kid: 'k' } }, njKey).update(Buffer.from(payload)).final());
await rate('node-jose ES256 verify', () => nodeJose.JWS.createVerify(keystore).verify(String(njJws)));
await rate('jose ES256 sign', () => new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid: 'k' }).sign(privateKey));
await rate('jose ES256 verify', () => compactVerify(joseJws, publicKey));
await rate('node:crypto ES256 sign', async () => sign('sha256', signingInput, { key: nodeKeys.privateKey, dsaEncoding: 'ieee-p1363' }));
await rate('node:crypto ES256 verify', async () => verify('sha256', signingInput, { key: nodeKeys.publicKey, dsaEncoding: 'ieee-p1363' }, nodeSig));
await rate('jose EdDSA verify', () => compactVerify(edJws, ed.publicKey));
process.stdout.write('node-jose EdDSA                  unsupported (node-jose 2.2 has no OKP/Ed25519 keys)\n');
