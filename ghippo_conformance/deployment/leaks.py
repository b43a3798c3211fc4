"""Secrets in answers that were not given them (API-NO-SECRET-LEAK), looked for in every answer.

A leak is a secret the run knows (the redactor's: the SK, the access key, every token and key secret
the deployment handed out, each JWT's signature) in the body or a header of an answer, unless
- the request that drew the answer carried it: a refusal that repeats the presented token is
  AUTH-NO-ECHO's concern (a SHOULD), and an answer can disclose nothing its asker sent; or
- the answer hands it out: the `token` field of a 2xx answer to an operation that issues secrets
  (creating a key, exchanging a pair for a token), and any secret inside that value (a JWT's
  signature). A token endpoint may hand out the same still-valid token twice.
Only secrets of MIN_JUDGED_LENGTH characters or more are judged: an operator's short SK could equal
an unrelated value by chance.

The forms looked for are those a deployment writes a value in without meaning to hide it: as it is
(in a header, in the raw body, in a JSON string once its escapes are read), percent-encoded (a
Location or Set-Cookie value) and base64 or base64url at any of the three alignments (inside a JWT's
claims, a readable session cookie, a Kubernetes Secret's data). A part of a secret is not a leak:
consoles show a prefix or the last four characters to tell keys apart, and every JWT a deployment
signs shares its header segment with the others; a JWT's signature, which with the readable header
and claims rebuilds the token, is a secret of its own.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus, urlsplit

from ghippo_conformance.deployment.inert import inert

if TYPE_CHECKING:
    from ghippo_conformance.deployment.http import Exchange
    from ghippo_conformance.deployment.redact import Redactor

MIN_JUDGED_LENGTH = 16
# What a failure is recorded under when the run's watch, not a test, saw the leak.
WATCHED = "the run's answers"
_SHOWN_VALUE = 200  # characters of the field or header that carries a leak, shown as evidence
# Characters of a body searched: a leak sits in a record or a debug field, not a mebibyte in, and a
# hostile deployment's large bodies must not make every answer cost seconds.
_SEARCHED = 1 << 20
_KEPT = 500  # leaks held between two reads by the plugin; more of them say nothing new
_NAMED = 5  # of the answers and tests that showed one leak, those its failure names
_URLSAFE = str.maketrans("+/", "-_")
_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Leak:
    what: str  # "the SK"
    form: str  # "as it is", "base64-encoded", "as it is, percent-encoded"
    place: str  # "header X-Debug-Token", "body field items[0].accessKeys[0].secret", "the body"
    operation: str  # "GET /apis/ghippo.io/v1alpha1/users"
    status: int
    during: str  # the test (or the part of the run) that sent the request
    shown: str  # the exchange and the value that carries the secret, redacted and inert

    @property
    def sentence(self) -> str:
        return f"{self.what} ({self.form}) in {self.place}"

    def report(self) -> str:
        """The leak as text (a test report's property carries it to the xdist controller): what leaked
        where, the answer, when it was met, the evidence; `failures` reads it back."""
        answer = f"the {self.status} answer to {self.operation}"
        return f"{self.sentence}\n  {_ANSWER}{answer}\n  {_DURING}{self.during}\n{self.shown}"


_ANSWER, _DURING = "in: ", "during: "


class LeakWatch:
    """Looks for known secrets in every answer `Api.send` receives, and keeps what it finds until
    the plugin reads it (after each phase of each test) or the run's end does."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._issuing: frozenset[tuple[str, str]] = frozenset()
        self._found: list[Leak] = []
        self._lock = threading.Lock()
        # What the requests are sent for; the plugin names each test as it starts.
        self.during = "the session-start check"

    def issued_by(self, *operations: tuple[str, str]) -> None:
        """The (method, path) of the operations whose 2xx answers hand out a secret in `token`."""
        self._issuing = frozenset(operations)

    def inspect(self, exchange: Exchange) -> tuple[Leak, ...]:
        """The leaks in one answer, kept for the run as well."""
        known = {s: what for s, what in self._redactor.labelled().items() if len(s) >= MIN_JUDGED_LENGTH}
        if not known:
            return ()
        answer = _Answer(exchange)
        hits = {secret: hit for secret in known if (hit := answer.find(secret)) is not None}
        # Every spelling found is hidden, a sent or handed-out secret's too: evidence shows none.
        self._redactor.hide(*(needle for needle, *_ in hits.values()))
        path = urlsplit(exchange.url).path
        sent, issued = _sent_text(exchange), self._issued(exchange, path)
        judged = {secret: hit for secret, hit in hits.items() if secret not in sent and secret not in issued}
        found = []
        for secret, (_, form, place, value) in judged.items():
            if any(secret in other for other in judged if other != secret):
                continue  # a JWT's signature inside the leaked JWT: one leak, the whole token
            shown = inert(self._redactor(f"{exchange.evidence()}\n  {place}: {value[:_SHOWN_VALUE]}"))
            operation = f"{exchange.method} {path}"
            found.append(Leak(known[secret], form, place, operation, exchange.status, self.during, shown))
        with self._lock:
            self._found += found[: max(0, _KEPT - len(self._found))]
        return tuple(found)

    def take(self) -> list[Leak]:
        """The leaks found since the last call."""
        with self._lock:
            found, self._found = self._found, []
        return found

    def judged(self, exchange: Exchange) -> tuple[Leak, ...]:
        """The leaks of one answer, which a test judges itself: the run does not report them again."""
        with self._lock:
            self._found = [leak for leak in self._found if not any(leak is own for own in exchange.leaks)]
        return exchange.leaks

    def _issued(self, exchange: Exchange, path: str) -> str:
        if (exchange.method, path) not in self._issuing or not 200 <= exchange.status < 300:
            return ""
        body = exchange.json()
        token = body.get("token") if isinstance(body, dict) else None
        return token if isinstance(token, str) else ""


def carried(exchange: Exchange, secret: str) -> str | None:
    """Where and how an answer carries `secret` ("as it is, in header X-Debug-Token"), or None; the
    spelling found is hidden in evidence from then on."""
    hit = _Answer(exchange).find(secret)
    if hit is None:
        return None
    needle, form, place, _ = hit
    exchange.redact.hide(needle)
    return f"{form}, in {place}"


def failures(reports: Iterable[str]) -> list[str]:
    """One failure's evidence per secret and place among the run's leak reports (Leak.report()): how
    many answers showed it, to which operations, during which tests, and the first answer's exchange."""
    grouped: dict[str, list[tuple[str, str, str, str]]] = {}
    for report in reports:
        sentence, answer, during, shown = report.split("\n", 3)
        key = _INDEX.sub("[]", sentence)
        grouped.setdefault(key, []).append((sentence, answer.strip(), during.strip(), shown))
    evidence = []
    for key, group in grouped.items():
        seen = f" of {len(group)} answers" if len(group) > 1 else ""
        answers = _named(part[1].removeprefix(_ANSWER) for part in group)
        during = _named(part[2].removeprefix(_DURING) for part in group)
        evidence.append(f"{key}{seen}\n  {_ANSWER}{answers}\n  {_DURING}{during}\n{group[0][3]}")
    return evidence


def _named(values: Iterable[str]) -> str:
    distinct = list(dict.fromkeys(values))
    return "; ".join(distinct[:_NAMED]) + ("; …" if len(distinct) > _NAMED else "")


@cache
def forms(secret: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The spellings of `secret` looked for, by form: itself, and the characters of its base64 and
    base64url encodings that depend on its bytes alone, at each of the three alignments it may
    start at inside a longer encoded value."""
    data = secret.encode()
    encoded = set()
    for offset in range(3):
        text = base64.b64encode(bytes(offset) + data).decode("ascii")
        # Character i stands for bits 6i to 6i+6: keep those within the secret's bytes.
        interior = text[-(-8 * offset // 6) : 8 * (offset + len(data)) // 6]
        encoded |= {interior, interior.translate(_URLSAFE)}
    return (("as it is", (secret,)), ("base64-encoded", tuple(sorted(encoded))))


class _Answer:
    """An answer's body and headers as text to search, read once."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        body, headers = exchange.text[:_SEARCHED], "\n".join(f"{k}: {v}" for k, v in exchange.headers.multi_items())
        self._body = exchange.json() if len(exchange.text) <= _SEARCHED else None
        decoded_strings = "\n".join(s for _, s in _strings(self._body)) if "\\" in body else ""
        raw = f"{body}\n{decoded_strings}\n{headers}"
        self._haystack = f"{raw}\n{unquote_plus(raw)}" if "%" in raw else raw

    def find(self, secret: str) -> tuple[str, str, str, str] | None:
        """The spelling found, its form, where and in what value; None when the answer does not carry it."""
        for form, needles in forms(secret):
            for needle in needles:
                if needle in self._haystack:
                    place, value, decoded = self._locate(needle)
                    return needle, form + (", percent-encoded" if decoded else ""), place, value
        return None

    def _locate(self, needle: str) -> tuple[str, str, bool]:
        places = [
            *((f"body field {path}", value) for path, value in _strings(self._body)),
            *((f"header {name}", value) for name, value in self._exchange.headers.multi_items()),
            ("the body", self._exchange.text[:_SEARCHED]),
        ]
        for decoded in (False, True):
            for place, value in places:
                if needle in (unquote_plus(value) if decoded else value):
                    return place, value, decoded
        return "the body", self._exchange.text[:_SEARCHED], False


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    """Every string of a JSON value, object keys included, with its path; iterative, so a deeply
    nested body cannot exhaust the stack."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            yield path or "(the whole body)", item
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                yield f"{child_path} (its name)", str(key)
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", child) for index, child in enumerate(item))


def _sent_text(exchange: Exchange) -> str:
    """Everything the request carried, as one text to test whether it carried a secret."""
    body = json.dumps(exchange.request_body, ensure_ascii=False) if exchange.request_body is not None else ""
    form = "\n".join(f"{k}={v}" for k, v in (exchange.request_form or {}).items())
    headers = "\n".join(value for _, value in exchange.request_headers)
    return "\n".join((exchange.url, unquote_plus(exchange.url), headers, body, form))
