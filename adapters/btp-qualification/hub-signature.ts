// Verifies the hub's forward signature (Tabadol-Hub-Signature) on a request that the hub relays to this provider.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

/** What the provider received: the headers the hub sets and the request line as it arrived. */
export interface ForwardedRequest {
  method: string;
  /** Path plus `?query`, exactly as received (percent-encoding preserved). */
  target: string;
  header(name: string): string | undefined;
}

export type HubSignatureResult =
  | { ok: true; client: string; purpose: string; requestId: string }
  | { ok: false; status: 401 | 503; code: 'hub-signature-missing' | 'hub-signature-invalid' | 'hub-signature-mismatch' | 'hub-keys-unavailable'; detail: string };

export interface HubSignatureOptions {
  jwksUrl: string;
  /** When set, `iss` must equal it. */
  hubId?: string;
  /** Accepted distance between `iat` and this clock, as the hub accepts for its own clients. */
  maxSkewSeconds?: number;
  /** Least time between two JWKS fetches when a kid is unknown (default 5 s), so that garbage kids cannot make it hammer the hub. */
  jwksCooldownMs?: number;
  /**
   * The HS256 key of this provider's binding, when the hub's operator bound the service with `--forward-proof hs256`
   * and gave it (id and key, base64url). Without it an HS256 proof is refused; ES256 proofs are accepted either way.
   */
  forwardKey?: { keyId: string; key: string };
}

export const forwardTokenType = 'tabadol-forward+jwt';
const forwardHeaders = ['tabadol-client', 'tabadol-purpose', 'tabadol-request-id', 'tabadol-hub-signature'] as const;

interface ForwardClaims extends JWTPayload {
  sub?: string;
  pur?: unknown;
  jti?: string;
  htm?: unknown;
  htu?: unknown;
}

/** Returns a verifier that caches the hub's JWKS and refetches it when a kid is unknown (jose's remote key set does both). */
export function createHubSignatureVerifier(options: HubSignatureOptions): (request: ForwardedRequest) => Promise<HubSignatureResult> {
  // A short cooldown: after a hub key rotation the first forward with the new kid must not wait 30 s (jose's default).
  const keySet = createRemoteJWKSet(new URL(options.jwksUrl), { cooldownDuration: options.jwksCooldownMs ?? 5_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 });
  const maxSkew = options.maxSkewSeconds ?? 300;
  // A forward key is 32 bytes in base64url under an `fk-` id, as `tabadol service bind` prints it: anything else (an
  // empty key from an unset variable would let anyone compute the MAC) refuses to start.
  if (options.forwardKey && (!/^fk-[A-Za-z0-9_-]{16}$/.test(options.forwardKey.keyId) || !/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/.test(options.forwardKey.key))) {
    throw new RangeError('forwardKey must be { keyId: fk-<16 base64url characters>, key: 32 bytes in base64url } as tabadol service bind prints it');
  }

  return async (request) => {
    const missing = forwardHeaders.filter((name) => !request.header(name));
    if (missing.length > 0) return { ok: false, status: 401, code: 'hub-signature-missing', detail: `missing header(s): ${missing.join(', ')}` };
    const client = request.header('tabadol-client') ?? '';
    const purpose = request.header('tabadol-purpose') ?? '';
    const requestId = request.header('tabadol-request-id') ?? '';
    const token = request.header('tabadol-hub-signature') ?? '';

    // An HS256 proof is checked with the binding's key; any other goes to the JWKS, which accepts ES256 only.
    const hs256 = verifyHs256(token, options.forwardKey, options.hubId);
    if (typeof hs256 === 'string' && hs256 !== 'not-hs256') return { ok: false, status: 401, code: 'hub-signature-invalid', detail: `the hub signature does not verify (${hs256})` };
    const verified = hs256 !== 'not-hs256' ? { claims: hs256 } : await verifyEs256(token, keySet, options.hubId);
    if (!('claims' in verified)) return verified;
    const { claims } = verified;

    // Each claim binds the signature to this exact request: a valid signature for another request must not serve this one.
    const expected: [string, unknown, unknown][] = [
      ['sub', claims.sub, client],
      ['pur', claims.pur, purpose],
      ['jti', claims.jti, requestId],
      ['htm', claims.htm, request.method.toUpperCase()],
      ['htu', claims.htu, request.target],
    ];
    const wrong = expected.filter(([, actual, wanted]) => actual !== wanted).map(([name]) => name);
    if (typeof claims.iss !== 'string' || claims.iss.length === 0) wrong.push('iss');
    if (typeof claims.iat !== 'number' || Math.abs(Date.now() / 1000 - claims.iat) > maxSkew) wrong.push('iat');
    if (wrong.length > 0) return { ok: false, status: 401, code: 'hub-signature-mismatch', detail: `claim(s) not matching the request: ${wrong.join(', ')}` };
    return { ok: true, client, purpose, requestId };
  };
}

/** An ES256 forward proof checked with the hub's JWKS: its claims, or the refusal. */
async function verifyEs256(token: string, keySet: ReturnType<typeof createRemoteJWKSet>, hubId: string | undefined): Promise<{ claims: ForwardClaims } | Extract<HubSignatureResult, { ok: false }>> {
  try {
    const { payload } = await jwtVerify<ForwardClaims>(token, keySet, { algorithms: ['ES256'], typ: forwardTokenType, ...(hubId ? { issuer: hubId } : {}) });
    return { claims: payload };
  } catch (err) {
    if (err instanceof errors.JWKSTimeout || (err instanceof Error && !(err instanceof errors.JOSEError))) {
      // The keys could not be fetched: not the caller's fault, and nothing is verified, so nothing is served.
      return { ok: false, status: 503, code: 'hub-keys-unavailable', detail: 'the hub keys (JWKS) could not be fetched' };
    }
    return { ok: false, status: 401, code: 'hub-signature-invalid', detail: `the hub signature does not verify (${err instanceof errors.JOSEError ? err.code : 'error'})` };
  }
}

function decodeJsonPart(part: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An HS256 forward proof checked with the binding's key: its claims, or why it fails; 'not-hs256' for any other alg
 * (checked with the JWKS). The MAC is compared in constant time, and before anything in the payload is read.
 */
function verifyHs256(token: string, forwardKey: HubSignatureOptions['forwardKey'], hubId: string | undefined): ForwardClaims | string | 'not-hs256' {
  const parts = token.split('.');
  const header = decodeJsonPart(parts[0]);
  if (header?.alg !== 'HS256') return 'not-hs256';
  if (parts.length !== 3) return 'ERR_JWS_INVALID';
  if (!forwardKey) return 'HS256 proof, and no forward key is configured';
  if (header.kid !== forwardKey.keyId) return 'HS256 proof under another key id';
  if (header.typ !== forwardTokenType) return 'ERR_JWT_CLAIM_VALIDATION_FAILED typ';
  const expected = createHmac('sha256', Buffer.from(forwardKey.key, 'base64url')).update(`${parts[0]}.${parts[1]}`).digest();
  // One spelling only: 43 base64url characters whose last carries no stray bits (Buffer would also take padding).
  if (!/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/.test(parts[2] ?? '')) return 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
  const given = Buffer.from(parts[2] ?? '', 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
  const claims = decodeJsonPart(parts[1]) as ForwardClaims | undefined;
  if (!claims) return 'ERR_JWT_INVALID';
  if (hubId !== undefined && claims.iss !== hubId) return 'ERR_JWT_CLAIM_VALIDATION_FAILED iss';
  return claims;
}

/** The JWS type of a batch of changes the hub pushes (docs/protocol.md §9). */
export const deliveryTokenType = 'tabadol-delivery+jwt';

export interface HubDeliveryOptions extends Omit<HubSignatureOptions, 'hubId'> {
  hubId?: string;
  /** This system's subsystem id: the push's `aud` must equal it. */
  audience?: string;
}

export type HubDeliveryResult = { ok: true; subscription: string; deliveryId: string } | { ok: false; status: 401 | 503; detail: string };

/**
 * Verifies a push of the hub's changes: the `tabadol-signature` JWS (typ tabadol-delivery+jwt) by the hub's keys, its
 * `bdh` over the exact body bytes, `jti` equal to `webhook-id`, `iat` within the skew and equal to `webhook-timestamp`.
 */
export function createHubDeliveryVerifier(options: HubDeliveryOptions): (header: (name: string) => string | undefined, body: Uint8Array) => Promise<HubDeliveryResult> {
  const keySet = createRemoteJWKSet(new URL(options.jwksUrl), { cooldownDuration: options.jwksCooldownMs ?? 5_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 });
  const maxSkew = options.maxSkewSeconds ?? 300;
  return async (header, body) => {
    const token = header('tabadol-signature');
    const id = header('webhook-id');
    const timestamp = header('webhook-timestamp');
    if (!token || !id || !timestamp) return { ok: false, status: 401, detail: 'missing tabadol-signature, webhook-id or webhook-timestamp' };
    let claims: JWTPayload & { bdh?: unknown };
    try {
      ({ payload: claims } = await jwtVerify(token, keySet, { algorithms: ['ES256'], typ: deliveryTokenType, ...(options.hubId ? { issuer: options.hubId } : {}), ...(options.audience ? { audience: options.audience } : {}) }));
    } catch (err) {
      if (err instanceof errors.JWKSTimeout || (err instanceof Error && !(err instanceof errors.JOSEError))) return { ok: false, status: 503, detail: 'the hub keys (JWKS) could not be fetched' };
      return { ok: false, status: 401, detail: `the push signature does not verify (${err instanceof errors.JOSEError ? err.code : 'error'})` };
    }
    const digest = createHash('sha256').update(body).digest('base64url');
    const wrong = [
      ...(claims.bdh === digest ? [] : ['bdh']),
      ...(claims.jti === id ? [] : ['jti']),
      ...(typeof claims.iat === 'number' && String(claims.iat) === timestamp && Math.abs(Date.now() / 1000 - claims.iat) <= maxSkew ? [] : ['iat']),
    ];
    if (wrong.length > 0) return { ok: false, status: 401, detail: `claim(s) not matching the push: ${wrong.join(', ')}` };
    return { ok: true, subscription: String(claims.sub ?? ''), deliveryId: id };
  };
}
