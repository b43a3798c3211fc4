"""The deployment's RS256 key: issuing tokens, publishing the key set, checking bearer tokens.

The honest path is PyJWT over a `cryptography` RSA key. The knobs that make a variant accept
forged tokens (alg none, HS256 keyed with the public key, signature ignored) only decide whether
the signature is trusted; the claims are always checked by the same PyJWT call.
"""

import base64
import functools
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from ghippo_reference.behaviour import Behaviour

# The audience tokens name under extra_token_claims, as a Keycloak client id would.
AUDIENCE = "ghippo"


class InvalidToken(Exception):
    """The bearer token is not one this deployment accepts."""


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str
    jwk: dict
    # The public forms of the key an attacker could use as an HMAC secret (the HS256 confusion).
    public_forms: tuple[bytes, ...]


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_jwk(private_key: rsa.RSAPrivateKey, alg: str, use: str) -> dict:
    """The public half as a JWK whose kid is its RFC 7638 thumbprint, the form of the sample token's kid."""
    public_jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    members = json.dumps({name: public_jwk[name] for name in ("e", "kty", "n")}, separators=(",", ":"))
    kid = _base64url(hashlib.sha256(members.encode()).digest())
    return {"kid": kid, "kty": "RSA", "e": public_jwk["e"], "n": public_jwk["n"], "alg": alg, "use": use}


@functools.cache
def signing_key() -> SigningKey:
    """One RSA-2048 key per process: generating it takes longer than starting the server."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = _public_jwk(private_key, "RS256", "sig")
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_forms = (pem, pem.strip(), json.dumps(jwk).encode(), json.dumps(jwk, separators=(",", ":")).encode())
    return SigningKey(private_key, jwk["kid"], jwk, public_forms)


def _kid(behaviour: Behaviour) -> str:
    """The signing key's id: its RFC 7638 thumbprint, or a UUID named after it (kid_style)."""
    thumbprint = signing_key().kid
    return thumbprint if behaviour.kid_style == "thumbprint" else str(uuid.uuid5(uuid.NAMESPACE_URL, thumbprint))


@functools.cache
def _encryption_jwk() -> dict:
    """An RSA-OAEP key, as Keycloak lists beside its signing key; it never signs a token."""
    return _public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA-OAEP", "enc")


def key_set(behaviour: Behaviour) -> dict:
    signing = {**signing_key().jwk, "kid": _kid(behaviour)}
    return {"keys": [_encryption_jwk(), signing] if behaviour.encryption_key_listed else [signing]}


def issue_token(behaviour: Behaviour, *, user_id: str, username: str, jti: str, issued_at: int, expires_at: int) -> str:
    offset = behaviour.iat_offset_s + (0.25 if behaviour.fractional_numeric_dates else 0)
    claims = {
        "exp": expires_at + offset,
        "iat": issued_at + offset,
        "iss": behaviour.issuer,
        "sub": user_id,
        "preferred_username": username,
        "groups": [],
        "jti": jti,
    }
    if behaviour.extra_token_claims:
        claims |= {"aud": AUDIENCE, "azp": AUDIENCE, "nbf": claims["iat"], "typ": "Bearer"}
    headers = {"kid": _kid(behaviour)} if behaviour.include_kid else None
    token = jwt.encode(claims, signing_key().private_key, algorithm="RS256", headers=headers)
    if behaviour.padded_token_signature:
        # Standard base64 keeps "=" padding, which RFC 7515 section 2 leaves out of a JWS. Only the
        # signature is padded: its "=" stay at the token's end, where RFC 6750's b64token allows them.
        token += "=" * (-len(token.rpartition(".")[2]) % 4)
    return token


def read_token(token: str, behaviour: Behaviour, *, check_expiry: bool) -> dict:
    """The claims of an acceptable token; raises InvalidToken otherwise."""
    if token.count(".") != 2:
        raise InvalidToken("a JWT has three segments")
    claim_checks = {
        "require": ["exp", "iat", "iss", "sub"],
        "verify_exp": check_expiry,
        # iat is informative: a deployment must keep accepting its own tokens when a variant
        # shifts iat (iat_offset_s), so only exp bounds a token's life.
        "verify_iat": False,
        "verify_iss": True,
        "verify_sub": True,
    }
    try:
        header = jwt.get_unverified_header(token)
        expected = {"issuer": behaviour.issuer, "audience": AUDIENCE if behaviour.extra_token_claims else None}
        if _signature_trusted_anyway(token, header, behaviour):
            return jwt.decode(token, options={"verify_signature": False, **claim_checks}, **expected)
        # A token without kid can only be checked against the one key there is.
        if header.get("kid", _kid(behaviour)) != _kid(behaviour):
            raise InvalidToken("signed by an unknown key")
        public_key = signing_key().private_key.public_key()
        return jwt.decode(token, public_key, algorithms=["RS256"], options=claim_checks, **expected)
    except jwt.InvalidTokenError as error:
        raise InvalidToken(str(error)) from error


def _signature_trusted_anyway(token: str, header: dict, behaviour: Behaviour) -> bool:
    """Whether a broken variant skips the RS256 signature check for this token."""
    alg = header.get("alg")
    if behaviour.accept_alg_none and str(alg).lower() == "none":
        return True
    if behaviour.trust_empty_signature and token.endswith("."):
        return True
    if behaviour.accept_hs256_public_key and alg == "HS256":
        signing_input, _, signature = token.encode().rpartition(b".")
        return any(
            hmac.compare_digest(signature, _base64url(hmac.new(secret, signing_input, "sha256").digest()).encode())
            for secret in signing_key().public_forms
        )
    return not behaviour.verify_signature and alg == "RS256"
