"""The deployment's clock, read from its own answers: every time judgement the suite makes of a
deployment (an expiredAt it sends, how long it waits for one to pass, what is already past, when a
kept token is due) is made on it, never on the runner's. On-premises deployments are often minutes
apart from a CI runner.

An answer dates itself: its Date header (RFC 9110 section 6.6.1: an origin server with a clock MUST
send one), written to the second, stamped somewhere between the moment the runner sent the request
and the moment the answer's headers came. Each answer so bounds the offset between the two clocks,
and the exchanges the run makes anyway keep it known, at no request of its own. A deployment that
sends no Date still shows its time in what it issues: the iat of a fresh token, the createdAt of the
key it has just created (epoch milliseconds or RFC 3339). A reading says which it came from.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_tz
from typing import TYPE_CHECKING

from ghippo_conformance import jws

if TYPE_CHECKING:
    from ghippo_conformance.deployment.http import Exchange

DATE_HEADER = "its Date header"
ISSUED_AT = "the iat of a token it had just issued"
CREATED_AT = "the createdAt of a key it had just created"
# The best source first: a reading comes from the best one the clock has seen. Date is the clock the
# deployment states; the others are what it stamped, read only when it states none.
_SOURCES = (DATE_HEADER, ISSUED_AT, CREATED_AT)
# Answers whose stamps are kept per source: enough to narrow the offset below Date's one second,
# few enough that a clock stepped mid-run is forgotten within a few requests.
_KEPT = 16
_DECIMAL = re.compile(r"[0-9]{1,16}")
# A decimal createdAt above this is milliseconds (from 1973 on), at or below it seconds (to 5138).
_MILLISECONDS_FROM = 1e11
_FRACTION = re.compile(r"\.([0-9]+)")


def moment(epoch_s: float) -> str:
    """An epoch time as RFC 3339 UTC, to the second."""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Stamp:
    """A time the deployment wrote: `at`, exact to `resolution_s` (the truth lies in [at, at + resolution_s))."""

    at: float
    resolution_s: float
    source: str


def date_of(exchange: Exchange) -> Stamp | None:
    """The answer's Date header, in any of the three forms RFC 9110 section 5.6.7 has recipients accept; None
    without one or when it cannot be read. HTTP dates are UTC whatever zone name they carry."""
    parsed = parsedate_tz(exchange.headers.get("date", ""))
    if parsed is None:
        return None
    try:
        written = datetime(*parsed[:6], tzinfo=UTC)  # refuses what parsedate_tz lets through, such as day 99
    except ValueError:
        return None
    return Stamp(written.timestamp() - (parsed[9] or 0), 1.0, DATE_HEADER)


def issued_at(exchange: Exchange) -> Stamp | None:
    """The iat of the token a 200 answer issued ({"token": <JWT>}): when the deployment issued it, by its clock."""
    token = jws.issued_jwt(exchange.status, exchange.json())
    if token is None:
        return None
    iat = jws.claims(token).get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        return None
    return Stamp(float(iat), 1.0, ISSUED_AT)  # a fraction, where written, may still be cut to the second


def created_at(value: object) -> Stamp | None:
    """A key's createdAt as the key list writes it: decimal epoch milliseconds (or seconds), or RFC 3339."""
    if not isinstance(value, str):
        return None
    if _DECIMAL.fullmatch(value):
        number = int(value)
        if number > _MILLISECONDS_FROM:
            return Stamp(number / 1000, 0.001, CREATED_AT)
        return Stamp(float(number), 1.0, CREATED_AT) if number else None  # "0": never set
    try:
        written = datetime.fromisoformat(value)
    except ValueError:
        return None
    if written.tzinfo is None:
        return None  # RFC 3339 requires an offset: without one the zone is anyone's guess
    fraction = _FRACTION.search(value)
    return Stamp(written.timestamp(), 10.0 ** -len(fraction.group(1)) if fraction else 1.0, CREATED_AT)


def stamp(exchange: Exchange) -> Stamp | None:
    """The deployment's time when it answered: its Date header, or else the iat of a token it issued in
    this answer, so that a deployment sending no Date cannot keep its clock unknown. None when neither."""
    return date_of(exchange) or issued_at(exchange)


@dataclass(frozen=True)
class Reading:
    """The deployment's clock at one moment of the runner's: between `earliest` and `latest`."""

    earliest: float
    latest: float
    runner_s: float
    source: str
    answers: int

    @property
    def uncertainty_s(self) -> float:
        return self.latest - self.earliest

    def __str__(self) -> str:
        middle = (self.earliest + self.latest) / 2
        offset = middle - self.runner_s
        if abs(offset) < 1:
            apart = "within a second of the runner's"
        else:
            apart = f"{abs(offset):.0f} s {'ahead of' if offset > 0 else 'behind'} the runner's"
        from_what = f"{self.source} ({self.answers} answers)" if self.answers > 1 else self.source
        return (
            f"{moment(middle)} ± {self.uncertainty_s / 2:.1f} s on the deployment's clock "
            f"({apart}), read from {from_what}"
        )


@dataclass(frozen=True)
class _Offset:
    """What one answer says of (deployment's clock − runner's clock)."""

    low: float
    high: float


class DeploymentClock:
    """The offset between the deployment's clock and the runner's, from the stamps of recent answers."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._offsets: dict[str, deque[_Offset]] = {source: deque(maxlen=_KEPT) for source in _SOURCES}
        self._lock = threading.Lock()

    def learn(self, exchange: Exchange, stamp: Stamp | None) -> None:
        """Keep what `stamp`, written while `exchange` was under way, says of the deployment's clock."""
        if stamp is None or exchange.answered_within is None:
            return
        sent_at, answered_at = exchange.answered_within
        with self._lock:
            self._offsets[stamp.source].append(_Offset(stamp.at - answered_at, stamp.at + stamp.resolution_s - sent_at))

    def learn_date(self, exchange: Exchange) -> None:
        self.learn(exchange, date_of(exchange))

    def now(self) -> Reading | None:
        """The deployment's clock now, from the best source seen; None when no answer has shown it.

        The stamps of one source are intersected (each bounds the same offset); should they not overlap,
        the clock stepped or several clocks answer (replicas behind a load balancer), and the reading
        spans them all."""
        with self._lock:
            source = next((source for source in _SOURCES if self._offsets[source]), None)
            offsets = list(self._offsets[source]) if source else []
        if not offsets:
            return None
        low, high = max(o.low for o in offsets), min(o.high for o in offsets)
        if low > high:
            low, high = min(o.low for o in offsets), max(o.high for o in offsets)
        runner_s = self._wall()
        return Reading(runner_s + low, runner_s + high, runner_s, source, len(offsets))

    def sleep_until_past(self, deployment_s: float) -> None:
        """Return once the deployment's clock has surely passed `deployment_s` (at once if it has never been read)."""
        reading = self.now()
        if reading is not None:
            time.sleep(max(0.0, deployment_s - reading.earliest))
