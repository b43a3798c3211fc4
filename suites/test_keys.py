"""Access keys (key pairs in the AK/SK flow): create, list, shown once, limit, revoke, expiry."""

import math

import pytest

from ghippo_conformance.checks import expect
from ghippo_conformance.checks.waiting import until_it_holds
from ghippo_conformance.deployment.clock import moment
from ghippo_conformance.deployment.keys import authenticate_with, key_refused, session_cookies

pytestmark = pytest.mark.key_slots

# How long past the latest the deployment's clock may read now an expiring key is made to live: the create
# and one use of the key fit in it. The wait then ends once the earliest it may read is past the expiredAt.
EXPIRY_LEAD_S = 2
# A reading of the deployment's clock looser than this cannot judge an expiry whose grace is seconds.
LOOSEST_CLOCK_S = 30


def need_free_slots(key_ledger, count: int) -> int | None:
    """The user's free key slots (None: no limit), skipping the check when fewer than `count` are free."""
    free = key_ledger.free_slots()
    if free is None or free >= count:
        return free
    ours = [
        f"{key['id']} ({key['name']})"
        for key in key_ledger.held()
        if str(key.get("name", "")).startswith(key_ledger.prefix)
    ]
    if ours:
        # Every test deletes its keys when it ends: one of this run's keys still held is a delete that
        # did not land, which the run's end fails KEY-REVOKE for, with the exchanges.
        pytest.skip(
            f"the user has {free} free key slot(s), this check needs {count}: this run's keys "
            f"{', '.join(ours)} are still held after their delete (KEY-REVOKE reports it)"
        )
    pytest.skip(
        f"the user has {free} free key slot(s), this check needs {count}; "
        "the suite never deletes keys it did not create"
    )


def new_key(key_ledger, purpose: str, **kwargs):
    """A key for a check that needs one only to look at something else: a refused create skips
    the check, since KEY-CREATE and KEY-LIMIT are the ones that judge creation."""
    need_free_slots(key_ledger, 1)
    return created_or_skip(key_ledger, purpose, **kwargs)


def created_or_skip(key_ledger, purpose: str, **kwargs):
    made = key_ledger.create(purpose, **kwargs)
    if made.status != 200:
        pytest.skip(f"creating a key was refused ({made.status}); KEY-CREATE and KEY-LIMIT judge that")
    return made


@pytest.fixture(autouse=True)
def each_check_frees_its_keys(key_ledger):
    """Every check deletes the keys it made as soon as it ends, so the next one has the free slot
    it needs even under a limit that counts the user's own key (two in all is common)."""
    yield
    key_ledger.delete_created()


@pytest.fixture
def created(key_ledger):
    """A key created for one check (each_check_frees_its_keys deletes it after)."""
    need_free_slots(key_ledger, 1)
    exchange = key_ledger.create("keys")
    return exchange, exchange.json() if exchange.status == 200 else None


@pytest.mark.requirement("KEY-LIMIT-RELEASE")
def test_deleting_a_key_frees_its_slot(key_ledger, profile):
    """After one of the user's keys is deleted, a create succeeds again."""
    # First in this module: a deployment that never frees a slot would otherwise have lost its
    # free slots to earlier checks, and this one could only skip.
    first = new_key(key_ledger, "release-first").json()
    for index in range(max(key_ledger.free_slots(), 0)):
        new_key(key_ledger, f"release-{index}")
    expect.status(key_ledger.delete(first["id"]), 200, "deleting one of the run's keys")
    expect.status(
        key_ledger.create("released-slot"),
        200,
        f"creating a key after one was deleted, with {profile.keys.limit} the limit",
    )


def other_key_if_room(key_ledger, free: int | None, purpose: str) -> dict | None:
    """A second key of the run's where the limit leaves a slot beside the first (None: no limit), or
    None; a refusal (a limit the profile does not state) only leaves it out."""
    if free is not None and free < 2:
        return None
    made = key_ledger.create(purpose)
    return made.json() if made.status == 200 else None


@pytest.mark.requirement("KEY-REVOKE")
def test_deleted_key_stops_working(api, profile, key_ledger, record_property):
    """After delete, the key leaves the list and its credentials stop working; where the limit lets the
    run hold two keys, the other one stays listed and working."""
    # Second: every later check frees its key by deleting it, so a delete that does not land
    # must be seen here first.
    free = need_free_slots(key_ledger, 1)
    key = created_or_skip(key_ledger, "revoke").json()
    other = other_key_if_room(key_ledger, free, "revoke-other")
    used = authenticate_with(api, profile, key)
    expect.status(used, 200, "the new key before deletion")
    cookies = session_cookies(used)
    expect.status(key_ledger.delete(key["id"]), 200, "deleting the key")
    listing = key_ledger.list()
    ids = [k.get("id") for k in (listing.json() or {}).get("items") or [] if isinstance(k, dict)]
    expect.that(key["id"] not in ids, f"deleted key {key['id']} is still listed", listing)
    if other is not None:
        # A delete removes exactly the key it names, not the newest, the oldest or every key of the user's.
        expect.that(other["id"] in ids, f"key {other['id']} left the list with the delete of {key['id']}", listing)
        expect.status(authenticate_with(api, profile, other), 200, f"key {other['id']} after the delete of another")
    settled = until_it_holds(lambda: key_refused(api, profile, key, cookies))
    record_property("revocation_settled_after_s", round(settled.after_s, 3))
    expect.that(
        settled.held,
        f"the deleted key{' or the session cookie set when it was used' if cookies else ''} still worked "
        f"{settled.after_s:.1f} s after deletion ({settled.checks} checks)",
        *api.recent[-2 if cookies else -1 :],
    )


@pytest.mark.requirement("KEY-CREATE")
def test_created_key_is_listed(created, key_ledger):
    """Create returns an id and a secret; the key then appears in the list by id and name."""
    exchange, body = created
    expect.status(exchange, 200, "creating a key with a slot free")
    for field in ("id", "token"):
        expect.that(isinstance(body.get(field), str) and body[field], f"expected a non-empty {field}", exchange)
    listing = key_ledger.list()
    items = (listing.json() or {}).get("items") or []
    listed = [k for k in items if isinstance(k, dict) and k.get("id") == body["id"]]
    expect.that(listed, f"key {body['id']} is not in the list", exchange, listing)
    expected_name = key_ledger.created.get(body["id"])
    expect.that(
        listed[0].get("name") == expected_name,
        f"expected name {expected_name!r} in the list, got {listed[0].get('name')!r}",
        listing,
    )


@pytest.mark.requirement("KEY-SHOWN-ONCE")
def test_secret_is_shown_only_at_creation(created, key_ledger):
    """Neither the list response nor the key's delete response carries the secret, whole or encoded."""
    exchange, body = created
    if body is None:
        pytest.skip(f"creating a key was refused ({exchange.status}); KEY-CREATE judges that")
    expect.not_carried(key_ledger.list(), body["token"], "the key's secret appears in the list response")
    expect.not_carried(key_ledger.delete(body["id"]), body["token"], "the key's secret appears in the delete response")


@pytest.mark.requirement("SCHEMA-KEY")
def test_key_responses_match_schemas(key_ledger):
    """Create, list and delete responses match their schemas."""
    made = new_key(key_ledger, "schema")
    expect.conforms(made.json(), "key-created", "the create response", made)
    listing = key_ledger.list()
    expect.conforms(listing.json(), "key-list", "the list response", listing)
    removed = key_ledger.delete(made.json()["id"])
    expect.status(removed, 200, "deleting a key")
    expect.conforms(removed.json(), "key-deleted", "the delete response", removed)


@pytest.mark.requirement("KEY-LIMIT")
def test_user_holds_exactly_the_limit(key_ledger, profile):
    """The user can hold exactly the limit; one more is refused with a 4xx error body, also when it is
    sent at the same time as the create that takes the last free slot."""
    limit = profile.keys.limit
    free = max(key_ledger.free_slots(), 0)
    for index in range(free - 1):
        expect.status(key_ledger.create(f"limit-{index}"), 200, f"creating key {limit - free + index + 1} of {limit}")
    over = last_slot_raced_by_one_more(key_ledger, limit) if free else key_ledger.create("over-limit")
    expect.status(over, range(400, 500), f"a key beyond the limit of {limit}")
    expect.error_body(over, "the refusal of a key beyond the limit")
    held = len(key_ledger.held())
    expect.that(held == limit, f"expected the list to show {limit} keys, got {held}", key_ledger.list())


def deployment_now(key_ledger):
    """The deployment's clock now, which judges expiry; the check is skipped, saying why, when it cannot be read."""
    now = key_ledger.deployment_now()
    if now is None:
        pytest.skip(
            "the deployment's clock cannot be read: no answer carried a Date header, and no key created to read "
            "it showed an iat or a createdAt; expiry is judged on the deployment's clock, never the runner's"
        )
    if now.uncertainty_s > LOOSEST_CLOCK_S:
        pytest.skip(
            f"the deployment's clock is known only to within {now.uncertainty_s:.0f} s ({now}): its answers "
            "disagree (a clock stepped, or replicas on different clocks), too loosely to judge an expiry"
        )
    return now


def last_slot_raced_by_one_more(key_ledger, limit: int):
    """The create of the last free slot and one more, sent at once: a limit counted before a create is
    stored and not after lets both through. The refusal is returned, for the caller to judge."""
    both = key_ledger.create_at_once("limit-last", "over-limit")
    made = [exchange for exchange in both if exchange.status == 200]
    expect.that(len(made) < 2, f"two creates sent at once for the last of {limit} key slots both succeeded", *both)
    if made:
        return next(exchange for exchange in both if exchange.status != 200)
    # Both refused (a store that turns away concurrent writes): the last slot is taken alone, then one more.
    expect.status(key_ledger.create("limit-last"), 200, f"creating key {limit} of {limit} alone")
    return key_ledger.create("over-limit")


@pytest.mark.requirement("KEY-EXPIRY")
def test_key_stops_working_at_expiry(api, profile, key_ledger, record_property):
    """A key made to expire 2 s after the deployment's now works until then, and stops (with any session cookie
    set when it was used) within the grace period once its expiredAt has passed on the deployment's clock."""
    now = deployment_now(key_ledger)
    record_property("deployment_clock", str(now))
    expires_at = math.ceil(now.latest + EXPIRY_LEAD_S)
    key = new_key(key_ledger, "expiry", expires_at=expires_at).json()
    used = authenticate_with(api, profile, key)
    expect.status(used, 200, f"the key before its expiredAt {moment(expires_at)} (now {now})")
    cookies = session_cookies(used)
    api.clock.sleep_until_past(expires_at)
    grace = profile.keys.expiry_grace_s
    settled = until_it_holds(lambda: key_refused(api, profile, key, cookies), within_s=grace)
    record_property("expiry_settled_after_s", round(settled.after_s, 3))
    expect.that(
        settled.held,
        f"the key{' or the session cookie set when it was used' if cookies else ''} still worked "
        f"{settled.after_s:.1f} s after its expiredAt {moment(expires_at)} had passed on the deployment's clock "
        f"(grace {grace} s; {api.clock.now()})",
        *api.recent[-2 if cookies else -1 :],
    )


@pytest.mark.requirement("KEY-EXPIRY")
def test_key_expired_at_creation_never_works(api, profile, key_ledger):
    """A key whose expiredAt is a minute past on the deployment's clock is refused (a 4xx) or never authenticates."""
    now = deployment_now(key_ledger)
    need_free_slots(key_ledger, 1)
    made = key_ledger.create("already-expired", expires_at=math.floor(now.earliest) - 60)
    expect.status(made, [200, *range(400, 500)], f"creating a key with an expiredAt a minute past (now {now})")
    if made.status != 200:
        # A 4xx answers the past expiredAt only if the same create with a future one succeeds now:
        # a deployment whose key limit is hidden from the profile may have refused the create itself.
        control = key_ledger.create("not-yet-expired", expires_at=math.ceil(now.latest) + 3600)
        if control.status != 200:
            pytest.skip(
                f"a create with a future expiredAt was refused too ({control.status}): no free slot to tell "
                "a refusal of the past expiredAt from a refusal of any create; KEY-CREATE judges that"
            )
        return
    expect.status(
        authenticate_with(api, profile, made.json()),
        range(400, 500),
        f"a key whose expiredAt was a minute past at creation on the deployment's clock ({now})",
    )
