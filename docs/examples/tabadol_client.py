#!/usr/bin/env python3
"""A ministry's system calling the hub: sign a request, send it, verify the hub's signed answer.

Needs only Python 3 and jwcrypto (Debian/Ubuntu: apt-get install -y python3-jwcrypto).
Usage: tabadol_client.py HUB_URL HUB_ID CLIENT_ID PRIVATE_JWK_FILE METHOD TARGET PURPOSE [BODY]
Prints the verified answer as JSON; exits 1 (saying why) when the answer does not verify.
"""
import base64
import hashlib
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

from jwcrypto import jwk, jws


def b64url_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def sign_request(key: jwk.JWK, hub_id: str, client_id: str, method: str, target: str, purpose: str, body: bytes):
    """The Tabadol-Signature of a request (protocol §3): a compact JWS over the request's claims."""
    jti = str(uuid.uuid4())
    claims = {
        "iss": client_id,
        "aud": hub_id,
        "htm": method.upper(),
        "htu": target,  # path and query exactly as sent
        "pur": purpose,
        "iat": int(time.time()),
        "jti": jti,
        "bdh": b64url_sha256(body),
    }
    alg = "EdDSA" if key.get("kty") == "OKP" else "ES256"
    token = jws.JWS(json.dumps(claims).encode())
    token.add_signature(key, None, {"alg": alg, "kid": key.get("kid"), "typ": "tabadol-request+jwt"})
    return token.serialize(compact=True), jti


def verify_answer(jwks: jwk.JWKSet, hub_id: str, client_id: str, request_signature: str, jti: str, status: int, signature, body: bytes) -> dict:
    """Checks the hub's Tabadol-Signature (protocol §5): signed by the hub, for this request, this status and body."""
    if not signature:
        raise ValueError("the answer has no Tabadol-Signature")
    header = json.loads(base64.urlsafe_b64decode(signature.split(".")[0] + "=="))
    key = jwks.get_key(header.get("kid"))
    if key is None or header.get("alg") not in ("ES256", "EdDSA"):
        raise ValueError(f"the hub's key {header.get('kid')} is not in its JWKS")
    token = jws.JWS()
    token.deserialize(signature)
    token.verify(key, alg=header["alg"])  # raises when the signature does not verify
    claims = json.loads(token.payload)
    problems = []
    if header.get("typ") != "tabadol-response+jwt":
        problems.append("typ is not tabadol-response+jwt")
    if claims.get("iss") != hub_id:
        problems.append(f"iss is {claims.get('iss')}, not {hub_id}")
    if "aud" in claims and claims["aud"] != client_id:
        problems.append(f"aud is {claims['aud']}, not {client_id}")
    if claims.get("jti") != jti:
        problems.append("jti is not the request's")
    if claims.get("rqh") != b64url_sha256(request_signature.encode()):
        problems.append("rqh does not bind this answer to this request")
    if claims.get("sts") != status:
        problems.append(f"the signed status is {claims.get('sts')}, the answer's is {status}")
    if claims.get("bdh") != b64url_sha256(body):
        problems.append("the body was altered after the hub signed it (bdh mismatch)")
    if problems:
        raise ValueError("; ".join(problems))
    return claims


def call(hub_url: str, hub_id: str, client_id: str, key: jwk.JWK, method: str, target: str, purpose: str, body: bytes = b""):
    signature, jti = sign_request(key, hub_id, client_id, method, target, purpose, body)
    headers = {"Tabadol-Client": client_id, "Tabadol-Purpose": purpose, "Tabadol-Signature": signature}
    if body:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(hub_url + target, data=body or None, method=method.upper(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, answer_headers, answer_body = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as refused:  # a 4xx/5xx answer is signed too: verify it the same way
        status, answer_headers, answer_body = refused.code, refused.headers, refused.read()
    with urllib.request.urlopen(hub_url + "/.well-known/jwks.json", timeout=30) as keys:
        jwks = jwk.JWKSet.from_json(keys.read())
    claims = verify_answer(jwks, hub_id, client_id, signature, jti, status, answer_headers.get("Tabadol-Signature"), answer_body)
    return status, answer_headers.get("Tabadol-Log-Id"), claims, answer_body


def main(argv):
    if len(argv) not in (8, 9):
        sys.exit(__doc__)
    hub_url, hub_id, client_id, key_file, method, target, purpose = argv[1:8]
    body = argv[8].encode() if len(argv) == 9 else b""
    with open(key_file, "rb") as f:
        key = jwk.JWK.from_json(f.read())
    try:
        status, log_id, claims, answer_body = call(hub_url.rstrip("/"), hub_id, client_id, key, method, target, purpose, body)
    except ValueError as not_verified:
        sys.exit(f"the hub's answer does not verify: {not_verified}")
    print(json.dumps({"status": status, "verified": True, "logId": log_id, "jti": claims["jti"], "body": json.loads(answer_body or b"null")}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main(sys.argv)
