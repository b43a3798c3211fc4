"""The key set a deployment publishes at certs, read without trusting its shape, and the rules it keeps.

Whatever the deployment sends (a body that is not JSON, `keys` that is not a list, a member that is not an
object, a member of the wrong type), each check here ends in a judgement: it holds, it fails with the
exchange as evidence (expect), or it cannot be made and says why (a skip). PyJWT only ever loads members that
schemas/jwks.json accepts as keys. The rules are rows of the key-set case tables; each names a rule below.
"""

from __future__ import annotations

import binascii
import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from ghippo_conformance import json_schemas, jws
from ghippo_conformance.checks import expect, tokens
from ghippo_conformance.deployment.http import Exchange

# The members a private or symmetric JWK carries (RFC 7518 sections 6.2.2, 6.3.2 and 6.4; RFC 8037 section 2):
# their values are secrets the moment a deployment publishes them, kept out of every report.
_SECRET_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
# RFC 7468 sections 10 and 11, and the older OpenSSL and OpenSSH labels.
_PRIVATE_PEM = re.compile(
    r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+=*")
# The key types a verifier here can load a public key of (RFC 7518 section 6.1, RFC 8037 section 2).
_VERIFIABLE_TYPES = ("RSA", "EC", "OKP")
# RFC 7517 section 4.3: the operations each use stands for.
_OPERATIONS_OF_USE = {
    "sig": {"sign", "verify"},
    "enc": {"encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits"},
}
_PROBLEMS_SHOWN = 5
# A real key set lists a handful of keys; a hostile one could list enough private values to make the redactor
# (which looks for every secret in every text) slow: past this many, the rest are left to the evidence's length cap.
_SECRETS_KEPT = 1000


@dataclass(frozen=True)
class PublishedKeySet:
    """The certs answer: the exchange, its JSON body (None when it is not JSON), the members of its `keys`
    as sent (whatever their type) and every JWK in it (each object member of `keys`, and any object with a
    kty wherever it sits, so a key set of another shape is still looked at)."""

    exchange: Exchange
    body: Any
    members: list[Any]
    jwks: list[dict[str, Any]]

    def verifiable_keys(self) -> list[dict[str, Any]]:
        """The members a verifier can load as public keys, as they are: for forging tokens under them."""
        return [member for member in self.members if _loads_as_public_key(member)]


def read(exchange: Exchange) -> PublishedKeySet:
    """The certs answer read, never judged; a private value it holds is a secret from here on (redacted)."""
    body = exchange.json()
    keys = body.get("keys") if isinstance(body, dict) else None
    members = list(keys.values()) if isinstance(keys, dict) else list(keys) if isinstance(keys, list) else []
    jwks = [member for member in members if isinstance(member, dict)]
    seen = {id(jwk) for jwk in jwks}
    jwks += [found for found in _values(body) if isinstance(found, dict) and "kty" in found and id(found) not in seen]
    # oth is an array of objects whose members are secrets too: every string under a secret member is one.
    secrets = [
        secret
        for jwk in jwks
        for name in _SECRET_MEMBERS
        for secret in _values(jwk.get(name))
        if isinstance(secret, str)
    ]
    for pem in _PRIVATE_PEM.findall(exchange.text):
        secrets += [pem, *pem.splitlines()[1:-1]]
    for secret in secrets[:_SECRETS_KEPT]:
        exchange.redact.add(secret)
    return PublishedKeySet(exchange, body, members, jwks)


def verifies(published: PublishedKeySet, token: str, algorithms: Sequence[str]) -> None:
    """TOKEN-JWKS: the answer is a key set as schemas/jwks.json describes it, and a key with the token's kid
    verifies the token's signature."""
    __tracebackhide__ = True
    exchange = published.exchange
    expect.status(exchange, 200, "the key set (certs)")
    body = expect.json_body(exchange, "the key set (certs)")
    expect.conforms(body, "jwks", "the key set (certs)", exchange)
    expect.that(tokens.is_compact_jws(token), "the session's bearer is not a JWT: no kid to look up", exchange)
    problem = tokens.verify_with_jwks(token, body, list(algorithms))
    expect.that(problem is None, f"the session's bearer does not verify against the key set: {problem}", exchange)


def holds(published: PublishedKeySet, case: dict[str, Any], token: str | None = None) -> None:
    """A key-set case table's row: its rule holds for the published set, or it fails with the exchange."""
    __tracebackhide__ = True
    rule = _RULES[case["rule"]["name"]]
    if rule.needs_keys and not published.jwks:
        pytest.skip(f"the certs answer ({published.exchange.status}) holds no key to judge; TOKEN-JWKS says why")
    header = tokens.header(token) if token is not None and tokens.is_compact_jws(token) else None
    if rule.needs_token_key and not _token_keys(published, header):
        kid = None if header is None else header.get("kid")
        pytest.skip(f"no key of the set has the bearer's kid {kid!r}, so none is the token's; TOKEN-JWKS judges that")
    problems = rule.judge(published, case["rule"], header or {})
    shown = "; ".join(problems[:_PROBLEMS_SHOWN]) + (
        f"; and {len(problems) - _PROBLEMS_SHOWN} more" if len(problems) > _PROBLEMS_SHOWN else ""
    )
    expect.that(not problems, f"expected {case['description']}: {shown}", published.exchange)


def _values(value: Any) -> Iterator[Any]:
    """`value` and every value in it, at any depth, without recursion (a deep answer cannot exhaust the stack)."""
    pending = [value]
    while pending:
        current = pending.pop()
        yield current
        if isinstance(current, dict):
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)


@functools.cache
def _key_validator():
    return json_schemas.validator({"$ref": f"{json_schemas.BASE_URI}jwks.json#/$defs/key"})


def _loads_as_public_key(member: Any) -> bool:
    if not _key_validator().is_valid(member) or member.get("kty") not in _VERIFIABLE_TYPES:
        return False
    try:
        jwt.PyJWK(member)
    except jwt.PyJWTError:
        return False
    return True


def _named(jwk: dict[str, Any]) -> str:
    """A key as a message names it: its kid (or its place) and its key type, cut short."""
    kid = f"kid {json.dumps(jwk['kid'])[:60]}" if "kid" in jwk else "a key without kid"
    return f"{kid} (kty {json.dumps(jwk.get('kty'))[:20]})"


def _octets(jwk: dict[str, Any], member: str) -> bytes | None:
    """The octets a base64url member holds as written (RFC 7518 section 2, Base64urlUInt), or None."""
    value = jwk.get(member)
    if not isinstance(value, str) or not _BASE64URL.fullmatch(value):
        return None
    try:
        return jws.b64decode(value.rstrip("="))
    except (binascii.Error, ValueError):
        return None


def _integer(jwk: dict[str, Any], member: str) -> int | None:
    """The unsigned integer a base64url member holds, or None."""
    octets = _octets(jwk, member)
    return None if octets is None else int.from_bytes(octets, "big")


def _rsa_keys(published: PublishedKeySet) -> list[dict[str, Any]]:
    return [jwk for jwk in published.jwks if jwk.get("kty") == "RSA"]


def _token_keys(published: PublishedKeySet, header: dict[str, Any] | None) -> list[dict[str, Any]]:
    if header is None or "kid" not in header:
        return []
    return [jwk for jwk in published.jwks if jwk.get("kid") == header["kid"]]


def _members_absent(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    problems = []
    for jwk in published.jwks:
        found = [name for name in rule["members"] if name in jwk]
        if found:
            problems.append(f"{_named(jwk)} carries {', '.join(found)}")
    return problems


def _private_pem_absent(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    found = _PRIVATE_PEM.findall(published.exchange.text)
    return [f"the answer holds {len(found)} PEM private key(s) ({found[0].splitlines()[0]})"] if found else []


def _rsa_integers(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    problems = []
    for jwk in _rsa_keys(published):
        for member in ("n", "e"):
            if member not in jwk:
                problems.append(f"{_named(jwk)} has no {member}")
            elif not _integer(jwk, member):
                problems.append(f"{_named(jwk)} has {member} = {json.dumps(jwk[member])[:40]}, no base64url integer")
    return problems


def _rsa_modulus_bits(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    moduli = [(jwk, _integer(jwk, "n")) for jwk in _rsa_keys(published)]
    return [
        f"{_named(jwk)} has a {n.bit_length()}-bit modulus"
        for jwk, n in moduli
        if n and n.bit_length() < rule["min_bits"]
    ]


def _rsa_exponent(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    problems = []
    for jwk in _rsa_keys(published):
        n, e = _integer(jwk, "n"), _integer(jwk, "e")
        if e is not None and (e < 3 or e % 2 == 0 or (n is not None and e >= n)):
            problems.append(f"{_named(jwk)} has the public exponent e = {e if e.bit_length() <= 64 else '(huge)'}")
    return problems


def _rsa_modulus_odd(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    moduli = [(jwk, _integer(jwk, "n")) for jwk in _rsa_keys(published)]
    return [f"{_named(jwk)} has an even modulus" for jwk, n in moduli if n and n % 2 == 0]


def _token_key_use(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    problems = []
    for jwk in _token_keys(published, header):
        if "use" in jwk and jwk["use"] != "sig":
            problems.append(f"{_named(jwk)}, the token's key, has use {json.dumps(jwk['use'])[:20]}")
        operations = jwk.get("key_ops")
        if isinstance(operations, list) and "verify" not in operations:
            problems.append(f"{_named(jwk)}, the token's key, has key_ops {json.dumps(operations)[:60]} without verify")
    return problems


def _token_key_alg(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    return [
        f"{_named(jwk)}, the token's key, is for alg {json.dumps(jwk['alg'])[:20]}; the token is {header.get('alg')!r}"
        for jwk in _token_keys(published, header)
        if "alg" in jwk and jwk["alg"] != header.get("alg")
    ]


def _key_ops(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    problems = []
    for jwk in published.jwks:
        operations = jwk.get("key_ops")
        if not isinstance(operations, list):
            continue
        named = [operation for operation in operations if isinstance(operation, str)]
        repeated = sorted(operation for operation, count in Counter(named).items() if count > 1)
        if repeated:
            problems.append(f"{_named(jwk)} lists {', '.join(repeated)} more than once in key_ops")
        use = jwk.get("use")
        allowed = _OPERATIONS_OF_USE.get(use) if isinstance(use, str) else None
        foreign = sorted(set(named) - allowed) if allowed is not None else []
        if foreign:
            problems.append(f"{_named(jwk)} has use {jwk['use']} but key_ops {', '.join(foreign)}")
    return problems


def _distinct_kids(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    """Different keys of one key type under one kid (the same key listed twice is not two keys)."""
    listed: dict[tuple[str, str], list[str]] = {}
    for jwk in published.jwks:
        if "kid" in jwk:
            place = (json.dumps(jwk.get("kty")), json.dumps(jwk["kid"]))
            listed.setdefault(place, []).append(json.dumps(jwk, sort_keys=True))
    return [
        f"{len(set(keys))} different keys of kty {kty[:20]} share kid {kid[:60]}"
        for (kty, kid), keys in listed.items()
        if len(set(keys)) > 1
    ]


def _rsa_minimal_encoding(published: PublishedKeySet, rule: dict, header: dict) -> list[str]:
    problems = []
    for jwk in _rsa_keys(published):
        for member in ("n", "e"):
            octets = _octets(jwk, member)
            if octets is None:
                continue  # not an integer at all: TOKEN-JWKS-STRONG-KEYS reports it
            if "=" in jwk[member]:
                problems.append(f"{_named(jwk)} pads {member} with '='")
            if len(octets) > max(1, (int.from_bytes(octets, "big").bit_length() + 7) // 8):
                problems.append(f"{_named(jwk)} writes {member} with a leading zero octet")
    return problems


@dataclass(frozen=True)
class _Rule:
    judge: Callable[[PublishedKeySet, dict, dict], list[str]]
    # Judged only when the answer holds keys at all: with none, there is nothing it could hold for.
    needs_keys: bool = True
    # Judged only when a key has the bearer's kid.
    needs_token_key: bool = False


# The rules a key-set case table's `rule` column names (schemas/key-set-rule.json).
_RULES: dict[str, _Rule] = {
    "members-absent": _Rule(_members_absent, needs_keys=False),
    "private-pem-absent": _Rule(_private_pem_absent, needs_keys=False),
    "rsa-integers": _Rule(_rsa_integers),
    "rsa-modulus-bits": _Rule(_rsa_modulus_bits),
    "rsa-exponent": _Rule(_rsa_exponent),
    "rsa-modulus-odd": _Rule(_rsa_modulus_odd),
    "token-key-use": _Rule(_token_key_use, needs_token_key=True),
    "token-key-alg": _Rule(_token_key_alg, needs_token_key=True),
    "key-ops": _Rule(_key_ops),
    "distinct-kids": _Rule(_distinct_kids),
    "rsa-minimal-encoding": _Rule(_rsa_minimal_encoding),
}
