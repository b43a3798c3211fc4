"""Reading a compact JWS (a JWT) without trusting it: its header and claims as the deployment wrote them.

Below both the deployment layer (its clock reads the iat a token was issued with) and the checks
(checks/tokens.py forges from these), so that neither imports the other for it.
"""

from __future__ import annotations

import base64
import json
from typing import Any


def b64decode(segment: str) -> bytes:
    """A base64url segment, its padding restored."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def is_compact_jws(token: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return False
    try:
        return all(isinstance(json.loads(b64decode(p)), dict) for p in parts[:2])
    except ValueError:
        return False


def header(token: str) -> dict[str, Any]:
    return json.loads(b64decode(token.split(".")[0]))


def claims(token: str) -> dict[str, Any]:
    return json.loads(b64decode(token.split(".")[1]))


def issued_jwt(status: int, body: Any) -> str | None:
    """The JWT a token answer hands out: a 200 whose JSON body is {"token": <compact JWS>, …}; None otherwise."""
    token = body.get("token") if status == 200 and isinstance(body, dict) else None
    return token if isinstance(token, str) and is_compact_jws(token) else None
