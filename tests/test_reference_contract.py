"""The reference deployment keeps the documented contract on its own, checked over HTTP with httpx."""

import base64
import hashlib
import hmac
import json
import re
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghippo_reference.behaviour import Behaviour
from ghippo_reference.server import start
from ghippo_reference.signing import issue_token

BASE = "/apis/ghippo.io/v1alpha1"
CREATE_KEY, KEYS = f"{BASE}/current-user/accesstoken", f"{BASE}/current-user/accesstokens"
DAY = 86400
USER_FIELDS = {
    "id",
    "name",
    "email",
    "description",
    "firstname",
    "lastname",
    "source",
    "enabled",
    "createdAt",
    "updatedAt",
    "lastLoginAt",
    "canAuthorize",
}
CURRENT_USER_FIELDS = {
    "uid",
    "username",
    "email",
    "locale",
    "source",
    "phoneNumber",
    "canTransferToMain",
    "hasCertified",
    "isMainAccount",
    "isSubAccount",
    "firstname",
    "lastname",
    "mainAccountId",
    "mainAccountName",
    "mainAccountWorkspace",
    "inviteUrl",
    "inviteCode",
}
# One connection pool for every check: a new httpx client costs more than the request it makes.
CLIENT = httpx.Client()


def call(ref, method, path, token=None, headers=None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else (headers or {})
    return CLIENT.request(method, ref.base_url + path, headers=headers, **kwargs)


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == {"code": code, "message": body["message"], "details": []} and isinstance(body["message"], str)


def bearer(ref, created: dict | None = None) -> str:
    """A bearer for the deployment's credentials, or for a key as its create response showed it."""
    if "access_key" in ref.credentials:
        return created["token"] if created else ref.credentials["access_key"]
    pair = {"ak": created["id"], "sk": created["token"]} if created else ref.credentials
    return call(ref, "GET", f"{BASE}/token", params=pair).json()["token"]


def unverified(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(valid_token: str, alg: str, secret: bytes | None) -> str:
    """The valid token's claims under another header, HMAC-signed with `secret` (unsigned if None)."""
    header, claims = json.dumps({"alg": alg, "typ": "JWT"}), json.dumps(unverified(valid_token))
    signing_input = f"{base64url(header.encode())}.{base64url(claims.encode())}"
    signature = base64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()) if secret else ""
    return f"{signing_input}.{signature}"


@pytest.fixture(scope="module")
def aksk():
    with start(Behaviour()) as ref:
        yield ref


@pytest.fixture(scope="module")
def access():
    with start(Behaviour(flow="access-key")) as ref:
        yield ref


@pytest.fixture(scope="module")
def jwk(aksk) -> dict:
    return call(aksk, "GET", f"{BASE}/certs").json()["keys"][0]


@pytest.mark.parametrize("path", [f"{BASE}/token", "/api/v1/cube/key/token"])
@pytest.mark.parametrize(("cycle", "lifetime"), [(None, 3 * DAY), ("", 3 * DAY), ("7", 7 * DAY), ("3650", 3650 * DAY)])
def test_token_lifetime_and_claims_follow_the_documentation(aksk, jwk, path, cycle, lifetime):
    response = call(aksk, "GET", path, params={**aksk.credentials, **({} if cycle is None else {"cycle": cycle})})
    assert response.status_code == 200 and set(response.json()) == {"token"}
    token = response.json()["token"]
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": jwk["kid"], "typ": "JWT"}
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], issuer="ghippo.io")
    assert claims["exp"] - claims["iat"] == lifetime and abs(claims["iat"] - time.time()) < 5
    uid = call(aksk, "GET", f"{BASE}/current-user", token).json()["uid"]
    assert (claims["sub"], claims["preferred_username"], claims["groups"]) == (uid, "admin", [])
    assert isinstance(claims["jti"], str) and claims["jti"]
    assert "." not in aksk.credentials["sk"]  # the SK is an opaque secret, not a JWT


@pytest.mark.parametrize(
    "params",
    [pytest.param({"cycle": cycle}, id=f"cycle={cycle}") for cycle in ("0", "-1", "abc", "1.5", "1e3", "3651")]
    + [pytest.param({"ak": ""}, id="empty-ak"), pytest.param({"sk": None}, id="no-sk")],
)
def test_token_request_with_bad_parameters_is_invalid(aksk, params):
    query = {name: value for name, value in {**aksk.credentials, **params}.items() if value is not None}
    assert_error(call(aksk, "GET", f"{BASE}/token", params=query), 400, 3)


@pytest.mark.parametrize("pair", ["unknown-ak", "wrong-sk", "crossed-pairs"])
def test_token_request_with_a_bad_pair_is_unauthenticated(aksk, pair):
    other = aksk.add_key("other")
    ak, sk = aksk.credentials["ak"], aksk.credentials["sk"]
    query = {
        "unknown-ak": {"ak": "0f70e597-31a7-4e34-a43c-400deadb4109", "sk": sk},
        "wrong-sk": {"ak": ak, "sk": sk[::-1]},
        "crossed-pairs": {"ak": ak, "sk": other["token"]},
    }[pair]
    response = call(aksk, "GET", f"{BASE}/token", params=query)
    call(aksk, "DELETE", f"{KEYS}/{other['id']}", bearer(aksk))
    assert_error(response, 401, 16)
    assert response.headers["www-authenticate"] == 'Bearer realm="ghippo.io"'


def _signed_by_another_key(token, kid):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return "Bearer " + jwt.encode(unverified(token), other, algorithm="RS256", headers={"kid": kid})


def _expired(token, ref, jwk):
    now, uid = int(time.time()), unverified(token)["sub"]
    expired = issue_token(Behaviour(), user_id=uid, username="admin", jti="x", issued_at=now - 9, expires_at=now)
    return f"Bearer {expired}"


def _public_pem(jwk) -> bytes:
    return jwt.PyJWK(jwk).key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


# Authorization header values (None: no header) built from a valid bearer, the credentials, the JWK.
REFUSED_AUTHORIZATIONS = {
    "missing": lambda token, ref, jwk: None,
    "scheme-alone": lambda token, ref, jwk: "Bearer",
    "basic": lambda token, ref, jwk: "Basic YWRtaW46YWRtaW4=",
    "two-tokens": lambda token, ref, jwk: f"Bearer {token} {token}",
    "garbage": lambda token, ref, jwk: "Bearer not-a-token",
    "two-segments": lambda token, ref, jwk: "Bearer " + token.rsplit(".", 1)[0],
    "four-segments": lambda token, ref, jwk: f"Bearer {token}.{token.split('.')[2]}",
    "alg-none": lambda token, ref, jwk: "Bearer " + forge(token, "none", None),
    "hs256-public-pem": lambda token, ref, jwk: "Bearer " + forge(token, "HS256", _public_pem(jwk)),
    "hs256-jwk-json": lambda token, ref, jwk: "Bearer " + forge(token, "HS256", json.dumps(jwk).encode()),
    "other-key": lambda token, ref, jwk: _signed_by_another_key(token, jwk["kid"]),
    # The kid of the documentation's sample token.
    "unknown-kid": lambda token, ref, jwk: _signed_by_another_key(token, "DJV9ALtA-vx2kPP-SBuFKGBIg5rp_vLbAUj3e7EPrZs"),
    "expired": _expired,
    "sk": lambda token, ref, jwk: f"Bearer {ref.credentials['sk']}",
    "ak": lambda token, ref, jwk: f"Bearer {ref.credentials['ak']}",
    "ak-colon-sk": lambda token, ref, jwk: f"Bearer {ref.credentials['ak']}:{ref.credentials['sk']}",
}


@pytest.mark.parametrize("case", REFUSED_AUTHORIZATIONS)
def test_refused_bearer_gets_401_with_challenge_and_error_body(aksk, jwk, case):
    authorization = REFUSED_AUTHORIZATIONS[case](bearer(aksk), aksk, jwk)
    response = call(aksk, "GET", f"{BASE}/users", headers={"Authorization": authorization} if authorization else {})
    assert_error(response, 401, 16)
    assert response.headers["www-authenticate"].startswith('Bearer realm="ghippo.io"')
    presented = (authorization or "").partition(" ")[2]
    assert not presented or all(presented not in text for text in (response.text, str(response.headers)))


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_scheme_is_case_insensitive(aksk, scheme):
    assert call(aksk, "GET", f"{BASE}/users", headers={"Authorization": f"{scheme} {bearer(aksk)}"}).status_code == 200


def test_users_pages_walk_all_137_users_once_in_a_stable_order(aksk):
    token, seen = bearer(aksk), []
    for page in range(1, 16):
        body = call(aksk, "GET", f"{BASE}/users", token, params={"page": page, "pageSize": 10}).json()
        assert body["pagination"] == {"page": page, "pageSize": 10, "total": 137}
        assert all(set(user) == USER_FIELDS and user["createdAt"].isdecimal() for user in body["items"])
        seen += body["items"]
    assert len(seen) == 137 and len({user["id"] for user in seen}) == 137  # page 15 was empty
    assert seen == sorted(seen, key=lambda user: (int(user["createdAt"]), user["id"]))
    assert call(aksk, "GET", f"{BASE}/users", token, params={"pageSize": 1000}).json()["items"] == seen
    assert {"0", ""} <= {user["updatedAt"] for user in seen} | {user["lastLoginAt"] for user in seen}


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "x"},
        {"page": "1001"},
        {"page": "1.5"},
        {"pageSize": "0"},
        {"pageSize": "-1"},
        {"pageSize": "1001"},
        {"pageSize": "x"},
    ],
    ids=lambda params: "&".join(f"{name}={value}" for name, value in params.items()),
)
def test_users_with_bad_paging_is_invalid(aksk, params):
    assert_error(call(aksk, "GET", f"{BASE}/users", bearer(aksk), params=params), 400, 3)


@pytest.mark.parametrize(("search", "expected"), [("ADMIN", {"admin"}), ("zz-nobody", set())])
def test_users_search_is_a_case_insensitive_substring(aksk, search, expected):
    body = call(aksk, "GET", f"{BASE}/users", bearer(aksk), params={"search": search}).json()
    assert {user["name"] for user in body["items"]} == expected and body["pagination"]["total"] == len(expected)


def test_current_user_has_every_spec_field(aksk):
    body = call(aksk, "GET", f"{BASE}/current-user", bearer(aksk)).json()
    assert set(body) == CURRENT_USER_FIELDS and body["username"] == "admin"


@pytest.mark.parametrize("flow", ["aksk", "access-key"])
def test_key_create_list_limit_delete_and_revoke(flow):
    with start(Behaviour(flow=flow)) as ref:
        token = bearer(ref)
        created = call(ref, "POST", CREATE_KEY, token, json={"name": "ci"}).json()
        assert set(created) == {"id", "token"}
        if flow == "access-key":  # the access key is itself a token naming its key
            assert unverified(created["token"])["jti"] == created["id"]
        assert_error(call(ref, "POST", CREATE_KEY, token, json={"name": "third"}), 400, 9)
        listed = call(ref, "GET", KEYS, token)
        assert created["token"] not in listed.text and token not in listed.text
        key_fields = {"id", "name", "createdAt", "updatedAt", "expiredAt"}
        assert [set(item) for item in listed.json()["items"]] == [key_fields, key_fields]
        assert [item["id"] for item in listed.json()["items"]] == ref.admin_key_ids()
        assert call(ref, "GET", f"{BASE}/current-user", bearer(ref, created)).status_code == 200
        assert call(ref, "DELETE", f"{KEYS}/{created['id']}", token).json() == {}
        assert_error(call(ref, "DELETE", f"{KEYS}/{created['id']}", token), 404, 5)
        if flow == "aksk":  # the pair no longer gets a token
            revoked = call(ref, "GET", f"{BASE}/token", params={"ak": created["id"], "sk": created["token"]})
        else:  # the key no longer authenticates
            revoked = call(ref, "GET", f"{BASE}/current-user", created["token"])
        assert_error(revoked, 401, 16)
        assert len(ref.admin_key_ids()) == 1


def test_access_key_stops_working_when_it_expires(access):
    expires_at = int(time.time()) + 2
    created = call(access, "POST", CREATE_KEY, bearer(access), json={"name": "short", "expiredAt": str(expires_at)})
    try:
        assert call(access, "GET", f"{BASE}/current-user", created.json()["token"]).status_code == 200
        time.sleep(max(0.0, expires_at - time.time()) + 0.05)
        assert_error(call(access, "GET", f"{BASE}/current-user", created.json()["token"]), 401, 16)
    finally:
        call(access, "DELETE", f"{KEYS}/{created.json()['id']}", bearer(access))


BAD_KEY_BODIES = {
    "no-name": {},
    "empty-name": {"name": ""},
    "unparsable": {"name": "x", "expiredAt": "tomorrow"},
    "past-epoch": {"name": "x", "expiredAt": "1000"},
    "number": {"name": "x", "expiredAt": 4102444800},
    "past-rfc3339": {"name": "x", "expiredAt": "2020-01-01T00:00:00Z"},
}


@pytest.mark.parametrize("body", BAD_KEY_BODIES.values(), ids=BAD_KEY_BODIES.keys())
def test_key_creation_with_a_bad_body_is_invalid(access, body):
    assert_error(call(access, "POST", CREATE_KEY, bearer(access), json=body), 400, 3)


@pytest.mark.parametrize("expired_at", ["4102444800", "2100-01-01T00:00:00Z"])
def test_key_expiry_is_listed_in_epoch_seconds(access, expired_at):
    token = bearer(access)
    created = call(access, "POST", CREATE_KEY, token, json={"name": "x", "expiredAt": expired_at}).json()
    items = call(access, "GET", KEYS, token).json()["items"]
    call(access, "DELETE", f"{KEYS}/{created['id']}", token)
    assert [item["expiredAt"] for item in items if item["id"] == created["id"]] == ["4102444800"]


def test_unknown_paths_and_the_token_path_of_the_access_key_flow_are_not_found(aksk, access):
    assert_error(call(aksk, "GET", "/apis/ghippo.io/v1alpha1/nothing"), 404, 5)
    assert_error(call(aksk, "POST", f"{BASE}/users", bearer(aksk)), 404, 5)
    assert_error(call(access, "GET", f"{BASE}/token", params={"ak": "a", "sk": "b"}), 404, 5)


def _alg_none_is_accepted(ref):
    assert call(ref, "GET", f"{BASE}/current-user", forge(bearer(ref), "none", None)).status_code == 200


def _three_keys_are_allowed(ref):
    statuses = [call(ref, "POST", CREATE_KEY, bearer(ref), json={"name": name}).status_code for name in "abc"]
    assert statuses == [200, 200, 400]


def _errors_are_plain_text(ref):
    response = call(ref, "GET", f"{BASE}/users")
    assert (response.status_code, response.text) == (401, "unauthenticated")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def _iat_is_shifted(ref):
    claims = unverified(bearer(ref))
    assert abs(claims["iat"] - time.time() - 3600) < 5 and claims["exp"] - claims["iat"] == 3 * DAY


def _page_zero_is_the_first_page(ref):
    body = call(ref, "GET", f"{BASE}/users", bearer(ref), params={"page": 0}).json()
    assert body["pagination"]["page"] == 1 and len(body["items"]) == 10


def _one_user(ref):
    assert call(ref, "GET", f"{BASE}/users", bearer(ref)).json()["pagination"]["total"] == 1


def _twenty_users_per_page_by_default(ref):
    body = call(ref, "GET", f"{BASE}/users", bearer(ref)).json()
    assert body["pagination"]["pageSize"] == 20 and len(body["items"]) == 20


def _error_info_in_details(ref):
    details = call(ref, "GET", f"{BASE}/users").json()["details"]
    assert [detail["@type"] for detail in details] == ["type.googleapis.com/google.rpc.ErrorInfo"]


def _challenge(ref) -> str:
    return call(ref, "GET", f"{BASE}/users", "not-a-token").headers["www-authenticate"]


def _challenge_has_a_description(ref):
    assert _challenge(ref).startswith('Bearer realm="ghippo.io", error="invalid_token", error_description="')


def _basic_challenge_comes_first(ref):
    assert _challenge(ref).startswith('Basic realm="ghippo.io", Bearer realm="ghippo.io"')


def _kid_is_a_uuid_of_the_key_set(ref):
    token = bearer(ref)
    kid = jwt.get_unverified_header(token)["kid"]
    assert call(ref, "GET", f"{BASE}/certs").json()["keys"][0]["kid"] == kid == str(uuid.UUID(kid))
    assert call(ref, "GET", f"{BASE}/current-user", token).status_code == 200


def _encryption_key_comes_first(ref):
    keys = call(ref, "GET", f"{BASE}/certs").json()["keys"]
    assert [(key["use"], key["alg"]) for key in keys] == [("enc", "RSA-OAEP"), ("sig", "RS256")]
    assert jwt.get_unverified_header(bearer(ref))["kid"] == keys[1]["kid"] != keys[0]["kid"]


def _tokens_carry_extra_claims(ref):
    token = bearer(ref)
    assert {"aud", "azp", "nbf", "typ"} <= set(unverified(token))
    assert call(ref, "GET", f"{BASE}/current-user", token).status_code == 200


def _numeric_dates_are_fractional(ref):
    token = bearer(ref)
    claims = unverified(token)
    assert claims["exp"] % 1 == claims["iat"] % 1 == 0.25
    assert call(ref, "GET", f"{BASE}/current-user", token).status_code == 200


def _bodies_are_gzipped(ref):
    assert call(ref, "GET", f"{BASE}/certs").headers["content-encoding"] == "gzip"


def _connections_are_closed(ref):
    assert call(ref, "GET", f"{BASE}/certs").headers["connection"] == "close"


def _json_is_indented_ascii(ref):
    text = call(ref, "GET", f"{BASE}/users", bearer(ref), params={"pageSize": 1}).text
    assert text.startswith('{\n  "items"') and "\\u5e73\\u53f0" in text and text.isascii()


def _newest_key_is_listed_first(ref):
    ref.add_key("newer")
    listed = call(ref, "GET", KEYS, bearer(ref)).json()["items"]
    assert [item["id"] for item in listed] == ref.admin_key_ids()[::-1]


def _key_times_are_rfc3339_at_plus_eight(ref):
    created_at = call(ref, "GET", KEYS, bearer(ref)).json()["items"][0]["createdAt"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+08:00", created_at)


def _key_limit_is_resource_exhausted(ref):
    ref.add_key("second")
    assert_error(call(ref, "POST", CREATE_KEY, bearer(ref), json={"name": "third"}), 429, 8)


def _cycle_is_granted_up_to_seven_days(ref):
    assert call(ref, "GET", f"{BASE}/token", params={**ref.credentials, "cycle": "7"}).status_code == 200
    assert_error(call(ref, "GET", f"{BASE}/token", params={**ref.credentials, "cycle": "8"}), 400, 3)


def _empty_signature_is_trusted(ref):
    signing_input = bearer(ref).rpartition(".")[0]
    assert call(ref, "GET", f"{BASE}/current-user", f"{signing_input}.").status_code == 200


def _error_details_are_omitted(ref):
    assert set(call(ref, "GET", f"{BASE}/users").json()) == {"code", "message"}


def _last_user_is_on_no_page(ref):
    body = call(ref, "GET", f"{BASE}/users", bearer(ref), params={"pageSize": 1000}).json()
    assert len(body["items"]) == body["pagination"]["total"] - 1


def _pages_are_capped_at_fifty(ref):
    body = call(ref, "GET", f"{BASE}/users", bearer(ref), params={"pageSize": 100}).json()
    assert len(body["items"]) == 50 and body["pagination"]["pageSize"] == 100


def _delete_shows_the_secret(ref):
    token = bearer(ref)
    created = call(ref, "POST", CREATE_KEY, token, json={"name": "x"}).json()
    assert call(ref, "DELETE", f"{KEYS}/{created['id']}", token).json()["token"] == created["token"]


def _credentials_are_an_ordinary_users(ref):
    token = bearer(ref)
    named = call(ref, "GET", f"{BASE}/current-user", token).json()
    assert named["uid"] == unverified(token)["sub"] and named["username"] != "admin"


def _subject_is_the_username(ref):
    token = bearer(ref)
    assert unverified(token)["sub"] == "admin" == call(ref, "GET", f"{BASE}/current-user", token).json()["username"]


def _later_keys_act_as_the_admin(ref):
    token = bearer(ref)
    created = call(ref, "POST", CREATE_KEY, token, json={"name": "second"}).json()
    first, second = (
        call(ref, "GET", f"{BASE}/current-user", t).json()["username"] for t in (token, bearer(ref, created))
    )
    assert first != "admin" == second


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        pytest.param({"accept_alg_none": True}, _alg_none_is_accepted, id="accept_alg_none"),
        pytest.param({"trust_empty_signature": True}, _empty_signature_is_trusted, id="trust_empty_signature"),
        pytest.param({"omit_empty_error_details": True}, _error_details_are_omitted, id="omit_empty_error_details"),
        pytest.param({"last_user_unlisted": True}, _last_user_is_on_no_page, id="last_user_unlisted"),
        pytest.param({"silent_page_size_cap": 50}, _pages_are_capped_at_fifty, id="silent_page_size_cap=50"),
        pytest.param({"secret_in_delete_response": True}, _delete_shows_the_secret, id="secret_in_delete_response"),
        pytest.param({"key_limit": 3}, _three_keys_are_allowed, id="key_limit=3"),
        pytest.param({"plain_text_errors": True}, _errors_are_plain_text, id="plain_text_errors"),
        pytest.param({"iat_offset_s": 3600}, _iat_is_shifted, id="iat_offset_s"),
        pytest.param({"page_zero_as_first": True}, _page_zero_is_the_first_page, id="page_zero_as_first"),
        pytest.param({"user_count": 1}, _one_user, id="user_count=1"),
        pytest.param({"default_page_size": 20}, _twenty_users_per_page_by_default, id="default_page_size=20"),
        pytest.param({"error_details": True}, _error_info_in_details, id="error_details"),
        pytest.param({"challenge_style": "described"}, _challenge_has_a_description, id="challenge_style=described"),
        pytest.param(
            {"challenge_style": "basic-first"}, _basic_challenge_comes_first, id="challenge_style=basic-first"
        ),
        pytest.param({"kid_style": "uuid"}, _kid_is_a_uuid_of_the_key_set, id="kid_style=uuid"),
        pytest.param({"extra_token_claims": True}, _tokens_carry_extra_claims, id="extra_token_claims"),
        pytest.param({"fractional_numeric_dates": True}, _numeric_dates_are_fractional, id="fractional_numeric_dates"),
        pytest.param({"encryption_key_listed": True}, _encryption_key_comes_first, id="encryption_key_listed"),
        pytest.param({"gzip_responses": True}, _bodies_are_gzipped, id="gzip_responses"),
        pytest.param({"connection_close": True}, _connections_are_closed, id="connection_close"),
        pytest.param({"json_style": "pretty-ascii"}, _json_is_indented_ascii, id="json_style=pretty-ascii"),
        pytest.param({"key_list_order": "newest-first"}, _newest_key_is_listed_first, id="key_list_order=newest-first"),
        pytest.param(
            {"key_time_style": "rfc3339-offset"},
            _key_times_are_rfc3339_at_plus_eight,
            id="key_time_style=rfc3339-offset",
        ),
        pytest.param(
            {"key_limit_refusal": "resource-exhausted"},
            _key_limit_is_resource_exhausted,
            id="key_limit_refusal=resource-exhausted",
        ),
        pytest.param({"cycle_limit_days": 7}, _cycle_is_granted_up_to_seven_days, id="cycle_limit_days=7"),
        pytest.param(
            {"credentials_owner": "ordinary-user"}, _credentials_are_an_ordinary_users, id="credentials_owner=ordinary"
        ),
        pytest.param({"token_subject": "username"}, _subject_is_the_username, id="token_subject=username"),
        pytest.param(
            {"credentials_owner": "ordinary-user", "keys_act_as": "admin-after-first-key"},
            _later_keys_act_as_the_admin,
            id="keys_act_as=admin-after-first-key",
        ),
    ],
)
def test_behaviour_knob_changes_what_it_names(overrides, check):
    with start(Behaviour.from_overrides(overrides)) as ref:
        check(ref)


def test_unknown_behaviour_field_is_named():
    with pytest.raises(ValueError, match="no_such_knob"):
        Behaviour.from_overrides({"no_such_knob": True})


def test_server_starts_fast_counts_requests_and_stops_twice():
    began = time.perf_counter()
    ref = start(Behaviour(), latency_s=0.05, preexisting_keys=2)
    assert time.perf_counter() - began < 0.3 and len(ref.admin_key_ids()) == 2
    before, began = ref.request_count, time.perf_counter()
    assert call(ref, "GET", f"{BASE}/certs").status_code == 200 and time.perf_counter() - began >= 0.05
    assert ref.request_count == before + 1 and "date" in call(ref, "GET", f"{BASE}/certs").headers
    ref.stop()
    ref.stop()
