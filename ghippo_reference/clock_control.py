"""Moving a reference deployment's clock for one request: how the suite judges in one run what a real
deployment makes it wait a day for (a token refused once its exp has passed, AUTH-EXPIRED-OWN).

A request carrying CLOCK_HEADER, valued "<seconds> <clock key>", is answered as if the deployment's clock
ran that many seconds ahead (behind, when negative): its Date header and every exp it judges. Only that
request sees the clock moved: requests answered meanwhile (another xdist worker's) do not. A value
without the key is ignored, so that nobody but whoever started the reference can move its clock.
"""

import functools
import hmac
import math
import secrets

CLOCK_HEADER = "ghippo-reference-clock"


@functools.cache
def clock_key() -> str:
    """The key of CLOCK_HEADER, one per process as the signing key is: every reference this process starts
    honours it, and whoever started them (the suite's plugin, a self-test, the kill matrix) can hand it
    to the suite runs it starts; nobody else knows it."""
    return secrets.token_urlsafe(24)


def clock_moved(key: str, seconds: float) -> tuple[str, str]:
    """The header that moves a reference's clock by `seconds` for one request."""
    return CLOCK_HEADER, f"{seconds:.0f} {key}"


def requested_offset_s(headers: list[tuple[bytes, bytes]]) -> float:
    """The offset the CLOCK_HEADER of a request's (ASGI) headers asks for; 0 without it or without the key."""
    value = next((v.decode("latin-1") for name, v in headers if name == CLOCK_HEADER.encode()), "")
    seconds, _, key = value.partition(" ")
    if not hmac.compare_digest(key.encode(), clock_key().encode()):
        return 0.0
    try:
        offset = float(seconds)
    except ValueError:
        return 0.0
    return offset if math.isfinite(offset) else 0.0
