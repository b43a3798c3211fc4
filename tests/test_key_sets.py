"""The key-set checks judge whatever a deployment publishes at certs: a verdict with its reason, or a skip
that says why nothing could be judged, never an exception of the suite's own. In-process and fast; the kill
matrix runs the same shapes against the reference over HTTP."""

import json
import typing

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghippo_conformance.checks import cases, key_sets, tokens
from ghippo_conformance.deployment.http import Exchange
from ghippo_conformance.deployment.redact import Redactor
from ghippo_reference.behaviour import Behaviour
from ghippo_reference.published_keys import key_set
from ghippo_reference.signing import issue_token

CERTS = "http://127.0.0.1/apis/ghippo.io/v1alpha1/certs"
ALGORITHMS = ["RS256"]
TABLES = {
    "TOKEN-JWKS-PUBLIC-ONLY": "key-set-public-only",
    "TOKEN-JWKS-STRONG-KEYS": "key-set-strong-keys",
    "TOKEN-JWKS-COHERENT": "key-set-coherent",
}
SHAPES = typing.get_args(typing.get_type_hints(Behaviour)["published_key_set"])
# The requirements each shape of the reference's certs answer fails; a shape left out fails none.
FAILS = {
    "private-members": {"TOKEN-JWKS-PUBLIC-ONLY"},
    "symmetric-key": {"TOKEN-JWKS-PUBLIC-ONLY"},
    "private-key-pem": {"TOKEN-JWKS-PUBLIC-ONLY", "TOKEN-JWKS"},
    "legacy-1024-bit-key": {"TOKEN-JWKS-STRONG-KEYS"},
    "exponent-one-key": {"TOKEN-JWKS-STRONG-KEYS"},
    "signing-key-for-encryption": {"TOKEN-JWKS-COHERENT"},
    "signing-key-for-another-alg": {"TOKEN-JWKS-COHERENT"},
    "duplicate-kid": {"TOKEN-JWKS-COHERENT"},
    "zero-padded-modulus": {"TOKEN-JWKS-COHERENT"},
    "null-member": {"TOKEN-JWKS"},
    "keys-by-kid": {"TOKEN-JWKS"},
    "key-without-kty": {"TOKEN-JWKS"},
    "numeric-modulus": {"TOKEN-JWKS", "TOKEN-JWKS-STRONG-KEYS"},
    "numeric-kid": {"TOKEN-JWKS"},
}


def certs_answer(body, status: int = 200, redactor: Redactor | None = None) -> Exchange:
    """An exchange whose answer is `body`: bytes or text as sent, anything else as JSON."""
    if isinstance(body, bytes | str):
        content, media_type = (body.encode() if isinstance(body, str) else body), "text/plain"
    else:
        content, media_type = json.dumps(body).encode(), "application/json"
    request = httpx.Request("GET", CERTS)
    response = httpx.Response(status, content=content, headers={"content-type": media_type}, request=request)
    return Exchange("GET", CERTS, [], None, response, redactor or Redactor())


def bearer() -> str:
    """A token the reference's signing key signed, as the session's bearer is."""
    return issue_token(Behaviour(), user_id="u-1", username="someone", jti="j-1", issued_at=1, expires_at=2)


def judgement(check) -> str | None:
    """None when the check holds, its message when it fails, "skipped: …" when it cannot be judged; any
    other exception is the suite's own crash and propagates."""
    try:
        check()
    except AssertionError as failure:
        return str(failure)
    except pytest.skip.Exception as skipped:
        return f"skipped: {skipped.msg}"
    return None


def every_judgement(body, token: str) -> dict[str, list[str | None]]:
    """TOKEN-JWKS and every row of the key-set tables, judged on one certs answer."""
    published = key_sets.read(certs_answer(body))
    judged = {"TOKEN-JWKS": [judgement(lambda: key_sets.verifies(published, token, ALGORITHMS))]}
    for requirement, table in TABLES.items():
        rows = cases.load(table)
        judged[requirement] = [judgement(lambda row=row: key_sets.holds(published, row, token)) for row in rows]
    return judged


def failed(judged: dict[str, list[str | None]]) -> set[str]:
    return {rid for rid, outcomes in judged.items() if any(o and not o.startswith("skipped") for o in outcomes)}


def reference_answer(shape: str):
    return key_set(Behaviour(published_key_set=shape))


@pytest.mark.parametrize("shape", SHAPES)
def test_reference_shape_fails_exactly_its_requirements(shape):
    assert failed(every_judgement(reference_answer(shape), bearer())) == FAILS.get(shape, set())


SIGNING = reference_answer("public-keys")["keys"][0]
# What real deployments and broken ones have sent instead of a key set, and the requirement that says so.
ODD_ANSWERS = [
    pytest.param("<html>502 Bad Gateway</html>", id="html-page"),
    pytest.param("", id="empty-body"),
    pytest.param("[" * 100_000 + "]" * 100_000, id="nested-too-deep-to-parse"),
    pytest.param([SIGNING], id="a-bare-array"),
    pytest.param(SIGNING, id="a-bare-jwk"),
    pytest.param("just a string", id="a-json-string"),
    pytest.param({"keys": None}, id="keys-null"),
    pytest.param({"keys": "none"}, id="keys-a-string"),
    pytest.param({"keys": [SIGNING, None, 1, "kid", [], True]}, id="members-not-objects"),
    pytest.param({"keys": [{**SIGNING, "kty": None}]}, id="kty-null"),
    pytest.param({"keys": [{**SIGNING, "kty": ["RSA"]}]}, id="kty-a-list"),
    pytest.param({"keys": [{**SIGNING, "n": ["x"], "e": {"v": 3}}]}, id="n-and-e-containers"),
    pytest.param({"keys": [{**SIGNING, "n": "!!!", "e": "=="}]}, id="n-and-e-not-base64url"),
    pytest.param({"keys": [{**SIGNING, "n": "", "e": "AA"}]}, id="n-empty-e-zero"),
    pytest.param({"keys": [{**SIGNING, "alg": ["RS256"], "use": {"sig": 1}}]}, id="alg-and-use-containers"),
    pytest.param({"keys": [{**SIGNING, "key_ops": "verify"}]}, id="key-ops-a-string"),
    pytest.param({"keys": [{**SIGNING, "key_ops": [1, None, "verify", "verify"]}]}, id="key-ops-mixed"),
    pytest.param({"keys": [{**SIGNING, "kid": {"a": 1}}, {**SIGNING, "kid": {"a": 1}, "e": "Aw"}]}, id="kid-objects"),
    pytest.param({"keys": [{**SIGNING, "d": {"nested": ["x" * 12]}, "oth": [{"r": "y" * 12}]}]}, id="odd-private"),
    pytest.param({"keys": [{**SIGNING, "e": "A" * 2000}]}, id="huge-exponent"),
    pytest.param({"keys": [{"kty": "oct"}, {"kty": "EC", "crv": 1}, {"kty": "OKP", "x": None}]}, id="broken-others"),
    pytest.param({"keys": [{**SIGNING, "kty": "EC"}]}, id="token-kid-on-an-ec-key"),
    pytest.param({"keys": []}, id="no-keys"),
]


@pytest.mark.parametrize("body", ODD_ANSWERS)
def test_odd_answer_is_judged_never_crashes(body):
    judged = every_judgement(body, bearer())
    assert judged["TOKEN-JWKS"][0], "an odd key set passed TOKEN-JWKS"
    assert all(isinstance(outcome, str | type(None)) for outcomes in judged.values() for outcome in outcomes)


@pytest.mark.parametrize("status", [404, 500, 503])
def test_error_answer_fails_the_key_set_and_leaves_the_rules_unjudged(status):
    published = key_sets.read(certs_answer({"code": 5, "message": "not found", "details": []}, status))
    assert f"got {status}" in judgement(lambda: key_sets.verifies(published, bearer(), ALGORITHMS))
    strength = cases.load("key-set-strong-keys")[0]
    assert judgement(lambda: key_sets.holds(published, strength)).startswith("skipped: the certs answer")
    assert judgement(lambda: key_sets.holds(published, cases.load("key-set-public-only")[0])) is None


def test_failure_names_the_member_never_its_value():
    redactor = Redactor()
    answer = reference_answer("private-members")
    published = key_sets.read(certs_answer(answer, redactor=redactor))
    message = judgement(lambda: key_sets.holds(published, cases.load("key-set-public-only")[0]))
    assert "carries d, p, q, dp, dq, qi" in message
    private = [answer["keys"][0][name] for name in ("d", "p", "q", "dp", "dq", "qi")]
    assert "[redacted" in message and not any(value[:12] in message for value in private)


def test_private_pem_is_redacted_from_the_evidence():
    redactor = Redactor()
    pem = reference_answer("private-key-pem")
    published = key_sets.read(certs_answer(pem, redactor=redactor))
    message = judgement(lambda: key_sets.holds(published, cases.load("key-set-public-only")[2]))
    assert message.startswith("expected the answer holds no PEM private key")
    assert not any(line[:12] in message for line in pem.splitlines()[1:-1])


def test_forgeries_see_only_keys_a_verifier_loads():
    answer = {"keys": [SIGNING, None, {"kty": "oct", "k": "c2VjcmV0c2VjcmV0"}, {**SIGNING, "n": 5}, {"kty": "AKP"}]}
    assert key_sets.read(certs_answer(answer)).verifiable_keys() == [SIGNING]


def test_a_key_with_private_members_still_verifies_the_bearer():
    """Its public half verifies; that the private half is published is TOKEN-JWKS-PUBLIC-ONLY's to judge."""
    assert tokens.verify_with_jwks(bearer(), reference_answer("private-members"), ALGORITHMS) is None


def test_any_key_under_the_bearers_kid_may_verify_it():
    """A second, different key under the same kid is TOKEN-JWKS-COHERENT's concern, not a verification failure."""
    assert tokens.verify_with_jwks(bearer(), reference_answer("duplicate-kid"), ALGORITHMS) is None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)
MEMBER_NAMES = st.sampled_from(["kty", "kid", "use", "alg", "key_ops", "n", "e", "d", "k", "oth", "x5c", "crv"])


@settings(max_examples=100, deadline=None)
@given(changes=st.dictionaries(MEMBER_NAMES, JSON_VALUES, max_size=4), extra=st.lists(JSON_VALUES, max_size=3))
def test_any_member_values_are_judged_never_crash(changes, extra):
    every_judgement({"keys": [{**SIGNING, **changes}, *extra]}, bearer())
