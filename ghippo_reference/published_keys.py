"""What the certs endpoint publishes: the public signing key, the other keys a deployment lists beside it,
and the shapes Behaviour.published_key_set gives the whole answer.

Every extra key is made once per process (an RSA key takes longer to make than a request takes to answer)
and is never used to sign or verify anything: only the key set shows it.
"""

import base64
import datetime
import functools
import hashlib
import json
import os
from collections.abc import Callable

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from ghippo_reference.behaviour import Behaviour
from ghippo_reference.signing import base64url, base64url_decoded, previous_key, public_jwk, signing_key, signing_kid

# An ML-DSA-44 public key is 1312 octets (FIPS 204 table 2); the key set lists one under the "AKP" key type.
_ML_DSA_44_PUBLIC_OCTETS = 1312
Keys = list[dict | None]
Body = dict | str  # a str is served as plain text


@functools.cache
def _encryption_jwk() -> dict:
    """An RSA-OAEP key, as Keycloak lists beside its signing key; it never signs a token."""
    return public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA-OAEP", "enc")


@functools.cache
def _ec_jwk() -> dict:
    """A P-256 signing key, listed under ec_key_listed; the deployment never signs or accepts ES256 with it."""
    public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    listed = jwt.algorithms.ECAlgorithm.to_jwk(public_key, as_dict=True)
    members = json.dumps({name: listed[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return {**listed, "kid": base64url(hashlib.sha256(members.encode()).digest()), "alg": "ES256", "use": "sig"}


@functools.cache
def _retired_jwk(key_size: int) -> dict:
    """An RSA verification key the deployment no longer signs with, still listed, as after a rotation."""
    return public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=key_size), "RS256", "sig")


@functools.cache
def _symmetric_jwk() -> dict:
    """An HS256 secret, listed as a JWK of type oct: published, anyone holding it can MAC tokens."""
    return {"kty": "oct", "kid": "hmac-2024", "alg": "HS256", "use": "sig", "k": base64url(os.urandom(32))}


@functools.cache
def _ml_dsa_jwk() -> dict:
    """A post-quantum ML-DSA-44 key of the draft "AKP" key type, which no client here understands."""
    public = base64url(os.urandom(_ML_DSA_44_PUBLIC_OCTETS))
    return {"kty": "AKP", "kid": "ml-dsa-2025", "alg": "ML-DSA-44", "pub": public}


@functools.cache
def _certificate_members() -> dict:
    """x5c, x5t and x5t#S256 (RFC 7517 sections 4.7 to 4.9) of a self-signed certificate for the signing key."""
    private_key = signing_key().private_key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ghippo")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(private_key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return {
        "x5c": [base64.b64encode(der).decode()],
        "x5t": base64url(hashlib.sha1(der).digest()),  # the SHA-1 thumbprint RFC 7517 section 4.8 defines
        "x5t#S256": base64url(hashlib.sha256(der).digest()),
    }


def _private_members() -> dict:
    """The signing key's private members (d, p, q, dp, dq, qi), as a private JWK carries them."""
    private = RSAAlgorithm.to_jwk(signing_key().private_key, as_dict=True)
    return {name: private[name] for name in ("d", "p", "q", "dp", "dq", "qi")}


def _private_key_pem() -> str:
    return (
        signing_key()
        .private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


def _zero_padded(member: str) -> str:
    """A base64url integer with a zero octet in front, as libraries that write a sign byte give it."""
    return base64url(b"\x00" + base64url_decoded(member))


def _as_numbers(key: dict) -> dict:
    """The key with n and e written as JSON numbers, as a serializer of big integers may write them."""
    return {**key, **{name: int.from_bytes(base64url_decoded(key[name]), "big") for name in "ne"}}


def _changed(keys: Keys, signing: dict, changes: dict, dropped: tuple[str, ...] = ()) -> Keys:
    """The keys with the signing key's members changed and `dropped` left out."""
    changed = {name: value for name, value in {**signing, **changes}.items() if name not in dropped}
    return [changed if key is signing else key for key in keys]


def _without(key: dict, *members: str) -> dict:
    return {name: value for name, value in key.items() if name not in members}


# Behaviour.published_key_set: the certs answer, from the keys listed and the signing key among them.
_SHAPES: dict[str, Callable[[Keys, dict], Body]] = {
    "public-keys": lambda keys, signing: {"keys": keys},
    "private-members": lambda keys, signing: {"keys": _changed(keys, signing, _private_members())},
    "symmetric-key": lambda keys, signing: {"keys": [*keys, _symmetric_jwk()]},
    "private-key-pem": lambda keys, signing: _private_key_pem(),
    "legacy-1024-bit-key": lambda keys, signing: {"keys": [*keys, _retired_jwk(1024)]},
    "exponent-one-key": lambda keys, signing: {"keys": [*keys, {**_retired_jwk(2048), "e": "AQ"}]},
    "signing-key-for-encryption": lambda keys, signing: {"keys": _changed(keys, signing, {"use": "enc"})},
    "signing-key-for-another-alg": lambda keys, signing: {"keys": _changed(keys, signing, {"alg": "RS512"})},
    "duplicate-kid": lambda keys, signing: {"keys": [{**_retired_jwk(2048), "kid": signing["kid"]}, *keys]},
    "zero-padded-modulus": lambda keys, signing: {"keys": _changed(keys, signing, {"n": _zero_padded(signing["n"])})},
    "null-member": lambda keys, signing: {"keys": [*keys, None]},
    "keys-by-kid": lambda keys, signing: {"keys": {key["kid"]: key for key in keys}},
    "key-without-kty": lambda keys, signing: {"keys": [*keys, _without(_retired_jwk(2048), "kty")]},
    "numeric-modulus": lambda keys, signing: {"keys": [*keys, _as_numbers(_retired_jwk(2048))]},
    "numeric-kid": lambda keys, signing: {"keys": [*keys, {**_retired_jwk(2048), "kid": 1}]},
    "unknown-kty-key": lambda keys, signing: {"keys": [*keys, _ml_dsa_jwk()]},
    "optional-members-left-out": lambda keys, signing: {
        "keys": [
            _without(_encryption_jwk(), "kid"),
            *_changed(keys, signing, {"key_ops": ["verify"]}, dropped=("use", "alg")),
        ]
    },
    "with-certificates": lambda keys, signing: {"keys": _changed(keys, signing, _certificate_members())},
}


def key_set(behaviour: Behaviour) -> Body:
    """The certs answer: the public signing key and the keys listed beside it, shaped by published_key_set."""
    signing = {**signing_key().jwk, "kid": signing_kid(behaviour)}
    keys: Keys = [_encryption_jwk(), signing] if behaviour.encryption_key_listed else [signing]
    if behaviour.kid_key_source == "rotated-key-set":
        keys.insert(0, previous_key()[1])
    if behaviour.ec_key_listed:
        keys.append(_ec_jwk())
    return _SHAPES[behaviour.published_key_set](keys, signing)
