"""The deployment's RS256 key: issuing tokens and checking bearer tokens (published_keys.py publishes it).

The honest path is PyJWT over a `cryptography` RSA key. The knobs that make a variant accept
forged tokens (alg none, HS256 keyed with the public key, signature ignored) only decide whether
the signature is trusted; the claims are always checked by the same PyJWT call.
"""

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import urllib.request
import uuid
from dataclasses import dataclass

import jwt
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
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


def base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def base64url_decoded(text: str) -> bytes:
    """The bytes of a base64url text written without its padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_jwk(private_key: rsa.RSAPrivateKey, alg: str, use: str) -> dict:
    """The public half as a JWK whose kid is its RFC 7638 thumbprint, the form of the sample token's kid."""
    public = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    members = json.dumps({name: public[name] for name in ("e", "kty", "n")}, separators=(",", ":"))
    kid = base64url(hashlib.sha256(members.encode()).digest())
    return {"kid": kid, "kty": "RSA", "e": public["e"], "n": public["n"], "alg": alg, "use": use}


@functools.cache
def signing_key() -> SigningKey:
    """One RSA-2048 key per process: generating it takes longer than starting the server."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = public_jwk(private_key, "RS256", "sig")
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_forms = (pem, pem.strip(), json.dumps(jwk).encode(), json.dumps(jwk, separators=(",", ":")).encode())
    return SigningKey(private_key, jwk["kid"], jwk, public_forms)


def signing_kid(behaviour: Behaviour) -> str:
    """The signing key's id: its RFC 7638 thumbprint, or a UUID named after it (kid_style)."""
    thumbprint = signing_key().kid
    return thumbprint if behaviour.kid_style == "thumbprint" else str(uuid.uuid5(uuid.NAMESPACE_URL, thumbprint))


@functools.cache
def previous_key() -> tuple[rsa.RSAPublicKey, dict]:
    """The signing key before the last rotation (kid_key_source "rotated-key-set"), listed but signing
    nothing any more: its public key and JWK."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private_key.public_key(), public_jwk(private_key, "RS256", "sig")


def _verification_keys(behaviour: Behaviour) -> dict:
    """The public keys the verifier knows, by kid."""
    keys = {signing_kid(behaviour): signing_key().private_key.public_key()}
    if behaviour.kid_key_source == "rotated-key-set":
        previous, jwk = previous_key()
        keys[jwk["kid"]] = previous
    return keys


def issue_token(behaviour: Behaviour, *, user_id: str, username: str, jti: str, issued_at: int, expires_at: int) -> str:
    offset = behaviour.iat_offset_s + (0.25 if behaviour.fractional_numeric_dates else 0)
    claims = {
        "exp": expires_at + offset,
        "iat": issued_at + offset,
        "iss": behaviour.issuer,
        "sub": username if behaviour.token_subject == "username" else user_id,
        "preferred_username": username,
        "groups": [],
        "jti": jti,
    }
    if behaviour.extra_token_claims:
        claims |= {"aud": AUDIENCE, "azp": AUDIENCE, "nbf": claims["iat"], "typ": "Bearer"}
    headers = {"kid": signing_kid(behaviour)} if behaviour.include_kid else None
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
        # A token without kid can only be checked against the key that signs now.
        public_key = _verification_keys(behaviour).get(header.get("kid", signing_kid(behaviour)))
        if public_key is None:
            raise InvalidToken("signed by an unknown key")
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
    if not behaviour.verify_signature and alg == "RS256":
        return True
    return _falls_for_forgery(token, header, behaviour)


# The algs a verifier without a check for them lets through under unchecked_algs_trusted.
_UNCHECKED_ALGS = frozenset({"RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
_HMAC_HASHES = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
# Where kid_key_source = "file-path" looks a kid up; the path is joined and normalised, never checked.
_KEY_DIRECTORY = "/var/lib/ghippo/keys"
_KEY_FILE_LIMIT = 64 * 1024
# What an injected `' UNION SELECT '<key>'` makes a kid_key_source = "sql-lookup" query return.
_SQL_SELECTED = re.compile(r"UNION\s+SELECT\s+'([^']*)'", re.IGNORECASE)
_KEY_URL_TIMEOUT_S = 2.0


class KeyUrlUnreachable(Exception):
    """A jku or x5u could not be fetched: not an InvalidToken, so the request ends in a 500 (fetch_key_urls)."""


def _falls_for_forgery(token: str, header: dict, behaviour: Behaviour) -> bool:
    """Whether a variant of the bearer-attack catalogue takes this forged token as validly signed."""
    alg = str(header.get("alg"))
    signing_input, _, encoded_signature = token.rpartition(".")
    try:
        signature = base64url_decoded(encoded_signature)
    except ValueError:
        return False
    if behaviour.trust_embedded_keys and ("jwk" in header or "x5c" in header):
        return _verifies(alg, signing_input, signature, _embedded_key(header))
    if behaviour.fetch_key_urls and ("jku" in header or "x5u" in header):
        return _verifies(alg, signing_input, signature, _fetched_key(header))
    if behaviour.unchecked_algs_trusted and alg in _UNCHECKED_ALGS:
        return True
    if behaviour.psychic_signatures and alg.startswith("ES") and signature and not any(signature):
        return True
    if alg in _HMAC_HASHES:
        return any(
            hmac.compare_digest(hmac.new(secret, signing_input.encode(), _HMAC_HASHES[alg]).digest(), signature)
            for secret in _hmac_secrets(alg, header, behaviour)
        )
    if alg == "RS256" and behaviour.rs256_blank_signature_trusted and not encoded_signature:
        return True
    if alg == "RS256" and behaviour.kid_lookup_key == "rs256-public-key" and isinstance(header.get("kid"), str):
        found = (_pem_public_key(text) for text in _kid_lookup(header["kid"], behaviour))
        return any(_verifies(alg, signing_input, signature, key) for key in found if key is not None)
    return alg == "RS256" and behaviour.lax_rsa_signature and _verifies_modulo_n(signing_input, signature)


def _verifies(alg: str, signing_input: str, signature: bytes, public_key) -> bool:
    algorithm = jwt.algorithms.get_default_algorithms().get(alg)
    try:
        return bool(algorithm and algorithm.verify(signing_input.encode(), public_key, signature))
    except Exception:  # a key of the wrong kind for the alg: not verified
        return False


def _embedded_key(header: dict):
    """The key a token carries: its jwk, or the public key of the first certificate of its x5c."""
    try:
        if "jwk" in header:
            return jwt.PyJWK(header["jwk"]).key
        return x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0])).public_key()
    except Exception:
        return None


def _fetched_key(header: dict):
    """The first key of the key set a jku names, or of the certificate an x5u names."""
    url = header.get("jku") or header.get("x5u")
    try:
        with urllib.request.urlopen(str(url), timeout=_KEY_URL_TIMEOUT_S) as answer:
            fetched = answer.read(_KEY_FILE_LIMIT)
    except (OSError, ValueError) as error:
        raise KeyUrlUnreachable(f"cannot fetch {url}: {error}") from error
    if "jku" in header:
        return jwt.PyJWK(json.loads(fetched)["keys"][0]).key
    return x509.load_pem_x509_certificate(fetched).public_key()


def _hmac_secrets(alg: str, header: dict, behaviour: Behaviour) -> list[bytes]:
    """The secrets a broken variant checks an HS* token with."""
    if behaviour.accept_hmac_public_key_forms:
        secrets = list(_public_key_forms())
    else:
        secrets = list(signing_key().public_forms) if behaviour.accept_hs256_public_key and alg == "HS256" else []
    secrets += [b""] if behaviour.accept_empty_hmac_secret else []
    secrets += [b"secret"] if behaviour.accept_common_hmac_secret else []
    kid = header.get("kid")
    if isinstance(kid, str) and behaviour.kid_lookup_key == "hmac-secret":
        secrets += _kid_lookup(kid, behaviour)
    return secrets


def _kid_lookup(kid: str, behaviour: Behaviour) -> list[bytes]:
    """What a careless lookup finds for a kid (kid_key_source "file-path" or "sql-lookup")."""
    if behaviour.kid_key_source == "file-path":
        return _key_file(kid)
    if behaviour.kid_key_source == "sql-lookup":
        return [selected.encode() for selected in _SQL_SELECTED.findall(kid)]
    return []


def _pem_public_key(text: bytes):
    try:
        return serialization.load_pem_public_key(text)
    except (ValueError, UnsupportedAlgorithm):
        return None


def _key_file(kid: str) -> list[bytes]:
    """The content of the file a kid names, as a naive lookup joins it to its directory: ../ climbs out."""
    try:
        with open(os.path.normpath(os.path.join(_KEY_DIRECTORY, kid)), "rb") as key_file:
            return [key_file.read(_KEY_FILE_LIMIT)]
    except (OSError, ValueError):
        return []


@functools.cache
def _public_key_forms() -> tuple[bytes, ...]:
    """Every encoding of the public key a confused verifier may use as an HMAC secret."""
    public_key = signing_key().private_key.public_key()
    pkcs1 = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    openssh = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    # signing_key().public_forms: SPKI PEM with and without its newline, the JWK as JSON both ways.
    return (*signing_key().public_forms, pkcs1, pkcs1.rstrip(b"\n"), der, openssh, openssh + b"\n")


def _verifies_modulo_n(signing_input: str, signature: bytes) -> bool:
    """RS256 checked after reducing the signature integer modulo n and padding it to n's length."""
    public_key = signing_key().private_key.public_key()
    modulus = public_key.public_numbers().n
    reduced = (int.from_bytes(signature, "big") % modulus).to_bytes((modulus.bit_length() + 7) // 8, "big")
    try:
        public_key.verify(reduced, signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
