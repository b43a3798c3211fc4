"""Authentication for every method a router may map onto a protected operation (AUTH-ANY-METHOD).

This module runs after test_keys.py on purpose: its key-delete rows take a key slot, and KEY-LIMIT-RELEASE,
the first key check, must meet a deployment that never frees a slot with its free slots still free.
"""

import pytest

from ghippo_conformance.checks import batch, routing

# Under xdist, the requests reaching the users list by other methods go from one worker, once.
reads_the_routed_requests = pytest.mark.xdist_group("routed-requests")
# The operations a methods row goes to, by their documented method, as test ids say them.
REACHED = {"GET": "users-list", "DELETE": "key-delete"}


def method_cases():
    """(methods row, documented method) for each operation a row reaches: the users list's reads go side
    by side; the deletes of the run's key are key-slot tests (serialized, left out by --read-only)."""
    for row in routing.method_rows():
        for documented in row["reaches"]:
            marks = [pytest.mark.key_slots] if documented == "DELETE" else [reads_the_routed_requests]
            yield pytest.param(row, documented, id=f"{row['id']}-{REACHED[documented]}", marks=marks)


@pytest.fixture(scope="module")
def users_list_by_other_methods(api, profile) -> dict:
    """The answers to the users list reached by every methods row, without Authorization, by row id."""
    path = profile.paths.users
    rows = [row for row in routing.method_rows() if "GET" in row["reaches"]]
    return batch.answers(api, [routing.method_request(row["id"], row, "GET", path) for row in rows])


@pytest.fixture(scope="module")
def key_deleted_by_other_methods(api, profile, key_ledger):
    """The answers to the delete of a key the run creates for it, reached by every methods row, without
    Authorization, by row id. A delete a broken deployment serves removes that key and no other."""
    free = key_ledger.free_slots()
    if free is not None and free < 1:
        pytest.skip("the user has no free key slot: this check deletes a key of its own, made for it")
    created = key_ledger.create("other-methods")
    body = created.json()
    if created.status != 200 or not isinstance(body, dict) or not isinstance(body.get("id"), str):
        pytest.skip(f"creating a key was refused ({created.status}); KEY-CREATE and KEY-LIMIT judge that")
    path = profile.paths.delete_key.format(id=body["id"])
    answers: dict[str, batch.Outcome | str] = {}
    deleted_by = None
    # One at a time: after a delete served without credentials, the key is gone and a later row's 404
    # would say nothing; those rows are not sent.
    for row in (row for row in routing.method_rows() if "DELETE" in row["reaches"]):
        if deleted_by:
            answers[row["id"]] = f"not sent: the key was already deleted without credentials by {deleted_by}"
            continue
        (answers[row["id"]],) = batch.send_all(api, [routing.method_request(row["id"], row, "DELETE", path)])
        deleted_by = row["description"] if routing.served(answers[row["id"]], row) else None
    yield answers
    key_ledger.delete(body["id"])


@pytest.mark.requirement("AUTH-ANY-METHOD")
@pytest.mark.parametrize("method,documented", list(method_cases()))
def test_no_method_reaches_an_operation_without_authorization(request, method, documented):
    """No method a router may map onto a protected operation serves it without credentials: HEAD, OPTIONS,
    an unknown method, a POST naming the operation's method in an override header or field, a form POST."""
    fixture = "users_list_by_other_methods" if documented == "GET" else "key_deleted_by_other_methods"
    answers = request.getfixturevalue(fixture)  # only here: each operation's requests go from their own worker
    answer = answers[method["id"]]
    if isinstance(answer, str):
        pytest.skip(answer)
    what = f"{method['description']} to the {REACHED[documented].replace('-', ' ')} without Authorization"
    routing.serves_nothing(answer, method, what)
