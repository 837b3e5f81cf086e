// `tabadol/client`: a consumer's side of the protocol, for a ministry's integrator. Sign a request as a ministry's
// system would, verify the hub's signed answer, and call the hub's referential services with types generated from their
// contracts (referentialClients). demo:call, the benchmarks and the tests use it; docs/protocol.md shows the same steps
// in Python (docs/examples/tabadol_client.py).
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CompactSign, compactVerify, createLocalJWKSet, importJWK, type JSONWebKeySet, type JWK } from 'jose';

export interface ClientIdentity {
  /** The calling subsystem, e.g. MA/GOV/MEF/marches-publics. */
  id: string;
  kid: string;
  alg: 'ES256' | 'EdDSA';
  privateKey: Awaited<ReturnType<typeof importJWK>>;
}

export function bodyDigest(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('base64url');
}

/** Reads a private JWK written by `tabadol keys generate`. */
export async function loadClientIdentity(id: string, privateJwkPath: string): Promise<ClientIdentity> {
  const jwk = JSON.parse(readFileSync(privateJwkPath, 'utf8')) as JWK;
  const alg = jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
  if (!jwk.kid) throw new Error(`${privateJwkPath} has no kid`);
  return { id, kid: jwk.kid, alg, privateKey: await importJWK(jwk, alg) };
}

export interface SignRequestInput {
  identity: ClientIdentity;
  hubId: string;
  method: string;
  /** Path plus ?query exactly as it will be sent. */
  target: string;
  purpose: string;
  body?: Uint8Array | string;
  jti?: string;
  iat?: number;
}

/** The three headers of a signed request (plus the jti used). */
export async function signRequest(input: SignRequestInput): Promise<{ headers: Record<string, string>; jti: string }> {
  const jti = input.jti ?? randomUUID();
  const payload = {
    iss: input.identity.id,
    aud: input.hubId,
    htm: input.method.toUpperCase(),
    htu: input.target,
    pur: input.purpose,
    iat: input.iat ?? Math.floor(Date.now() / 1000),
    jti,
    bdh: bodyDigest(input.body ?? ''),
  };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: input.identity.alg, kid: input.identity.kid, typ: 'tabadol-request+jwt' })
    .sign(input.identity.privateKey);
  return { headers: { 'tabadol-client': input.identity.id, 'tabadol-purpose': input.purpose, 'tabadol-signature': jws }, jti };
}

export interface ResponseClaims {
  iss: string;
  aud?: string;
  jti: string;
  rqh?: string;
  sts: number;
  bdh: string;
  iat: number;
}

export class ResponseVerificationError extends Error {
  override name = 'ResponseVerificationError';
}

/**
 * Checks a hub answer: its signature with the hub's JWKS, that it answers this request (rqh, jti), and that the status
 * and the body bytes are the ones the hub signed. Throws ResponseVerificationError naming what does not hold.
 */
export async function verifyResponse(input: {
  jwks: JSONWebKeySet;
  hubId: string;
  clientId: string;
  requestSignature: string;
  jti: string;
  status: number;
  signature: string | null;
  body: Uint8Array | string;
}): Promise<ResponseClaims> {
  if (!input.signature) throw new ResponseVerificationError('the answer has no Tabadol-Signature');
  let payload: Uint8Array;
  let typ: unknown;
  try {
    const verified = await compactVerify(input.signature, createLocalJWKSet(input.jwks), { algorithms: ['ES256', 'EdDSA'] });
    payload = verified.payload;
    typ = verified.protectedHeader.typ;
  } catch (err) {
    throw new ResponseVerificationError(`the hub's signature does not verify: ${(err as Error).message}`);
  }
  const claims = JSON.parse(new TextDecoder().decode(payload)) as ResponseClaims;
  const problems: string[] = [];
  if (typ !== 'tabadol-response+jwt') problems.push('typ is not tabadol-response+jwt');
  if (claims.iss !== input.hubId) problems.push(`iss is ${claims.iss}, not ${input.hubId}`);
  if (claims.aud !== undefined && claims.aud !== input.clientId) problems.push(`aud is ${claims.aud}, not ${input.clientId}`);
  if (claims.jti !== input.jti) problems.push('jti is not the request\'s');
  if (claims.rqh !== bodyDigest(input.requestSignature)) problems.push('rqh does not bind this answer to this request');
  if (claims.sts !== input.status) problems.push(`the signed status is ${claims.sts}, the answer's is ${input.status}`);
  if (claims.bdh !== bodyDigest(input.body)) problems.push('the body was altered after the hub signed it (bdh mismatch)');
  if (problems.length > 0) throw new ResponseVerificationError(problems.join('; '));
  return claims;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: string;
  claims: ResponseClaims;
  logId: string | null;
}

/** A consumer: calls services through the hub with signed requests and verifies every answer. */
export class TabadolClient {
  private jwks: JSONWebKeySet | undefined;

  constructor(private readonly options: { hubUrl: string; hubId: string; identity: ClientIdentity }) {}

  get hubUrl(): string {
    return this.options.hubUrl;
  }

  get hubId(): string {
    return this.options.hubId;
  }

  /**
   * A fetch that signs every request and verifies every answer, for typed clients (openapi-fetch): the purpose is the
   * request's Tabadol-Purpose header, else `purpose`. An answer that does not verify rejects (ResponseVerificationError);
   * a verified answer keeps its status, headers (Tabadol-Log-Id…) and body.
   */
  fetchWith(purpose?: string): (request: Request) => Promise<Response> {
    return async (request) => {
      const target = request.url.startsWith(this.options.hubUrl) ? request.url.slice(this.options.hubUrl.length) : `${new URL(request.url).pathname}${new URL(request.url).search}`;
      const signedPurpose = request.headers.get('tabadol-purpose') ?? purpose;
      if (!signedPurpose) throw new Error(`no purpose for ${request.method} ${target}: give one to fetchWith() or a Tabadol-Purpose header`);
      const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
      const contentType = request.headers.get('content-type') ?? undefined;
      const result = await this.call(request.method, target, { purpose: signedPurpose, ...(body ? { body, contentType } : {}) });
      const empty = result.status === 204 || result.status === 304;
      return new Response(empty ? null : result.body, { status: result.status, headers: result.headers });
    };
  }

  private async hubKeys(refresh = false): Promise<JSONWebKeySet> {
    if (!this.jwks || refresh) {
      const res = await fetch(`${this.options.hubUrl}/.well-known/jwks.json`);
      if (!res.ok) throw new Error(`cannot fetch the hub's JWKS: HTTP ${res.status}`);
      this.jwks = (await res.json()) as JSONWebKeySet;
    }
    return this.jwks;
  }

  /** `target` starts with /x/v1/, /meta/v1/ or /sync/v1/ (a pull subscription's read). */
  async call(method: string, target: string, options: { purpose: string; body?: string | Uint8Array; contentType?: string }): Promise<CallResult> {
    const { headers, jti } = await signRequest({ identity: this.options.identity, hubId: this.options.hubId, method, target, purpose: options.purpose, body: options.body });
    const res = await fetch(`${this.options.hubUrl}${target}`, {
      method,
      headers: { ...headers, ...(options.body !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {}) },
      body: options.body,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const verify = async (jwks: JSONWebKeySet) =>
      verifyResponse({ jwks, hubId: this.options.hubId, clientId: this.options.identity.id, requestSignature: headers['tabadol-signature'] ?? '', jti, status: res.status, signature: res.headers.get('tabadol-signature'), body: bytes });
    let claims: ResponseClaims;
    try {
      claims = await verify(await this.hubKeys());
    } catch (err) {
      // The hub may have rotated its key since we fetched the JWKS: refetch once.
      if (!(err instanceof ResponseVerificationError) || !/does not verify/.test(err.message)) throw err;
      claims = await verify(await this.hubKeys(true));
    }
    return { status: res.status, headers: res.headers, body: new TextDecoder().decode(bytes), claims, logId: res.headers.get('tabadol-log-id') };
  }
}

export { referentialClients, type ReferentialClients, type ReferentialService } from './referentials.ts';
