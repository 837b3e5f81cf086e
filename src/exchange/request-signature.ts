// Checks 1 to 6 of the protocol on a signed request, all on its headers: the JWS, its client and key, its claims and
// the clock. The body digest (check 8) is compared by the pipeline once it has read the body, which it does only after
// these passed.
import { createHash, verify as cryptoVerify } from 'node:crypto';
import { ProblemError, type ProblemFieldError } from '../http/problem.ts';
import type { HubDirectory } from './directory.ts';

export const requestTyp = 'tabadol-request+jwt';
export const responseTyp = 'tabadol-response+jwt';
export { forwardTyp } from './forward-proof.ts';
export const clockSkewSeconds = 300;

// The signature part may be empty (alg none): such a JWS is well-formed and refused at check 3, as the table says.
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RequestClaims {
  iss: string;
  aud: string;
  htm: string;
  htu: string;
  pur: string;
  iat: number;
  jti: string;
  bdh: string;
}

/** A request whose signature verified (checks 1 to 4): its client is known, its claims not yet checked. */
export interface AuthenticatedRequest {
  client: string;
  kid: string;
  alg: 'ES256' | 'EdDSA';
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The signed jti when it is a UUID: echoed on any later refusal, checks 5 and 6 included. */
  jti: string | undefined;
}

export interface VerifiedRequest {
  client: string;
  claims: RequestClaims;
  kid: string;
  alg: 'ES256' | 'EdDSA';
}

export interface SignedRequestInput {
  method: string;
  /** The request target exactly as received: path plus ?query, percent-encoding preserved. */
  target: string;
  signature: string | undefined;
  clientHeader: string | undefined;
  purposeHeader: string | undefined;
}

export function sha256Base64url(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs checks 1 to 4 (throwing the first refusal): who signed, with which key, and that the signature verifies. */
export function authenticateRequest(input: Pick<SignedRequestInput, 'signature' | 'clientHeader'>, deps: { directory: HubDirectory }): AuthenticatedRequest {
  // 1. A compact JWS in the header.
  if (!input.signature) throw new ProblemError('signature-missing', 'the Tabadol-Signature header is missing', { errors: [{ location: 'header.tabadol-signature', message: 'required' }] });
  if (!compactJws.test(input.signature)) {
    throw new ProblemError('signature-malformed', 'Tabadol-Signature is not a compact JWS (three base64url parts)', { errors: [{ location: 'header.tabadol-signature', message: 'not a compact JWS' }] });
  }
  const [headerPart, payloadPart] = input.signature.split('.') as [string, string, string];
  const header = decodeJson(headerPart);
  const payload = decodeJson(payloadPart);
  if (!header || !payload) {
    throw new ProblemError('signature-malformed', 'the JWS header or payload is not a base64url JSON object', { errors: [{ location: 'header.tabadol-signature', message: 'undecodable header or payload' }] });
  }

  // 2. The client: iss equals Tabadol-Client, registered and active.
  const iss = payload.iss;
  if (typeof iss !== 'string' || iss !== input.clientHeader) {
    throw new ProblemError('client-unknown', 'the iss claim must equal the Tabadol-Client header', { errors: [{ location: 'header.tabadol-client', message: 'does not match iss' }] });
  }
  const client = deps.directory.client(iss);
  if (!client || !client.active) {
    throw new ProblemError('client-unknown', `${iss} is not a registered, active subsystem`, { errors: [{ location: 'header.tabadol-client', message: client ? 'disabled' : 'not registered' }] });
  }

  // 3. The key and the algorithm: never none, never HMAC (whose "key" would be our public key).
  const alg = header.alg;
  if (alg !== 'ES256' && alg !== 'EdDSA') {
    throw new ProblemError('algorithm-refused', `alg ${JSON.stringify(alg)} is refused: use ES256 or EdDSA`, { errors: [{ location: 'header.tabadol-signature', message: 'alg must be ES256 or EdDSA' }] });
  }
  const kid = header.kid;
  const key = typeof kid === 'string' ? client.keys.get(kid) : undefined;
  if (typeof kid !== 'string' || !key || !key.active) {
    throw new ProblemError('key-unknown', `kid ${JSON.stringify(kid)} is not an active key of ${iss}`, { errors: [{ location: 'header.tabadol-signature', message: key ? 'key revoked' : 'unknown kid' }] });
  }
  if (key.alg !== alg) throw new ProblemError('algorithm-refused', `key ${kid} is an ${key.alg} key; the JWS says ${alg}`, { errors: [{ location: 'header.tabadol-signature', message: 'alg does not fit the key' }] });

  // 4. The signature (RFC 7515 §5.2 over ASCII(header.payload); ES256 is R||S, 64 bytes, RFC 7518 §3.4), checked
  // synchronously with node:crypto and a key imported once: the cheapest correct verification (docs/decisions.md §2).
  const signature = Buffer.from(input.signature.slice(headerPart.length + payloadPart.length + 2), 'base64url');
  const signingInput = Buffer.from(`${headerPart}.${payloadPart}`, 'ascii');
  let valid = false;
  // Both ES256 (R||S) and Ed25519 signatures are 64 bytes.
  if (signature.length === 64) {
    try {
      valid = cryptoVerify(alg === 'ES256' ? 'sha256' : null, signingInput, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      valid = false;
    }
  }
  if (!valid) throw new ProblemError('signature-invalid', 'the signature does not verify with the registered key', { errors: [{ location: 'header.tabadol-signature', message: 'signature does not verify' }] });
  const jti = typeof payload.jti === 'string' && uuid.test(payload.jti) ? payload.jti : undefined;
  return { client: iss, kid, alg, header, payload, jti };
}

/** Runs checks 5 and 6 on an authenticated request; the caller runs 7 (replay) with quota in one round trip, and 8 once it read the body. */
export function checkRequestClaims(request: AuthenticatedRequest, input: Pick<SignedRequestInput, 'method' | 'target' | 'purposeHeader'>, deps: { hubId: string; nowSeconds: number }): VerifiedRequest {
  const { header, payload } = request;
  // 5. The claims bind the signature to this request.
  const mismatches: ProblemFieldError[] = [];
  if (header.typ !== requestTyp) mismatches.push({ location: 'signature.typ', message: `must be ${requestTyp}` });
  if (payload.aud !== deps.hubId) mismatches.push({ location: 'signature.aud', message: `must be ${deps.hubId}` });
  if (payload.htm !== input.method) mismatches.push({ location: 'signature.htm', message: `must be ${input.method}` });
  if (payload.htu !== input.target) mismatches.push({ location: 'signature.htu', message: 'must be the request target exactly as sent (path and ?query)' });
  if (typeof payload.pur !== 'string' || payload.pur !== input.purposeHeader) mismatches.push({ location: 'signature.pur', message: 'must equal the Tabadol-Purpose header' });
  if (typeof payload.jti !== 'string' || !uuid.test(payload.jti)) mismatches.push({ location: 'signature.jti', message: 'must be a UUID' });
  if (typeof payload.bdh !== 'string') mismatches.push({ location: 'signature.bdh', message: 'must be the base64url SHA-256 of the body' });
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) mismatches.push({ location: 'signature.iat', message: 'must be seconds since the epoch' });
  if (mismatches.length > 0) {
    throw new ProblemError('signature-mismatch', `the signed claims do not match the request: ${mismatches.map((m) => m.location).join(', ')}`, { errors: mismatches });
  }
  const claims = payload as unknown as RequestClaims;

  // 6. The clock.
  if (Math.abs(deps.nowSeconds - claims.iat) > clockSkewSeconds) {
    throw new ProblemError('clock-skew', `iat is ${Math.round(deps.nowSeconds - claims.iat)} s away from the hub's clock (at most ${clockSkewSeconds} s)`, {
      errors: [{ location: 'signature.iat', message: `hub time is ${Math.floor(deps.nowSeconds)}` }],
    });
  }

  return { client: request.client, claims, kid: request.kid, alg: request.alg };
}
