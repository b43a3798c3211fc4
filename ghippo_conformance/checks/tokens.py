"""Reading JWTs without trusting them, and the primitives that forge the bad ones a deployment must refuse.

PyJWT and cryptography sign whatever a real attacker's key signs (RS*, PS*, ES*, EdDSA). No maintained
JWT library builds `alg=none` tokens, HMAC tokens keyed with a public key or an empty secret, or
signatures no key made (an all-zero ECDSA signature, RSA signature integers at the modulus' edges):
those are a few lines over base64url, hmac and integers here. checks/forgeries.py names the recipes.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from functools import cache, lru_cache
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

# Reading a token is shared with the deployment layer; suites read it through this module as before.
from ghippo_conformance.jws import b64decode
from ghippo_conformance.jws import claims as claims
from ghippo_conformance.jws import header as header
from ghippo_conformance.jws import is_compact_jws as is_compact_jws
from ghippo_conformance.jws import issued_jwt as issued_jwt


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _encode_json(value: dict[str, Any]) -> str:
    return _b64encode(json.dumps(value, separators=(",", ":")).encode())


def with_claims(token: str, **changes: Any) -> str:
    """The token with its payload changed and its original signature kept."""
    head, _, signature = token.split(".")
    return f"{head}.{_encode_json({**claims(token), **changes})}.{signature}"


def with_flipped_signature_byte(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(b64decode(signature))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}.{payload}.{_b64encode(bytes(raw))}"


def unsigned(token: str, alg: str = "none") -> str:
    """The token re-encoded with `alg` set to a spelling of "none" and an empty signature."""
    return f"{_encode_json({**header(token), 'alg': alg})}.{token.split('.')[1]}."


_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def hmac_signed(token: str, secret: bytes, alg: str = "HS256", header_changes: dict[str, Any] | None = None) -> str:
    """The token's claims MAC-signed under `secret` (the key-confusion and weak-secret attacks); PyJWT
    refuses an empty or PEM-shaped HMAC key, rightly, so this is hmac over the signing input."""
    changed = {**header(token), **(header_changes or {}), "alg": alg}
    signing_input = f"{_encode_json(_without_none(changed))}.{token.split('.')[1]}"
    mac = hmac.new(secret, signing_input.encode(), _HMAC_HASHES[alg]).digest()
    return f"{signing_input}.{_b64encode(mac)}"


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    """A header with the members set to None left out: None is how a change removes a member."""
    return {name: value for name, value in values.items() if value is not None}


def with_header(token: str, **changes: Any) -> str:
    """The token with its header changed (None removes a member) and its payload and signature kept."""
    _, payload, signature = token.split(".")
    return f"{_encode_json(_without_none({**header(token), **changes}))}.{payload}.{signature}"


def with_signature(token: str, signature: bytes) -> str:
    """The token's header and payload under a signature no key made."""
    head, payload, _ = token.split(".")
    return f"{head}.{payload}.{_b64encode(signature)}"


def signature(token: str) -> bytes:
    return b64decode(token.split(".")[2])


@lru_cache(maxsize=1)
def _foreign_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


_EC_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
# RFC 7518 section 3.4: an ECDSA JWS signature is R and S, each as long as the curve's order.
_EC_SIGNATURE_BYTES = {"ES256": 64, "ES384": 96, "ES512": 132}


@cache
def attacker_key(alg: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
    """A private key of the kind `alg` signs with, one per kind and process, that the deployment never issued."""
    if alg in _EC_CURVES:
        return ec.generate_private_key(_EC_CURVES[alg]())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return _foreign_key()


def signed_by_attacker(token: str, alg: str = "RS256", header_changes: dict[str, Any] | None = None) -> str:
    """The token's claims signed under `alg` by the attacker's key, its header changed as given."""
    kept = _without_none({k: v for k, v in {**header(token), **(header_changes or {})}.items() if k != "alg"})
    return jwt.encode(claims(token), attacker_key(alg), algorithm=alg, headers=kept)


def signed_with_foreign_key(token: str) -> str:
    """Same claims and `kid`, RS256-signed with a key the deployment never issued."""
    return signed_by_attacker(token)


def attacker_public_jwk(alg: str = "RS256") -> dict[str, Any]:
    """The attacker key's public half as a JWK, to embed in a forged token's `jwk` header (CVE-2018-0114)."""
    return {**jwt.algorithms.RSAAlgorithm.to_jwk(attacker_key(alg).public_key(), as_dict=True), "alg": alg}


@cache
def attacker_certificate_chain() -> list[str]:
    """A self-signed certificate for the attacker's RSA key, as an `x5c` header carries it (RFC 7515 4.1.6)."""
    key = _foreign_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "conformance attacker")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()]


def zero_ecdsa_signed(token: str, alg: str, kid: str | None) -> str:
    """The token under `alg` with R = S = 0, which a verifier without the range check accepts for any
    key (CVE-2022-21449, "psychic signatures")."""
    return with_signature(with_header(token, alg=alg, kid=kid), bytes(_EC_SIGNATURE_BYTES[alg]))


def rsa_edge_signature(token: str, modulus: int, edge: str) -> bytes:
    """A signature segment no key made: the integer 0, 1, n - 1 or n, the token's own signature plus
    n, or its own signature with a zero byte prepended. A verifier that does not bound the integer
    by the modulus, or the length by the modulus' length, accepts some of them (RFC 8017 8.2.2)."""
    length = (modulus.bit_length() + 7) // 8
    own = signature(token)
    integers = {"zero": 0, "one": 1, "n-minus-one": modulus - 1, "n": modulus}
    if edge == "s-plus-n":
        value = int.from_bytes(own, "big") + modulus
        return value.to_bytes(length + 1, "big")
    if edge == "zero-prefixed":
        return b"\x00" + own
    return integers[edge].to_bytes(length, "big")


def public_key_encodings(jwk: dict[str, Any]) -> dict[str, bytes]:
    """The forms in which a confused verifier might use a public key as an HMAC secret: PEM (SPKI,
    and PKCS#1 for RSA) with its trailing newline and without, DER, OpenSSH with and without one,
    and the JWK as JSON (spaced as json.dumps writes it, and compact)."""
    public_key = jwt.PyJWK(jwk).key
    if hasattr(public_key, "public_key"):  # PyJWK gives a private key when the JWK holds one
        public_key = public_key.public_key()
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    openssh = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    forms = {
        "spki-pem": pem,
        "spki-pem-no-newline": pem.rstrip(b"\n"),
        "der": public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        "openssh": openssh,
        "openssh-newline": openssh + b"\n",
        "jwk-json": json.dumps(jwk).encode(),
        "jwk-compact": json.dumps(jwk, separators=(",", ":")).encode(),
    }
    if isinstance(public_key, rsa.RSAPublicKey):
        pkcs1 = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        forms |= {"pkcs1-pem": pkcs1, "pkcs1-pem-no-newline": pkcs1.rstrip(b"\n")}
    return forms


_KIDS_SHOWN = 10  # a key set's kids named in a message, at most
# The signature only: the claims are TOKEN-CLAIMS' concern.
_SIGNATURE_ONLY = {
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
    "verify_aud": False,
    "verify_iss": False,
}


def verify_with_jwks(token: str, jwks: Any, algorithms: list[str]) -> str | None:
    """None when a key of `jwks` with the token's `kid` verifies its signature under the token's alg; else
    why not. Any `jwks` is read without raising: members that are not objects are no keys."""
    token_header = header(token)
    kid, alg = token_header.get("kid"), token_header.get("alg")
    listed = jwks.get("keys") if isinstance(jwks, dict) else None
    keys = [key for key in listed if isinstance(key, dict)] if isinstance(listed, list) else []
    matching = [key for key in keys if key.get("kid") == kid]
    if not matching:
        kids = [key.get("kid") for key in keys[:_KIDS_SHOWN]] + (["…"] if len(keys) > _KIDS_SHOWN else [])
        return f"no key with kid {kid!r} among {kids}"
    if alg not in algorithms:
        return f"the token's alg {alg!r} is not one of {algorithms}"
    refusals = []
    for key in matching:
        try:
            # The token's alg, not the key's own: a key whose alg disagrees is TOKEN-JWKS-COHERENT's concern.
            verifier = jwt.PyJWK(key, algorithm=alg).key
            # A JWK with private members loads as a private key, which cannot verify; its public half can
            # (publishing the private half is TOKEN-JWKS-PUBLIC-ONLY's concern).
            verifier = verifier.public_key() if hasattr(verifier, "public_key") else verifier
            jwt.decode(token, verifier, algorithms=[alg], options=_SIGNATURE_ONLY)
        except jwt.PyJWTError as error:
            refusals.append(str(error))
        else:
            return None
    return f"signature does not verify with kid {kid!r}: {'; '.join(refusals)}"
