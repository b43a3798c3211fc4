"""The bearer-attack catalogue as one batch: every case of its tables built, sent once, answers kept.

The tables (fixtures/cases/*.toml, listed in FORGERY_TABLES and beside them) say what each
request carries; here they become requests to the users list (each verifier code path needs one hit,
not one per operation), the classic cases (every_protected_read) to each protected read operation,
sent side by side by checks/batch.py; the tests then each judge the answers to their own table's
rows. A row marked key_slots would create a key on a deployment that accepts it: it stays out of the
batch and is sent on its own (`create_with_bearer_in_form`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from ghippo_conformance.checks import batch, cases, expect, forgeries, tokens
from ghippo_conformance.deployment.http import Api, Exchange
from ghippo_conformance.deployment.keys import KeyLedger

# Tables whose rows are forged tokens sent as the bearer (their `forge` column is a recipe).
FORGERY_TABLES = ("embedded-key", "alg-pinned", "kid-injection", "tampered", "alg-none", "alg-confusion", "foreign-key")
# What a deployment may do instead of answering an oversized header: close the connection.
_CLOSED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


@dataclass
class Answers:
    """The outcomes of the catalogue's requests, by (table, row id), each with its label."""

    by_case: dict[tuple[str, str], list[tuple[str, batch.Outcome]]] = field(default_factory=lambda: defaultdict(list))
    not_forged: dict[tuple[str, str], str] = field(default_factory=dict)

    def of(self, table: str, case: dict) -> list[tuple[str, batch.Outcome]]:
        """The answers to one row; skips the test when the row could not be forged here."""
        key = (table, case["id"])
        if key in self.not_forged:
            pytest.skip(f"cannot forge {case['description']}: {self.not_forged[key]}")
        return self.by_case[key]

    def refused_every_time(self, profile: Any, table: str, case: dict) -> None:
        """Every answer to the row is the profile's unauthenticated status."""
        __tracebackhide__ = True
        for label, outcome in self.of(table, case):
            what = f"{case['description']} ({label})"
            expect.refused(outcome.answered(what), profile, what)


def params(table: str, *, sent_alone: bool) -> list:
    """A catalogue table's rows as test parameters: those the batch sends, or (sent_alone) those marked
    key_slots, which would create a key on a deployment that accepts them and are each sent on their own."""
    return [param for param in cases.params(table) if bool(param.values[0].get("key_slots")) == sent_alone]


def send_catalogue(api: Api, reads: Sequence[str], bearer: str, jwks: dict | None) -> Answers:
    """Every case of the catalogue sent once: to the first of the protected `reads` (the users list),
    or to each of them for a row marked every_protected_read."""
    answers, path = Answers(), reads[0]
    requests = [
        *_forgery_requests(reads, bearer, jwks, answers),
        *_single_credential_requests(path, bearer),
    ]
    return _answered(answers, batch.send_all(api, _spread(requests, _oversized_requests(path))))


def _answered(answers: Answers, outcomes: list[batch.Outcome]) -> Answers:
    for outcome in outcomes:
        group, case_id, label = outcome.request.key
        answers.by_case[(group, case_id)].append((label, outcome))
    return answers


def _forgery_requests(reads: Sequence[str], bearer: str, jwks: dict | None, answers: Answers) -> list[batch.Request]:
    requests = []
    for table in FORGERY_TABLES:
        for case in cases.load(table):
            try:
                forged = forgeries.forge(case["forge"], bearer, jwks)
            except forgeries.CannotForge as reason:
                answers.not_forged[(table, case["id"])] = str(reason)
                continue
            paths = reads if case.get("every_protected_read") else reads[:1]
            requests += [
                batch.Request((table, case["id"], f"{label}, GET {path}"), path, {"bearer": token})
                for label, token in forged
                for path in paths
            ]
    return requests


def _single_credential_requests(path: str, bearer: str) -> list[batch.Request]:
    requests = []
    for case in cases.load("single-credential"):
        if case.get("key_slots"):
            continue  # sent on its own by create_with_bearer_in_form
        query = {"access_token": bearer} if case["access_token"] == "query" else None
        arguments = {"headers": _authorization_headers(case, bearer), "params": query}
        requests.append(batch.Request(("single-credential", case["id"], _label(case)), path, arguments))
    return requests


def create_with_bearer_in_form(api: Api, profile: Any, ledger: KeyLedger, bearer: str, case: dict) -> Exchange:
    """The operation that creates a key, with the bearer in the access_token field of a form-encoded
    body (RFC 6750 section 2.2) and the row's Authorization headers. A deployment that takes the
    bearer creates the key: it carries the run's name, so the ledger adopts it and deletes it at once,
    freeing its slot for the key checks (and the run-end sweep finds it should the delete fail)."""
    name = f"{ledger.prefix}{case['id']}-bearer"
    form = {"access_token": bearer, "name": name, "expiredAt": ""}
    exchange = api.send("POST", profile.paths.create_key, form=form, headers=_authorization_headers(case, bearer))
    ledger.undo_if_created(exchange, name)
    return exchange


def _authorization_headers(case: dict, bearer: str) -> list[tuple[str, str]]:
    """The row's Authorization headers, in order: the session's bearer ("valid") or a foreign-signed copy."""
    presented = {"valid": bearer, "invalid": tokens.signed_with_foreign_key(bearer)}
    return [("Authorization", f"Bearer {presented[which]}") for which in case["authorization"]]


def _label(case: dict) -> str:
    return " + ".join(case["authorization"]) or "no header"


def _oversized_requests(path: str) -> list[batch.Request]:
    return [
        batch.Request(("oversized", case["id"], f"{case['kib']} KiB"), path, {"bearer": "A" * (case["kib"] * 1024)})
        for case in cases.load("oversized")
    ]


def _spread(requests: list[batch.Request], apart: Sequence[batch.Request]) -> list[batch.Request]:
    """`requests` with each of `apart` placed at evenly spaced positions. A deployment may close the
    connection on an oversized header, and the HTTP helper takes three transport failures in a row
    for a deployment that stopped answering: answers in between keep them from coming in a row."""
    spread = list(requests)
    step = len(spread) // max(len(apart), 1) + 1
    for number, request in enumerate(apart):
        spread.insert(min(number * step, len(spread)), request)
    return spread


def closed_connection(outcome: batch.Outcome) -> bool:
    """Whether the deployment closed the connection instead of answering (not a timeout)."""
    return isinstance(outcome.error, _CLOSED)
