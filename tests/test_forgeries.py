"""The bearer-attack catalogue's forging helpers make what they say, and every requirement the catalogue
checks has a defect variant that the catalogue kills."""

import base64
import hashlib
import hmac

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghippo_conformance import json_schemas, paths
from ghippo_conformance.checks import attacks, batch, cases, forgeries, tokens
from ghippo_conformance.deployment import profile as profiles
from ghippo_conformance.deployment.http import Api, Exchange
from ghippo_conformance.deployment.keys import KeyLedger
from ghippo_conformance.deployment.redact import Redactor
from ghippo_conformance.verdict import catalogue
from ghippo_reference.behaviour import Behaviour
from ghippo_reference.server import start
from selftest import variants

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = {**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "deployment-kid"}
JWKS = {"keys": [JWK]}
BEARER = jwt.encode({"sub": "u-1", "exp": 4102444800}, KEY, algorithm="RS256", headers={"kid": "deployment-kid"})
CATALOGUE_TABLES = {*attacks.FORGERY_TABLES, "single-credential", "oversized"}


def table_requirement(table: str) -> str:
    """The requirement a catalogue table's rows check: named in the table's leading comment."""
    first = (paths.CASES / f"{table}.toml").read_text().splitlines()[0]
    return first.removeprefix("# ").split(":")[0].split(",")[0]


def test_every_catalogue_requirement_is_killed_by_a_variant():
    killed = {rid for variant in variants.load() if not variant.tolerance for rid in variant.breaks}
    named = {table_requirement(table) for table in CATALOGUE_TABLES} | {"AUTH-CHALLENGE-ERROR"}
    assert named <= set(catalogue.load().requirements)
    assert not named - killed, f"no defect variant kills {sorted(named - killed)}"


@pytest.mark.parametrize("table", sorted(attacks.FORGERY_TABLES))
def test_every_forgery_row_builds_tokens_that_keep_the_claims(table):
    for case in cases.load(table):
        forged = forgeries.forge(case["forge"], BEARER, JWKS)
        assert forged, case["id"]
        changed = case["forge"].get("claim")  # a claim-changed row changes that one claim, no other
        for _, token in forged:
            differ = {
                k
                for k in {*tokens.claims(token), *tokens.claims(BEARER)}
                if tokens.claims(token).get(k) != tokens.claims(BEARER).get(k)
            }
            assert differ == ({changed} if changed else set()), case["id"]


def test_every_listed_kid_gets_its_zero_signature():
    two_keys = {"keys": [JWK, {"kty": "EC", "kid": "ec-kid", "crv": "P-256", "x": "", "y": ""}]}
    forged = forgeries.forge({"recipe": "zero-ecdsa", "alg": "ES256", "kid": "every-listed"}, BEARER, two_keys)
    assert [tokens.header(token)["kid"] for _, token in forged] == ["deployment-kid", "ec-kid"]
    assert all(tokens.signature(token) == bytes(64) for _, token in forged)


MODULUS = KEY.public_key().public_numbers().n


# The key is generated per process, so the cases carry offsets from the modulus, not its value:
# xdist workers must collect the same test ids.
@pytest.mark.parametrize(("edge", "expected"), [("zero", 0), ("one", 1), ("n-minus-one", -1), ("n", 0)])
def test_rsa_edge_signatures_are_the_named_integers(edge, expected):
    expected += MODULUS if edge.startswith("n") else 0
    signature = tokens.rsa_edge_signature(BEARER, MODULUS, edge)
    assert len(signature) == 256 and int.from_bytes(signature, "big") == expected


def test_signature_plus_n_and_zero_prefixed_reduce_to_the_real_signature():
    modulus = KEY.public_key().public_numbers().n
    own = int.from_bytes(tokens.signature(BEARER), "big")
    assert int.from_bytes(tokens.rsa_edge_signature(BEARER, modulus, "s-plus-n"), "big") % modulus == own
    prefixed = tokens.rsa_edge_signature(BEARER, modulus, "zero-prefixed")
    assert prefixed[0] == 0 and int.from_bytes(prefixed, "big") == own


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_signed_is_a_mac_under_the_secret(alg):
    token = tokens.hmac_signed(BEARER, b"", alg)
    signing_input, _, _ = token.rpartition(".")
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    assert tokens.signature(token) == hmac.new(b"", signing_input.encode(), digest).digest()
    assert tokens.header(token)["alg"] == alg


def test_public_key_encodings_differ_from_each_other():
    encodings = tokens.public_key_encodings(JWK)
    assert len(set(encodings.values())) == len(encodings) == 9
    assert encodings["spki-pem"].endswith(b"\n") and not encodings["spki-pem-no-newline"].endswith(b"\n")


def test_embedded_jwk_token_verifies_with_the_key_it_carries():
    [(_, token)] = forgeries.forge({"recipe": "embedded-jwk"}, BEARER, JWKS)
    embedded = jwt.PyJWK(tokens.header(token)["jwk"]).key
    assert jwt.decode(token, embedded, algorithms=["RS256"])["sub"] == "u-1"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, KEY.public_key(), algorithms=["RS256"])


def test_kid_absent_is_left_out_and_a_long_kid_is_repeated():
    [(_, absent)] = forgeries.forge({"recipe": "signed", "alg": "RS256", "kid": "absent"}, BEARER, JWKS)
    assert "kid" not in tokens.header(absent)
    [(_, long)] = forgeries.forge({"recipe": "signed", "alg": "RS256", "kid": "A", "kid_repeat": 50}, BEARER, JWKS)
    assert tokens.header(long)["kid"] == "A" * 50


def test_an_rs256_sql_kid_selects_the_public_key_of_the_key_that_signed_it():
    spec = {"recipe": "signed", "alg": "RS256", "kid": f"x' UNION SELECT '{forgeries.ATTACKER_PUBLIC_PEM}' --"}
    [(label, token)] = forgeries.forge(spec, BEARER, JWKS)
    selected = tokens.header(token)["kid"].split("'")[2]
    public_key = serialization.load_pem_public_key(selected.encode())
    assert jwt.decode(token, public_key, algorithms=["RS256"])["sub"] == "u-1"
    assert forgeries.ATTACKER_PUBLIC_PEM in label and "BEGIN PUBLIC KEY" not in label


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        pytest.param({"kid_key_source": "sql-lookup", "kid_lookup_key": "rs256-public-key"}, 200, id="pasted-into-sql"),
        pytest.param({"kid_key_source": "sql-lookup"}, 401, id="sql-lookup-of-hmac-secrets-only"),
        pytest.param({"kid_key_source": "rotated-key-set"}, 401, id="rotated-key-set"),
    ],
)
def test_a_deployment_pinned_to_rs256_falls_for_the_sql_kid_only_when_it_pastes_it(overrides, status):
    profile = profiles.load("dce5-aksk")
    [case] = [case for case in cases.load("kid-injection") if case["id"] == "sql-union-rs256"]
    with start(Behaviour.from_overrides(overrides)) as reference, httpx.Client() as client:
        bearer = client.get(reference.base_url + profile.paths.token, params=reference.credentials).json()["token"]
        [(_, token)] = forgeries.forge(case["forge"], bearer, None)
        answer = client.get(reference.base_url + profile.paths.users, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == status


def test_a_rotated_key_set_lists_the_previous_key_and_still_verifies_its_tokens():
    profile = profiles.load("dce5-aksk")
    with start(Behaviour(kid_key_source="rotated-key-set")) as reference, httpx.Client() as client:
        bearer = client.get(reference.base_url + profile.paths.token, params=reference.credentials).json()["token"]
        listed = client.get(reference.base_url + profile.paths.certs).json()["keys"]
        assert len(listed) == 2 and listed[1]["kid"] == tokens.header(bearer)["kid"]
        answer = client.get(reference.base_url + profile.paths.users, headers={"Authorization": f"Bearer {bearer}"})
        assert answer.status_code == 200


def test_rsa_edges_cannot_be_forged_without_an_rsa_key():
    with pytest.raises(forgeries.CannotForge):
        forgeries.forge({"recipe": "rsa-edge", "edge": "one"}, BEARER, None)


def test_unsigned_keeps_the_signature_when_asked():
    [(_, token)] = forgeries.forge({"recipe": "unsigned", "alg": "none", "keep_signature": True}, BEARER, JWKS)
    assert tokens.header(token)["alg"] == "none"
    assert token.split(".")[2] == BEARER.split(".")[2]


def test_oversized_requests_are_spread_apart():
    requests = [batch.Request(("t", str(n), ""), "/") for n in range(30)]
    apart = [batch.Request(("oversized", str(n), ""), "/") for n in range(3)]
    spread = attacks._spread(requests, apart)
    positions = [spread.index(request) for request in apart]
    assert len(spread) == 33
    assert all(later - earlier > 5 for earlier, later in zip(positions, positions[1:], strict=False))


def test_x5c_is_standard_base64_der():
    [certificate] = tokens.attacker_certificate_chain()
    assert base64.b64decode(certificate, validate=True)[:1] == b"\x30"  # a DER SEQUENCE


def test_a_closed_connection_is_not_a_timeout():
    request = batch.Request(("oversized", "64-kib", ""), "/")
    closed = batch.Outcome(request, None, httpx.RemoteProtocolError("peer closed connection"))
    timed_out = batch.Outcome(request, None, httpx.ReadTimeout("no answer"))
    assert attacks.closed_connection(closed) and not attacks.closed_connection(timed_out)


def test_the_forge_schema_names_exactly_the_recipes():
    recipes = json_schemas.validator("forgery").schema["properties"]["recipe"]["enum"]
    assert sorted(recipes) == sorted(forgeries.RECIPES)


# The form-body row: a deployment that takes its bearer creates a key.
[FORM_BODY] = [case for case in cases.load("single-credential") if case["access_token"] == "form-body"]


def test_rows_that_would_create_a_key_stay_out_of_the_batch():
    batched = {request.key[1] for request in attacks._single_credential_requests("/users", BEARER)}
    assert FORM_BODY["key_slots"] and FORM_BODY["id"] not in batched
    assert batched == {case["id"] for case in cases.load("single-credential")} - {FORM_BODY["id"]}


def test_a_bearer_in_a_form_is_redacted_in_the_evidence():
    redactor = Redactor()
    redactor.add(BEARER)
    request = httpx.Request("POST", "http://deployment.invalid/keys")
    form = {"access_token": BEARER, "name": "conformance-run-form-body-bearer"}
    evidence = Exchange("POST", str(request.url), [], None, httpx.Response(401, request=request), redactor, form)
    shown = evidence.evidence()
    assert 'form={"access_token": "eyJh…[redacted' in shown and "conformance-run-form-body-bearer" in shown, shown
    assert BEARER.split(".")[2] not in shown


@pytest.mark.parametrize(("overrides", "status"), [({}, 401), ({"token_from_form": True}, 200)])
def test_a_key_the_form_bearer_created_is_deleted_at_once(overrides, status):
    profile = profiles.load("dce5-aksk")
    with start(Behaviour.from_overrides(overrides)) as reference:
        api = Api(reference.base_url, Redactor())
        held = reference.admin_key_ids()
        bearer = api.get(profile.paths.token, params=reference.credentials).json()["token"]
        ledger = KeyLedger(api, profile, bearer, "self-test")
        exchange = attacks.create_with_bearer_in_form(api, profile, ledger, bearer, FORM_BODY)
        assert exchange.status == status, exchange.evidence()
        assert reference.admin_key_ids() == held and ledger.created == {}
        api.close()


def test_the_reference_can_close_the_connection_on_an_oversized_header():
    users = profiles.load("dce5-aksk").paths.users
    with start(Behaviour(oversized_authorization="closed")) as reference, httpx.Client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(reference.base_url + users, headers={"Authorization": "Bearer " + "A" * 8 * 1024})
        # Only that request goes unanswered: a header of the usual size still gets its refusal.
        assert client.get(reference.base_url + users, headers={"Authorization": "Bearer A"}).status_code == 401
