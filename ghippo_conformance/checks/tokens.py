"""Reading JWTs without trusting them, and forging the bad ones a deployment must refuse.

No maintained JWT library builds `alg=none` tokens or HS256 tokens keyed with an RSA public
key (they refuse, rightly), so those are a few lines over base64url and hmac here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _encode_json(value: dict[str, Any]) -> str:
    return _b64encode(json.dumps(value, separators=(",", ":")).encode())


def is_compact_jws(token: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return False
    try:
        return all(isinstance(json.loads(_b64decode(p)), dict) for p in parts[:2])
    except ValueError:
        return False


def header(token: str) -> dict[str, Any]:
    return json.loads(_b64decode(token.split(".")[0]))


def claims(token: str) -> dict[str, Any]:
    return json.loads(_b64decode(token.split(".")[1]))


def with_claims(token: str, **changes: Any) -> str:
    """The token with its payload changed and its original signature kept."""
    head, _, signature = token.split(".")
    return f"{head}.{_encode_json({**claims(token), **changes})}.{signature}"


def with_flipped_signature_byte(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(_b64decode(signature))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}.{payload}.{_b64encode(bytes(raw))}"


def unsigned(token: str, alg: str = "none") -> str:
    """The token re-encoded with `alg` set to a spelling of "none" and an empty signature."""
    return f"{_encode_json({**header(token), 'alg': alg})}.{token.split('.')[1]}."


def hs256_signed(token: str, secret: bytes) -> str:
    """The token's claims re-signed with HS256 under `secret` (the key-confusion attack)."""
    signing_input = f"{_encode_json({**header(token), 'alg': 'HS256'})}.{token.split('.')[1]}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64encode(mac)}"


@lru_cache(maxsize=1)
def _foreign_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed_with_foreign_key(token: str) -> str:
    """Same claims and `kid`, RS256-signed with a key the deployment never issued."""
    kept = {k: v for k, v in header(token).items() if k != "alg"}
    return jwt.encode(claims(token), _foreign_key(), algorithm="RS256", headers=kept)


def public_key_encodings(jwk: dict[str, Any]) -> dict[str, bytes]:
    """The forms in which a confused verifier might use an RSA public key as an HMAC secret."""
    public_key = jwt.algorithms.RSAAlgorithm.from_jwk(jwk)
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pkcs1 = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    return {"spki-pem": pem, "pkcs1-pem": pkcs1, "jwk-json": json.dumps(jwk).encode()}


def verify_with_jwks(token: str, jwks: dict[str, Any], algorithms: list[str]) -> str | None:
    """None when a key of `jwks` with the token's `kid` verifies its signature; else why not."""
    kid = header(token).get("kid")
    matching = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
    if not matching:
        return f"no key with kid {kid!r} among {[k.get('kid') for k in jwks.get('keys', [])]}"
    try:
        jwt.decode(
            token,
            jwt.PyJWK(matching[0]).key,
            algorithms=algorithms,
            # The signature only: the claims are TOKEN-CLAIMS' concern.
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.PyJWTError as error:
        return f"signature does not verify with kid {kid!r}: {error}"
    return None
