"""Forged bearer tokens by recipe name: how a case table's `forge` column becomes tokens.

A recipe starts from the session's valid bearer, so a forgery carries real claims (a real user, a
live exp) and only what it attacks is wrong. Some recipes give several tokens: one per kid of the
key set (the all-zero ECDSA signature against every listed key), or one per listed key when the key
set lacks the bearer's kid (an HMAC keyed with a public key). Each token comes with a label that
says which, for the evidence.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import serialization

from ghippo_conformance import jws
from ghippo_conformance.checks import tokens

Forged = list[tuple[str, str]]  # (label, token)
_RUN_KID = f"conformance-{uuid.uuid4()}"  # an unknown kid, the same for the whole run
# In a kid, stands for the attacker's RS256 public key as PEM: what an injected query makes a lookup return.
ATTACKER_PUBLIC_PEM = "{attacker-public-pem}"


class CannotForge(Exception):
    """The deployment published nothing to forge this case from (no key set, no RSA key in it)."""


def forge(spec: dict[str, Any], bearer: str, jwks: dict | None) -> Forged:
    """The tokens a `forge` column describes, each with its label."""
    return _RECIPES[spec["recipe"]](spec, bearer, jwks)


def listed_keys(jwks: dict | None) -> list[dict[str, Any]]:
    return list((jwks or {}).get("keys", []))


def _kids(spec: dict[str, Any], bearer: str, jwks: dict | None) -> list[str | None]:
    """The kids a case is forged under: "bearer" (the default) keeps the bearer's, "absent" leaves it
    out, "unknown" names no key, "every-listed" each kid of the key set and the bearer's; any other
    value is the kid itself, repeated `kid_repeat` times."""
    kid = spec.get("kid", "bearer")
    own = tokens.header(bearer).get("kid")
    if kid == "every-listed":
        every = [key.get("kid") for key in listed_keys(jwks)] + [own]
        return list(dict.fromkeys(k for k in every if isinstance(k, str))) or [own]
    named = {"bearer": own, "absent": None, "unknown": _RUN_KID}
    if kid in named:
        return [named[kid]]
    return [kid.replace(ATTACKER_PUBLIC_PEM, _attacker_public_pem()) * spec.get("kid_repeat", 1)]


@cache
def _attacker_public_pem() -> str:
    public_key = tokens.attacker_key("RS256").public_key()
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _label(kid: str | None) -> str:
    if kid is None:
        return "no kid"
    shown = kid.replace(_attacker_public_pem(), ATTACKER_PUBLIC_PEM)
    return f"kid {shown[:40]!r}" + (f"… ({len(kid)} chars)" if len(shown) > 40 else "")


def _signed(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    alg = spec["alg"]
    return [(_label(kid), tokens.signed_by_attacker(bearer, alg, {"kid": kid})) for kid in _kids(spec, bearer, jwks)]


def _zero_ecdsa(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    return [(_label(kid), tokens.zero_ecdsa_signed(bearer, spec["alg"], kid)) for kid in _kids(spec, bearer, jwks)]


def _hmac(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    """HMAC under a secret: empty, a text, or the deployment's public key in one encoding; without
    the bearer's kid in the key set, every listed key is tried, each under its own kid."""
    alg = spec["alg"]
    if spec["secret"] == "public-key":
        own = tokens.header(bearer).get("kid")
        keys = [key for key in listed_keys(jwks) if key.get("kid") == own] or listed_keys(jwks)
        keyed = [(key, tokens.public_key_encodings(key).get(spec["encoding"])) for key in keys]
        forged = [
            (_label(key.get("kid")), tokens.hmac_signed(bearer, secret, alg, {"kid": key.get("kid")}))
            for key, secret in keyed
            if secret is not None
        ]
        if not forged:
            raise CannotForge(f"the key set lists no key with a {spec['encoding']} encoding")
        return forged
    secret = spec.get("text", "").encode()
    return [(_label(kid), tokens.hmac_signed(bearer, secret, alg, {"kid": kid})) for kid in _kids(spec, bearer, jwks)]


def _rsa_edge(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    own = tokens.header(bearer).get("kid")
    rsa_keys = [key for key in listed_keys(jwks) if key.get("kty") == "RSA" and "n" in key]
    key = next((k for k in rsa_keys if k.get("kid") == own), rsa_keys[0] if rsa_keys else None)
    if key is None:
        raise CannotForge("the key set lists no RSA key, whose modulus the edge signatures need")
    modulus = int.from_bytes(jws.b64decode(key["n"]), "big")
    return [(spec["edge"], tokens.with_signature(bearer, tokens.rsa_edge_signature(bearer, modulus, spec["edge"])))]


def _flipped_signature_byte(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    return [("one signature bit flipped", tokens.with_flipped_signature_byte(bearer))]


def _claim_changed(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    """The payload changed under the original signature: sub names another user, or exp is a year later."""
    claims = tokens.claims(bearer)
    changed = {"sub": str(claims.get("sub", "")) + "x"} if spec["claim"] == "sub" else {}
    changed |= {"exp": claims.get("exp", 0) + 31_536_000} if spec["claim"] == "exp" else {}
    return [(f"{spec['claim']} changed", tokens.with_claims(bearer, **changed))]


def _empty_signature(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    head, payload, _ = bearer.split(".")
    return [("header.payload.", f"{head}.{payload}.")]


def _header_changed(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    return [(f"header {spec['header']}", tokens.with_header(bearer, **spec["header"]))]


def _unsigned(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    unsigned = tokens.unsigned(bearer, spec["alg"])
    if spec.get("keep_signature"):
        unsigned += bearer.split(".")[2]
    return [(f"alg {spec['alg']!r}", unsigned)]


def _embedded_jwk(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    return [("jwk", tokens.signed_by_attacker(bearer, header_changes={"jwk": tokens.attacker_public_jwk()}))]


def _embedded_x5c(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    return [("x5c", tokens.signed_by_attacker(bearer, header_changes={"x5c": tokens.attacker_certificate_chain()}))]


def _key_url(spec: dict, bearer: str, jwks: dict | None) -> Forged:
    parameter = spec["parameter"]
    return [(parameter, tokens.signed_by_attacker(bearer, header_changes={parameter: spec["url"]}))]


_RECIPES: dict[str, Callable[[dict, str, dict | None], Forged]] = {
    "signed": _signed,
    "zero-ecdsa": _zero_ecdsa,
    "hmac": _hmac,
    "rsa-edge": _rsa_edge,
    "flipped-signature-byte": _flipped_signature_byte,
    "claim-changed": _claim_changed,
    "empty-signature": _empty_signature,
    "header-changed": _header_changed,
    "unsigned": _unsigned,
    "embedded-jwk": _embedded_jwk,
    "embedded-x5c": _embedded_x5c,
    "key-url": _key_url,
}
RECIPES = tuple(_RECIPES)
