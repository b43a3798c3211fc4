"""The deployment's clock (deployment/clock.py) and the requests that carry no state (deployment/http.py).

Reading: the three HTTP date forms, a key's createdAt, a token's iat, bounds that hold the truth, a
reading from the best source. Against the reference in this process: a clock minutes off the runner's
is read to the second, a deployment without Date is read from a key made for it, and no cookie or
connection carries a credential from one request to the next. Two suite runs show KEY-EXPIRY catching
a deployment that drops an RFC 3339 expiredAt's offset, and passing one that reads it.
"""

import base64
import json
from email.utils import formatdate

import httpx
import pytest

from ghippo_conformance.deployment import clock
from ghippo_conformance.deployment import profile as profiles
from ghippo_conformance.deployment.http import Api, Exchange
from ghippo_conformance.deployment.keys import KeyLedger, expired_at, session_cookies
from ghippo_conformance.deployment.redact import Redactor
from ghippo_reference.behaviour import for_profile
from ghippo_reference.server import start
from selftest.suite_process import run_suite

USERS = "/apis/ghippo.io/v1alpha1/users"
DEC_1_2026 = 1796119200  # Tue, 01 Dec 2026 10:00:00 GMT


def answer(headers=None, body=None, within=(DEC_1_2026 - 0.2, DEC_1_2026 + 0.2), status=200) -> Exchange:
    response = httpx.Response(status, headers=headers or {}, json=body, request=httpx.Request("GET", "http://x/"))
    return Exchange("GET", "http://x/", [], None, response, Redactor(), None, within)


def token_with(claims: dict) -> str:
    segment = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{segment}.c2lnbmF0dXJl"


# --- reading what the deployment wrote -----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Tue, 01 Dec 2026 10:00:00 GMT",  # IMF-fixdate
        "Tuesday, 01-Dec-26 10:00:00 GMT",  # RFC 850
        "Tue Dec  1 10:00:00 2026",  # asctime
        "Tue, 01 Dec 2026 10:00:00 -0000",  # a zone no HTTP date has, read as UTC all the same
    ],
    ids=["imf-fixdate", "rfc850", "asctime", "minus-zero-zone"],
)
def test_every_http_date_form_reads_as_utc(value):
    assert clock.date_of(answer({"date": value})) == clock.Stamp(DEC_1_2026, 1.0, clock.DATE_HEADER)


@pytest.mark.parametrize("value", [None, "", "not a date", "Tue, 99 Dec 2026 10:00:00 GMT"])
def test_an_unreadable_date_is_none(value):
    assert clock.date_of(answer({"date": value} if value is not None else {})) is None


@pytest.mark.parametrize(
    ("value", "at", "resolution"),
    [
        ("1796119200123", DEC_1_2026 + 0.123, 0.001),  # epoch milliseconds, as the users list writes
        ("1796119200", DEC_1_2026, 1.0),  # epoch seconds
        ("2026-12-01T18:00:00.5+08:00", DEC_1_2026 + 0.5, 0.1),
        ("2026-12-01T10:00:00Z", DEC_1_2026, 1.0),
        ("0", None, None),  # never set
        ("2026-12-01T10:00:00", None, None),  # no offset: the zone is anyone's guess
        ("", None, None),
        (1796119200123, None, None),  # a number, where the spec has a string
    ],
)
def test_a_created_at_reads_in_either_style(value, at, resolution):
    read = clock.created_at(value)
    if at is None:
        assert read is None
    else:
        assert read.at == pytest.approx(at) and read.resolution_s == resolution and read.source == clock.CREATED_AT


@pytest.mark.parametrize(
    ("headers", "token_claims", "at"),
    [
        ({"date": "Tue, 01 Dec 2026 10:00:00 GMT"}, {"iat": 1}, DEC_1_2026),
        ({}, {"iat": DEC_1_2026, "sub": "u"}, DEC_1_2026),
        ({"date": "not a date"}, {"iat": DEC_1_2026}, DEC_1_2026),
        ({}, {"sub": "u"}, None),
        ({}, {"iat": True}, None),
    ],
    ids=["date-header", "no-date-iat", "unreadable-date-iat", "neither", "boolean-iat"],
)
def test_an_answer_is_stamped_by_its_date_or_else_the_iat_it_issued(headers, token_claims, at):
    # A deployment that sends no Date must not keep AUTH-EXPIRED-OWN unchecked forever.
    stamped = clock.stamp(answer(headers, {"token": token_with(token_claims)}))
    assert (stamped.at if stamped else None) == at


def test_a_refused_answer_stamps_nothing_with_its_token():
    assert clock.issued_at(answer(body={"token": token_with({"iat": DEC_1_2026})}, status=401)) is None


# --- the offset between the clocks ---------------------------------------------------------------


class Wall:
    """The runner's clock, moved by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_an_unread_clock_reads_nothing():
    assert clock.DeploymentClock().now() is None


@pytest.mark.parametrize("offset_s", [-300.4, 0.0, 299.7])
def test_dates_a_second_apart_bound_the_deployment_clock_closer_than_a_second(offset_s):
    wall = Wall(DEC_1_2026)
    deployment_clock = clock.DeploymentClock(wall)
    for step in range(12):  # answers a third of a second apart, each taking 20 ms
        sent = DEC_1_2026 + step / 3
        truth = sent + 0.01 + offset_s
        deployment_clock.learn_date(answer({"date": formatdate(int(truth), usegmt=True)}, within=(sent, sent + 0.02)))
    wall.now = DEC_1_2026 + 10
    reading = deployment_clock.now()
    assert reading.earliest <= wall.now + offset_s <= reading.latest
    assert reading.uncertainty_s < 0.5
    assert reading.source == clock.DATE_HEADER and reading.answers == 12


def test_dates_that_disagree_give_a_reading_that_spans_them_all():
    # Two replicas behind a load balancer, their clocks 30 s apart: neither is taken for the deployment's.
    deployment_clock = clock.DeploymentClock(Wall(DEC_1_2026))
    for date in ("Tue, 01 Dec 2026 10:00:00 GMT", "Tue, 01 Dec 2026 10:00:30 GMT"):
        deployment_clock.learn_date(answer({"date": date}))
    reading = deployment_clock.now()
    assert reading.earliest <= DEC_1_2026 and reading.latest >= DEC_1_2026 + 30


def test_a_date_is_preferred_to_what_the_deployment_stamped():
    deployment_clock = clock.DeploymentClock(Wall(DEC_1_2026))
    deployment_clock.learn(answer(), clock.Stamp(DEC_1_2026 - 3600, 1.0, clock.ISSUED_AT))
    assert deployment_clock.now().source == clock.ISSUED_AT
    deployment_clock.learn_date(answer({"date": "Tue, 01 Dec 2026 10:00:00 GMT"}))
    reading = deployment_clock.now()
    assert reading.source == clock.DATE_HEADER and reading.earliest > DEC_1_2026 - 1


def test_a_reading_says_where_it_came_from_and_how_far_off_the_runner_it_is():
    deployment_clock = clock.DeploymentClock(Wall(DEC_1_2026))
    deployment_clock.learn_date(answer({"date": "Tue, 01 Dec 2026 09:55:00 GMT"}))
    assert str(deployment_clock.now()) == (
        "2026-12-01T09:55:00Z ± 0.7 s on the deployment's clock (300 s behind the runner's), read from its Date header"
    )


def test_waiting_for_a_time_ends_once_the_deployment_clock_has_surely_passed_it(monkeypatch):
    slept = []
    monkeypatch.setattr(clock.time, "sleep", slept.append)
    deployment_clock = clock.DeploymentClock(Wall(DEC_1_2026))
    deployment_clock.learn_date(answer({"date": "Tue, 01 Dec 2026 09:55:00 GMT"}))
    deployment_clock.sleep_until_past(DEC_1_2026 - 300 + 5)
    assert slept == [pytest.approx(5.2)]  # the earliest the deployment's clock reads now is 09:54:59.8


# --- what the suite sends ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format_", "written"),
    [("epoch-seconds", str(DEC_1_2026)), ("rfc3339", "2026-12-01T18:00:00+08:00")],
)
def test_expired_at_names_the_same_instant_in_either_format(format_, written):
    profile = profiles.load("dce5", [f"keys.expired_at_format={format_}"])
    assert expired_at(profile, DEC_1_2026) == written


# --- against the reference, in this process ------------------------------------------------------


def access_key_deployment(**overrides):
    return start(for_profile(profiles.load("dce5"), overrides))


@pytest.mark.parametrize("offset_s", [-300, 300])
def test_a_deployment_minutes_off_the_runner_is_read_to_the_second(offset_s):
    with access_key_deployment(clock_offset_s=offset_s) as reference:
        api = Api(reference.base_url, Redactor())
        for _ in range(4):
            api.get(USERS)
        reading = api.clock.now()
        truth = reference._deployment.now()
        api.close()
    assert reading.earliest - 0.1 <= truth <= reading.latest + 0.1
    assert reading.uncertainty_s < 1.5


@pytest.mark.parametrize("profile_name", ["dce5", "dce5-aksk"])
def test_a_deployment_without_date_is_read_from_a_key_made_to_read_it(profile_name):
    # The access key's iat in the access-key flow; the key list's createdAt in the AK/SK flow, whose
    # create answers an opaque SK. The key is deleted at once.
    profile = profiles.load(profile_name)
    with start(for_profile(profile, {"dates_answers": False, "clock_offset_s": -300})) as reference:
        api = Api(reference.base_url, Redactor())
        bearer = reference.credentials.get("access_key") or _token(api, profile, reference.credentials)
        ledger = KeyLedger(api, profile, bearer, "clocktest")
        assert api.clock.now() is None
        reading = ledger.deployment_now()
        truth = reference._deployment.now()
        kept = reference.admin_key_ids()
        api.close()
    assert reading.source == (clock.ISSUED_AT if profile.flow == "access-key" else clock.CREATED_AT)
    assert reading.earliest - 0.1 <= truth <= reading.latest + 0.1
    assert not ledger.created and len(kept) == 1


def _token(api, profile, credentials) -> str:
    return api.get(profile.paths.token, params=credentials).json()["token"]


def test_no_cookie_comes_back_and_no_bare_request_rides_an_authenticated_connection():
    with access_key_deployment(session_cookie="bound-to-credential", connection_remembers_user=True) as reference:
        api = Api(reference.base_url, Redactor())
        authenticated = api.get(USERS, bearer=reference.credentials["access_key"])
        bare = api.get(USERS)
        with api.one_connection():
            first = api.get(USERS, bearer=reference.credentials["access_key"])
            after = api.get(USERS)
        replayed = api.get(USERS, headers=[("Cookie", session_cookies(authenticated))])
        api.close()
    assert authenticated.status == 200 and session_cookies(authenticated).startswith("ghippo_session=")
    assert "cookie" not in bare.response.request.headers
    assert bare.status == 401 and bare.connection != authenticated.connection
    # Asked for explicitly, the state shows: the connection the bearer authenticated, the cookie it was given.
    assert first.connection == after.connection and after.status == 200
    assert replayed.status == 200


# --- RFC 3339 offsets, which only a profile writing RFC 3339 sends --------------------------------


@pytest.mark.suite_run
@pytest.mark.parametrize(
    ("overrides", "outcome"),
    [({"expired_at_offset_ignored": True}, "failed"), ({}, "passed")],
    ids=["offset-dropped-is-caught", "offset-read-passes"],
)
def test_key_expiry_with_rfc3339_times_catches_a_dropped_offset(overrides, outcome):
    profile = profiles.load("dce5")
    with start(for_profile(profile, overrides)) as reference:
        run = run_suite(
            reference.base_url,
            "dce5",
            reference.credentials,
            "--profile-set",
            "keys.expired_at_format=rfc3339",
            "-k",
            "expir",
        )
    assert run.outcomes()["KEY-EXPIRY"] == outcome, run.output_tail
