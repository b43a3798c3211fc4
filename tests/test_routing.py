"""Methods and spellings that reach a protected operation (AUTH-ANY-METHOD, AUTH-ANY-SPELLING): the
request target sent byte for byte, the case tables and their requests, the judgement of an answer,
and the reference's routing knobs the kill matrix runs the suite against."""

import httpx
import pytest
from fault_proxy import Witness

from ghippo_conformance.checks import batch, routing
from ghippo_conformance.deployment.http import Api, Exchange
from ghippo_conformance.deployment.redact import Redactor
from ghippo_reference import leniency
from ghippo_reference.behaviour import Behaviour
from ghippo_reference.server import start
from selftest.suite_process import run_suite

USERS = "/apis/ghippo.io/v1alpha1/users"
CURRENT_USER = "/apis/ghippo.io/v1alpha1/current-user"
KEY = "/apis/ghippo.io/v1alpha1/current-user/accesstokens/some-id"


def sent_to(server, path: str, **arguments) -> tuple[str, str]:
    """The target `server` received for `path` sent through the HTTP helper, and the evidence's first line."""
    api = Api(server.base_url, Redactor())
    try:
        evidence = api.send("GET", path, **arguments).evidence().splitlines()[0]
    finally:
        api.close()
    return server.requests[-1].target, evidence


# --- the request target as written ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/a/./b", "/a/../b", "/a/%2e%2e/b", "/a/%2E%2E/b", "/a#frag", "/a/..;/b", "/a%2Fb", "/a%00", "/a\\b"]
)
def test_a_target_sent_as_written_reaches_the_server_byte_for_byte(path):
    with Witness() as witness:
        target, evidence = sent_to(witness, path, target="as-written")
    assert target == path
    assert evidence.endswith(f"{witness.base_url}{path} (target sent as written)")


def test_a_normalised_target_has_its_dot_segments_resolved_which_is_why_spellings_go_as_written():
    with Witness() as witness:
        target, _ = sent_to(witness, "/a/./x/../b")
    assert target == "/a/b"


def test_an_absolute_form_target_carries_the_base_url():
    with Witness() as witness:
        target, evidence = sent_to(witness, "/a/./b", target="absolute-form", params={"q": "1 2"})
    assert target == f"{witness.base_url}/a/./b?q=1+2"
    assert evidence.endswith(f"{target} (absolute-form target)")


def test_a_target_as_written_follows_the_base_url_path_and_precedes_the_query():
    with Witness() as witness:
        api = Api(witness.base_url + "/prefix/", Redactor())
        try:
            api.send("GET", "/a/../b", params={"page": 1}, target="as-written")
        finally:
            api.close()
    assert witness.requests[-1].target == "/prefix/a/../b?page=1"


# --- the case tables -----------------------------------------------------------------------------


def test_every_spelling_differs_from_the_documented_path_and_keeps_its_start():
    for row in routing.spelling_rows():
        for path in (USERS, CURRENT_USER):
            spelt = routing.spelt(row, path)
            assert spelt.startswith(path.rpartition("/")[0]), row["id"]
            assert spelt != path or row["target_form"] == "absolute-form", row["id"]


def test_spellings_sent_to_each_read_are_the_advisories_and_the_rest_go_to_the_users_list():
    reads = [USERS, CURRENT_USER]
    by_id = {row["id"]: row for row in routing.spelling_rows()}
    assert routing.reads_spelt(by_id["dot-dot-path-parameter"], reads) == reads
    assert routing.reads_spelt(by_id["double-encoded-dot-dot-segment"], reads) == [USERS]


FORM = routing.FORM_CONTENT_TYPE


@pytest.mark.parametrize(
    "row_id,documented,path,method,arguments",
    [
        ("head", "GET", USERS, "HEAD", {"headers": []}),
        ("x-http-method-override", "DELETE", KEY, "POST", {"headers": [("X-HTTP-Method-Override", "DELETE"), FORM]}),
        ("method-form-field", "GET", USERS, "POST", {"form": {"_method": "GET"}, "headers": []}),
        ("method-query-parameter", "DELETE", KEY, "POST", {"params": {"_method": "DELETE"}, "headers": [FORM]}),
        ("form-post-fallback", "GET", USERS, "POST", {"headers": [FORM]}),
    ],
)
def test_a_methods_row_names_the_operations_method_where_it_says(row_id, documented, path, method, arguments):
    row = next(row for row in routing.method_rows() if row["id"] == row_id)
    request = routing.method_request("k", row, documented, path)
    assert (request.key, request.method, request.path, request.arguments) == ("k", method, path, arguments)


def test_every_methods_row_reaches_the_users_list_and_only_head_and_options_skip_the_delete():
    rows = routing.method_rows()
    assert all("GET" in row["reaches"] for row in rows)
    assert {row["method"] for row in rows if "DELETE" not in row["reaches"]} == {"HEAD", "OPTIONS"}


# --- judging an answer ---------------------------------------------------------------------------

HEAD_ROW = {"success_without_content_is_no_data": False}
OPTIONS_ROW = {"success_without_content_is_no_data": True}


def outcome(status: int | None, content: bytes = b"", error: httpx.RequestError | None = None) -> batch.Outcome:
    request = batch.Request("k", USERS)
    if status is None:
        return batch.Outcome(request, None, error)
    response = httpx.Response(status, content=content, request=httpx.Request("GET", "http://x" + USERS))
    return batch.Outcome(request, Exchange("GET", "http://x" + USERS, [], None, response, Redactor()))


@pytest.mark.parametrize(
    "row,answer,is_served",
    [
        (HEAD_ROW, outcome(200), True),
        (HEAD_ROW, outcome(204), True),
        (HEAD_ROW, outcome(401), False),
        (HEAD_ROW, outcome(301), False),
        (HEAD_ROW, outcome(501), False),
        (HEAD_ROW, outcome(500), False),
        (OPTIONS_ROW, outcome(204), False),
        (OPTIONS_ROW, outcome(200, b'{"items": []}'), True),
        (HEAD_ROW, outcome(None, error=httpx.RemoteProtocolError("closed")), False),
    ],
    ids=["head-200", "head-204", "401", "redirect", "501", "500", "options-empty", "options-data", "closed"],
)
def test_only_a_2xx_serves_and_an_options_2xx_without_content_describes_options(row, answer, is_served):
    assert routing.served(answer, row) is is_served
    if is_served:
        with pytest.raises(AssertionError, match="served without credentials"):
            routing.serves_nothing(answer, row, "HEAD to the users list")
    else:
        routing.serves_nothing(answer, row, "HEAD to the users list")


def test_a_body_over_the_cap_is_no_answer_and_fails():
    too_large = outcome(None, error=httpx.RequestError("body larger than 8 MiB"))
    with pytest.raises(AssertionError, match="expected an answer"):
        routing.serves_nothing(too_large, HEAD_ROW, "HEAD to the users list")


# --- the reference's routing knobs ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path,resolved",
    [
        ("/a/b/c/./../../g", "/a/g"),  # RFC 3986 section 5.2.4's own example
        ("/a/./b", "/a/b"),
        ("/a/.", "/a/"),
        ("/a/b/..", "/a/"),
        ("/../a", "/a"),
        ("/a//b", "/a//b"),
    ],
)
def test_dot_segments_are_removed_as_rfc_3986_says(path, resolved):
    assert leniency._dot_segments_removed(path) == resolved


@pytest.mark.parametrize(
    "method,headers,query,form,named",
    [
        ("POST", [(b"x-http-method-override", b"get")], b"", {}, "GET"),
        ("POST", [(b"x-method-override", b"DELETE")], b"", {}, "DELETE"),
        ("POST", [], b"_method=delete", {}, "DELETE"),
        ("POST", [], b"", {"_method": "GET"}, "GET"),
        ("POST", [], b"", {}, None),
        ("GET", [(b"x-http-method-override", b"DELETE")], b"", {}, None),
    ],
)
def test_an_override_is_read_from_a_post_only(method, headers, query, form, named):
    scope = {"method": method, "headers": headers, "query_string": query}
    assert leniency.overriding_method(scope, form) == named


# An auth rule in front of the router, which resolves the path after it (or the method).
PAST_THE_PATH_RULE = {"auth_before_path_resolution": True}
PAST_THE_METHOD_RULE = {"auth_only_for_documented_method": True}
# (Behaviour overrides, row, status): a 200 comes only to a target that arrived as written.
SPELLING_ROUTES = {
    "not-resolved-not-routed": ({}, "dot-dot-segment", 404),
    "resolved-then-authenticated": ({"path_resolution": "dot-segments"}, "dot-dot-segment", 401),
    "refused": ({"path_resolution": "dot-segments-refused"}, "dot-segment", 400),
    "dot-dot-past-the-rule": (
        {"path_resolution": "dot-segments", **PAST_THE_PATH_RULE},
        "encoded-dot-dot-segment",
        200,
    ),
    "parameters-past-the-rule": (
        {"path_resolution": "path-parameters", **PAST_THE_PATH_RULE},
        "dot-dot-path-parameter",
        200,
    ),
    "fragment-past-the-rule": ({"path_resolution": "fragment-dropped", **PAST_THE_PATH_RULE}, "fragment", 200),
    "backslash-past-the-rule": (
        {"path_resolution": "backslash-as-slash", **PAST_THE_PATH_RULE},
        "encoded-backslash",
        200,
    ),
    "absolute-form-past-the-rule": ({"path_resolution": "absolute-form", **PAST_THE_PATH_RULE}, "absolute-form", 200),
    "absolute-form-authenticated": ({"path_resolution": "absolute-form"}, "absolute-form", 401),
}
METHOD_ROUTES = {
    "head-authenticated": ({}, "head", 401),
    "override-not-routed": ({}, "x-http-method-override", 404),
    "override-authenticated": ({"method_routing": "override-honoured"}, "method-form-field", 401),
    "any-method-authenticated": ({"method_routing": "any-method"}, "unknown-method", 401),
    "head-past-the-rule": (PAST_THE_METHOD_RULE, "head", 200),
    "override-past-the-rule": (
        {"method_routing": "override-honoured", **PAST_THE_METHOD_RULE},
        "method-query-parameter",
        200,
    ),
    "fallback-past-the-rule": ({"method_routing": "any-method", **PAST_THE_METHOD_RULE}, "form-post-fallback", 200),
}


def answered_by_the_reference(overrides: dict, request: batch.Request) -> int:
    with start(Behaviour(**overrides)) as reference:
        api = Api(reference.base_url, Redactor())
        try:
            (answer,) = batch.send_all(api, [request])
        finally:
            api.close()
    return answer.exchange.status


@pytest.mark.parametrize("overrides,row_id,status", SPELLING_ROUTES.values(), ids=SPELLING_ROUTES.keys())
def test_the_reference_routes_the_spelling_as_its_knobs_say(overrides, row_id, status):
    row = next(row for row in routing.spelling_rows() if row["id"] == row_id)
    assert answered_by_the_reference(overrides, routing.spelling_request("k", row, USERS)) == status


@pytest.mark.parametrize("overrides,row_id,status", METHOD_ROUTES.values(), ids=METHOD_ROUTES.keys())
def test_the_reference_routes_the_method_as_its_knobs_say(overrides, row_id, status):
    row = next(row for row in routing.method_rows() if row["id"] == row_id)
    assert answered_by_the_reference(overrides, routing.method_request("k", row, "GET", USERS)) == status


@pytest.mark.suite_run
def test_after_a_delete_served_without_credentials_the_later_rows_are_not_sent():
    """The run's key is gone after the first served delete: a later row's 404 would prove nothing."""
    broken = Behaviour(
        flow="access-key", key_limit=None, method_routing="override-honoured", auth_only_for_documented_method=True
    )
    with start(broken) as reference:
        run = run_suite(reference.base_url, "dce5", reference.credentials, "-k", "no_method and key-delete")
    assert run.report is not None, run.output_tail
    # The rows the selection ran: the report also lists every test -k left out, as not judged.
    tests = {
        test["nodeid"]: test
        for row in run.report["requirements"]
        for test in row["tests"]
        if row["id"] == "AUTH-ANY-METHOD" and "key-delete" in test["nodeid"]
    }
    failed = [nodeid for nodeid, test in tests.items() if test["outcome"] == "failed"]
    assert len(failed) == 1, run.output_tail
    not_sent = [test for test in tests.values() if test["reason"].startswith("not sent: the key was already deleted")]
    assert not_sent and all(test["outcome"] == "skipped" for test in not_sent)
    # The one row besides: the unknown method, sent before the first override, was not served.
    assert len(failed) + len(not_sent) + 1 == len(tests)
