"""The paginated users list: shape, page echo, sizes, total, walking, edges and search."""

import math

import pytest

from ghippo_conformance.checks import cases, expect
from ghippo_conformance.checks.pages import items_of, total_of, walk

# Under xdist, the tests that read a walk run on one worker, which walks the users once.
reads_the_walk = pytest.mark.xdist_group("users-walk")


@pytest.fixture(scope="session")
def users_walk(api, profile, bearer):
    return walk(api, profile, bearer, profile.pagination.walk_page_size)


@pytest.fixture(scope="session")
def cross_walk(api, profile, bearer):
    """A second walk with another page size, to find users the first walk never saw."""
    return walk(api, profile, bearer, 2 * profile.pagination.walk_page_size + 1)


def need_complete(walk_result):
    if not walk_result.complete:
        pytest.skip(f"partial walk: {walk_result.ended}")


def list_users(api, profile, bearer, **params):
    return api.get(profile.paths.users, params=params, bearer=bearer)


@pytest.mark.requirement("SCHEMA-USER-LIST")
@reads_the_walk
def test_every_page_matches_user_list_schema(users_walk):
    """Every page of the walk is {items: [User], pagination} with the spec's types."""
    expect.that(users_walk.pages, f"no page of users could be read: {users_walk.ended}")
    for page in users_walk.pages:
        expect.conforms(page.json(), "user-list", "a users page", page)


@pytest.mark.requirement("PAGE-ECHO")
@pytest.mark.parametrize("case", cases.params("page-echo"))
def test_pagination_echoes_request(api, profile, bearer, case):
    """pagination.page and pagination.pageSize equal the requested values."""
    page = profile.pagination.first_page + case["page_index"]
    exchange = list_users(api, profile, bearer, page=page, pageSize=case["page_size"])
    expect.status(exchange, 200, f"page={page}&pageSize={case['page_size']}")
    pagination = (exchange.json() or {}).get("pagination") or {}
    got = (pagination.get("page"), pagination.get("pageSize"))
    expect.that(
        got == (page, case["page_size"]),
        f"expected page {page} and pageSize {case['page_size']} echoed, got {got}",
        exchange,
    )


@pytest.mark.requirement("PAGE-SIZE")
@reads_the_walk
def test_pages_are_full_but_the_last(users_walk, cross_walk):
    """Every page holds at most pageSize users, and exactly pageSize on every page but the last,
    under both walks' page sizes: a deployment that caps pageSize below the larger one shows there."""
    for walked in (users_walk, cross_walk):
        need_complete(walked)
        size = walked.page_size
        for number, page in enumerate(walked.pages, start=1):
            count, last = len(items_of(page)), number == len(walked.pages)
            expect.that(
                count <= size if last else count == size,
                f"page {number} of {len(walked.pages)} holds {count} users with pageSize {size}",
                page,
            )


@pytest.mark.requirement("PAGE-TOTAL")
@reads_the_walk
def test_total_counts_the_walked_users(users_walk):
    """total is the same on every page and equals the number of users walked."""
    need_complete(users_walk)
    totals = {total_of(page) for page in users_walk.pages}
    expect.that(len(totals) == 1, f"total differs between pages: {sorted(map(str, totals))}", *users_walk.pages[:2])
    [total] = totals
    walked = len(set(users_walk.ids))
    expect.that(
        total == walked, f"total says {total}, the walk found {walked} users ({users_walk.ended})", users_walk.pages[-1]
    )


@pytest.mark.requirement("PAGE-WALK")
@reads_the_walk
def test_walk_yields_every_user_once(users_walk, cross_walk):
    """Walking all pages yields every user exactly once: no duplicates, no gaps."""
    ids = users_walk.ids
    repeated = sorted({str(i) for i in ids if ids.count(i) > 1})
    expect.that(not repeated, f"users seen on more than one page: {repeated[:5]}", *users_walk.pages[-2:])
    need_complete(users_walk)
    need_complete(cross_walk)
    missing = set(cross_walk.ids) - set(ids)
    expect.that(
        not missing,
        f"{len(missing)} users appear with pageSize {cross_walk.page_size} but not with "
        f"pageSize {users_walk.page_size}, e.g. {sorted(map(str, missing))[:3]}",
        users_walk.pages[-1],
    )
    unseen = set(ids) - set(cross_walk.ids)
    expect.that(
        not unseen,
        f"{len(unseen)} users appear with pageSize {users_walk.page_size} but not with "
        f"pageSize {cross_walk.page_size}, e.g. {sorted(map(str, unseen))[:3]}",
        cross_walk.pages[-1],
    )


@pytest.mark.requirement("PAGE-BEYOND")
@reads_the_walk
def test_page_past_the_last_is_empty(api, profile, bearer, users_walk):
    """A page past the last gets 200, no users and the same total."""
    expect.that(users_walk.pages, f"no page of users could be read: {users_walk.ended}")
    total, size = total_of(users_walk.pages[0]), users_walk.page_size
    expect.that(isinstance(total, int), f"no integer total to place the last page: {total!r}", users_walk.pages[0])
    beyond = profile.pagination.first_page + math.ceil(total / size) + 1
    exchange = list_users(api, profile, bearer, page=beyond, pageSize=size)
    expect.status(exchange, 200, f"page {beyond}, past the last")
    expect.that(
        items_of(exchange) == [] and total_of(exchange) == total,
        f"expected no users and total {total} past the last page",
        exchange,
    )


@pytest.mark.requirement("PAGE-INVALID")
@pytest.mark.parametrize("case", cases.params("page-invalid"))
def test_invalid_paging_is_refused_or_corrected(api, profile, bearer, case):
    """Invalid page or pageSize gets 400 with an error body, or 200 stating the values used."""
    exchange = list_users(api, profile, bearer, page=case["page"], pageSize=case["page_size"])
    what = f"{case['description']} (page={case['page']}&pageSize={case['page_size']})"
    expect.status(exchange, {200, 400}, what)
    if exchange.status == 400:
        expect.error_body(exchange, what)
        return
    pagination = (exchange.json() or {}).get("pagination") or {}
    page, size = pagination.get("page"), pagination.get("pageSize")
    used = (
        isinstance(page, int)
        and 0 <= page <= profile.pagination.max_page
        and isinstance(size, int)
        and size >= 1
        and len(items_of(exchange)) <= size
    )
    expect.that(
        used,
        f"200 for {what}, but pagination states page={page!r}, pageSize={size!r} "
        f"for {len(items_of(exchange))} users: not values a list could have used",
        exchange,
    )


@pytest.mark.requirement("PAGE-DEFAULTS")
def test_defaults_apply_without_paging(api, profile, bearer):
    """Without page and pageSize the list answers 200 and reports positive values."""
    exchange = list_users(api, profile, bearer)
    expect.status(exchange, 200, "the users list without page and pageSize")
    pagination = (exchange.json() or {}).get("pagination") or {}
    page, size = pagination.get("page"), pagination.get("pageSize")
    expect.that(
        isinstance(page, int) and page >= profile.pagination.first_page and isinstance(size, int) and size > 0,
        f"expected the defaults used in pagination, got page={page!r}, pageSize={size!r}",
        exchange,
    )


@pytest.mark.requirement("USERS-SEARCH")
@reads_the_walk
def test_search_returns_only_matches(api, profile, bearer, users_walk):
    """search returns only users whose name or email contains the term."""
    named = [
        u for page in users_walk.pages for u in items_of(page) if isinstance(u, dict) and len(u.get("name", "")) >= 3
    ]
    if not named:
        pytest.skip("no user with a name of three characters or more to search for")
    term = named[len(named) // 2]["name"][1:4]
    exchange = list_users(api, profile, bearer, search=term, pageSize=100)
    expect.status(exchange, 200, f"search={term!r}")
    found = items_of(exchange)
    strays = [u.get("name") for u in found if term.lower() not in f"{u.get('name', '')} {u.get('email', '')}".lower()]
    expect.that(
        found and not strays, f"search={term!r} returned {len(found)} users, not matching: {strays[:5]}", exchange
    )
