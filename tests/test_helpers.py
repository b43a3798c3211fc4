"""Unit tests of the suite's pure helpers, fast where the kill matrix covers them only in minutes."""

import base64
import itertools
import json

import httpx
import pytest
from _pytest._io.saferepr import saferepr

from ghippo_conformance.checks.challenges import bearer_challenge_params, offers_bearer
from ghippo_conformance.checks.expect import statuses_in_words
from ghippo_conformance.checks.pages import walk
from ghippo_conformance.checks.secrets import near_miss
from ghippo_conformance.checks.waiting import until_it_holds
from ghippo_conformance.deployment import profile as profiles
from ghippo_conformance.deployment.http import Exchange
from ghippo_conformance.deployment.redact import Redactor, mask
from ghippo_reference.behaviour import Behaviour

# --- WWW-Authenticate ---------------------------------------------------------------------------

# (value, the Bearer challenge's params, or None when the value offers no Bearer challenge)
CHALLENGES = [
    pytest.param("Bearer", {}, id="bare-scheme"),
    pytest.param('bearer realm="x"', {"realm": "x"}, id="lowercase-scheme"),
    pytest.param(
        'BEARER Realm="x", ERROR=invalid_token',
        {"realm": "x", "error": "invalid_token"},
        id="uppercase-scheme-and-names-token-value",
    ),
    pytest.param(
        'Basic realm="a", Bearer realm="b", error="invalid_token"',
        {"realm": "b", "error": "invalid_token"},
        id="bearer-after-basic",
    ),
    pytest.param('Bearer realm="b", Basic realm="a"', {"realm": "b"}, id="basic-after-bearer-keeps-its-params"),
    pytest.param('Digest realm="a", qop="auth", Bearer', {}, id="bare-bearer-last"),
    pytest.param('Bearer realm="a, Bearer b"', {"realm": "a, Bearer b"}, id="comma-inside-quotes"),
    pytest.param('Basic realm="Bearer"', None, id="bearer-only-inside-quotes"),
    pytest.param('Basic realm="x, Bearer y"', None, id="bearer-after-comma-inside-quotes"),
    pytest.param("Newbearer x=1", None, id="scheme-ending-in-bearer"),
    pytest.param("Bearerx", None, id="scheme-starting-with-bearer"),
    pytest.param("Basic bearer=1", None, id="bearer-as-param-name"),
    pytest.param(
        'Bearer error="invalid_token", error_description="the \\"token\\" expired"',
        {"error": "invalid_token", "error_description": 'the "token" expired'},
        id="escaped-quotes",
    ),
    pytest.param('Bearer realm="back\\\\slash"', {"realm": "back\\slash"}, id="escaped-backslash"),
    pytest.param('Bearer realm=""', {"realm": ""}, id="empty-quoted-value"),
    pytest.param('Bearer realm = "x" ,, error=e', {"realm": "x", "error": "e"}, id="spaces-and-empty-elements"),
    pytest.param('Bearer,realm="x"', {"realm": "x"}, id="first-param-after-comma"),
    pytest.param("", None, id="empty"),
    pytest.param("Bearer abc==", {}, id="token68"),
    pytest.param('Bearer realm="first", Bearer realm="second"', {"realm": "first"}, id="first-of-two-bearers"),
]


@pytest.mark.parametrize(("value", "params"), CHALLENGES)
def test_bearer_challenge_params_are_those_of_the_bearer_challenge(value, params):
    assert bearer_challenge_params(value) == params


@pytest.mark.parametrize(("value", "params"), CHALLENGES)
def test_offers_bearer_exactly_when_there_are_bearer_params(value, params):
    assert offers_bearer(value) is (params is not None)


# --- the page walk ------------------------------------------------------------------------------

USERS = [f"user-{number}" for number in range(7)]


def served(users: list[str], total: int, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"items": [{"id": user} for user in users], "pagination": {"total": total}})


def conforming(page: int, page_size: int, users: list[str] = USERS) -> httpx.Response:
    start = (page - 1) * page_size  # the profile's first page is 1
    return served(users[start : start + page_size], len(users))


class FakeApi:
    """Answers the users list as `answer(page, page_size)` says, recording the pages asked."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.pages_asked: list[int] = []

    def get(self, path: str, *, params: dict[str, int], bearer: str) -> Exchange:
        self.pages_asked.append(params["page"])
        response = self.answer(params["page"], params["pageSize"])
        return Exchange("GET", path, [], None, response, Redactor())


@pytest.fixture(scope="module")
def profile():
    return profiles.load("dce5-aksk")


def test_walk_of_a_multiple_of_the_page_size_ends_on_an_empty_page(profile):
    users = USERS[:6]
    api = FakeApi(lambda page, size: conforming(page, size, users))
    result = walk(api, profile, "token", page_size=3)
    assert (result.complete, result.ids, api.pages_asked) == (True, users, [1, 2, 3])
    assert result.ended == "page 3 answered 200 with no users"


def test_walk_ends_at_a_short_last_page(profile):
    api = FakeApi(conforming)
    result = walk(api, profile, "token", page_size=3)
    assert (result.complete, result.ids, api.pages_asked) == (True, USERS, [1, 2, 3])
    assert result.ended == "page 3 was the last (1 users)"


def test_walk_of_a_deployment_that_ignores_page_ends_without_looping(profile):
    api = FakeApi(lambda page, size: conforming(1, size))
    result = walk(api, profile, "token", page_size=3)
    assert (result.complete, api.pages_asked) == (True, [1, 2])
    assert result.ended == "page 2 held only users already seen"


def test_walk_of_a_deployment_that_ignores_page_size_is_walked_to_its_end(profile):
    api = FakeApi(lambda page, size: served(USERS, len(USERS)))
    result = walk(api, profile, "token", page_size=3)
    assert result.complete
    assert set(result.ids) == set(USERS)


def test_walk_continues_past_a_short_page_while_fewer_than_total_users_were_seen(profile):
    api = FakeApi(lambda page, size: conforming(page, min(size, 2)))  # pages silently capped at 2 users
    result = walk(api, profile, "token", page_size=3)
    assert (result.complete, result.ids, api.pages_asked) == (True, USERS, [1, 2, 3, 4])
    assert result.ended == "page 4 was the last (1 users)"


def test_walk_with_an_error_mid_walk_is_incomplete(profile):
    api = FakeApi(lambda page, size: served([], 0, status=500) if page == 2 else conforming(page, size))
    result = walk(api, profile, "token", page_size=3)
    assert (result.complete, result.ids) == (False, USERS[:3])
    assert result.ended == "page 2 answered 500 with no users"


def test_walk_that_runs_out_of_page_budget_is_incomplete_and_says_so():
    small_budget = profiles.load("dce5-aksk", ["pagination.page_budget=3"])
    many_users = [f"user-{number}" for number in range(100)]
    api = FakeApi(lambda page, size: conforming(page, size, many_users))
    result = walk(api, small_budget, "token", page_size=3)
    assert (result.complete, api.pages_asked) == (False, [1, 2, 3])
    assert result.ended == "the page budget of 3 pages ran out (pagination.page_budget)"


# --- waiting ------------------------------------------------------------------------------------


def answers(*results: bool):
    """A check that gives `results` in turn, then fails for ever."""
    remaining = itertools.chain(results, itertools.repeat(False))
    return lambda: next(remaining)


def test_until_it_holds_holds_after_the_consecutive_checks():
    settled = until_it_holds(lambda: True, consecutive=3, within_s=5, interval_s=0.001)
    assert (settled.held, settled.checks) == (True, 3)


def test_until_it_holds_restarts_the_count_when_the_check_flaps():
    settled = until_it_holds(answers(True, False, True, True), consecutive=2, within_s=5, interval_s=0.001)
    assert (settled.held, settled.checks) == (True, 4)


def test_until_it_holds_does_not_hold_on_a_check_that_keeps_flapping():
    settled = until_it_holds(answers(*[True, False] * 1000), consecutive=2, within_s=0.05, interval_s=0.001)
    assert not settled.held


def test_until_it_holds_gives_up_after_within_s():
    settled = until_it_holds(lambda: False, within_s=0.05, interval_s=0.005)
    assert not settled.held
    assert settled.after_s >= 0.05
    assert settled.checks > 1


# --- redaction ----------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


HEADER = b64url(json.dumps({"alg": "RS256", "kid": "k" * 43, "typ": "JWT"}).encode())
PAYLOAD = b64url(
    json.dumps(
        {
            "sub": "f7c8b1f5-1761-4660-861d-9b72b432f4eb",
            "iss": "ghippo.io",
            "preferred_username": "admin",
            "exp": 2111484844,
            "iat": 1796124844,
        }
    ).encode()
)
SIGNATURE = b64url(bytes(range(256)))  # an RS256 signature's length: 342 characters
JWT = f"{HEADER}.{PAYLOAD}.{SIGNATURE}"
SK = "sk4Jd8Qm2ZpX7vRt9LbN3cWy"


def redactor(*secrets: str) -> Redactor:
    redact = Redactor()
    for secret in secrets:
        redact.add(secret)
    return redact


def leaks(text: str, secret: str, run: int = 12) -> bool:
    """Whether `text` holds `run` characters of `secret` in a row."""
    return any(secret[start : start + run] in text for start in range(len(secret) - run + 1))


def test_a_whole_secret_is_masked():
    assert redactor(SK)(f"sk={SK}; done") == f"sk={mask(SK)}; done"


def test_a_jwt_cut_short_by_pytest_is_masked():
    """Cut by pytest's own repr function, the one that shortens a failing test's arguments."""
    shown = redactor(JWT)(f"bearer = {saferepr(JWT)}")
    assert "..." in saferepr(JWT), "the repr must be a cut one for the test to mean anything"
    assert not leaks(shown, JWT)


def test_the_start_of_a_long_jwt_cut_with_an_ellipsis_is_masked():
    shown = redactor(JWT)(f'{{"token": "{JWT[:40]}… (700 chars)')
    assert not leaks(shown, JWT)
    assert "redacted" in shown


@pytest.mark.parametrize("kind", ["first-changed", "middle-changed", "last-changed", "one-short", "one-longer"])
def test_a_near_miss_of_a_secret_is_masked(kind):
    """The suite presents near misses of the SK and the bearer (checks/secrets.py): one character off, they
    show all the rest of the secret, and must be masked as the secret is."""
    near = near_miss(SK, kind, "the SK")
    shown = redactor(SK)(f"sent: GET /token?ak=x&sk={near}")
    assert not leaks(shown, SK), shown


def test_a_pem_line_cut_where_base64_has_a_slash_is_masked():
    line = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC+x/3Dn0Qq+F1aR8"
    shown = redactor(line)(f"got: 200 {line[:30]}… (1704 chars)")
    assert not leaks(shown, line), shown


def test_a_text_redacted_before_a_secret_was_known_is_masked_after():
    """Redacted answers are remembered; learning a secret must forget them."""
    redact = redactor("an-earlier-secret")
    text = f"key {SK}"
    assert redact(text) == text
    redact.add(SK)
    assert redact(text) == f"key {mask(SK)}"


def test_a_jwt_signature_alone_is_masked():
    assert redactor(JWT)(f"signature {SIGNATURE}") == f"signature {mask(SIGNATURE)}"


def test_a_secret_shorter_than_8_characters_is_not_registered():
    redact = redactor("abc1234")
    assert redact.secrets == frozenset()
    assert redact("key abc1234") == "key abc1234"


def test_runs_too_short_or_in_no_secret_are_left():
    text = f"prefix {SK[:11]} and conformance-key-name-1"
    assert redactor(SK)(text) == text


def test_of_two_secrets_one_inside_the_other_each_is_masked_whole():
    inner, outer = SK, f"outer-{SK}-outer"
    assert redactor(inner, outer)(f"{inner} and {outer}") == f"{mask(inner)} and {mask(outer)}"


def test_text_without_a_secret_is_unchanged():
    text = "GET /apis/ghippo.io/v1alpha1/users?page=1&pageSize=25 answered 200"
    assert redactor(SK, JWT)(text) == text


# --- Behaviour's choice fields ------------------------------------------------------------------


def test_a_choice_field_refuses_a_value_outside_its_choices():
    with pytest.raises(
        ValueError,
        match=r"^Behaviour\.challenge_style must be one of "
        r"'realm', 'described', 'basic-first', got 'bogus'$",
    ):
        Behaviour(challenge_style="bogus")


def test_a_choice_field_accepts_each_of_its_choices():
    assert Behaviour(flow="access-key").flow == "access-key"
    assert Behaviour(key_time_style="rfc3339-offset").key_time_style == "rfc3339-offset"


def test_from_overrides_refuses_an_unknown_field():
    with pytest.raises(ValueError, match="^unknown Behaviour fields: flwo$"):
        Behaviour.from_overrides({"flwo": "aksk"})


@pytest.mark.parametrize(
    "allowed, words",
    [
        ({401}, "401"),
        ({400, 401}, "400 or 401"),
        (range(400, 500), "a 4xx"),
        ({200, *range(400, 500)}, "200 or a 4xx"),
        ({*range(400, 499)}, " or ".join(map(str, range(400, 499)))),  # not the whole class: every code named
    ],
)
def test_expected_statuses_read_as_words(allowed, words):
    assert statuses_in_words(allowed) == words
