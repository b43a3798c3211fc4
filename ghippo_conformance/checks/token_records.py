"""Tokens kept from one run to the next, so that a later run can check the deployment refuses them
once their exp has passed (AUTH-EXPIRED-OWN): no single run can wait out the shortest lifetime the
AK/SK flow grants (cycle=1, a day). Until a kept token is due, the requirement is pending.

A record is a live credential until it expires: its file is created readable by its owner only,
its token is registered with the run's redactor (so it shows masked wherever the run writes), it is
deleted once checked, and a record that cannot be read is reported and removed, never trusted.
Records are kept per deployment (base URL) and user (the token's sub).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ghippo_conformance.checks import tokens
from ghippo_conformance.deployment.clock import moment
from ghippo_conformance.deployment.http import Api, Exchange
from ghippo_conformance.deployment.profile import Section
from ghippo_conformance.verdict.outcomes import Pending

_FOLDER = "expired-own"
_FIELDS = {"base_url": str, "sub": str, "exp": (int, float), "recorded_on": str, "token": str}


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@dataclass(frozen=True)
class TokenRecord:
    path: Path
    base_url: str
    sub: str
    exp: float
    recorded_on: str  # the deployment's clock when the token was issued
    token: str = field(repr=False)

    def checkable_after(self, skew_s: float) -> float:
        """When the deployment's clock must be past exp by more than any skew it is allowed."""
        return self.exp + skew_s

    def described(self) -> str:
        return f"a token of {self.sub} recorded on {self.recorded_on}, exp {moment(self.exp)}"


@dataclass(frozen=True)
class IssuedToken:
    """A JWT a token response holds, with the claims the expiry check needs."""

    token: str = field(repr=False)
    sub: str
    exp: float


def issued_token(issued: Exchange) -> IssuedToken | None:
    """The token of a token response; None when the answer holds no JWT with sub and exp."""
    token = tokens.issued_jwt(issued.status, issued.json())
    if token is None:
        return None
    claims = tokens.claims(token)
    if not (isinstance(claims.get("sub"), str) and isinstance(claims.get("exp"), int | float)):
        return None
    return IssuedToken(token, claims["sub"], claims["exp"])


def present(api: Api, profile: Section, token: str, *headers: tuple[str, str]) -> Exchange:
    """The token presented where AUTH-EXPIRED-OWN presents it: the users list in its plainest request, with
    no query (both parameters are optional), so that nothing but the token decides the answer."""
    return api.get(profile.paths.users, bearer=token, headers=headers)


class TokenRecords:
    """One deployment's token records in a state directory, read once when the run starts."""

    def __init__(
        self, state_dir: Path | None, base_url: str, add_secret: Callable[[str], None], *, disabled_because: str = ""
    ) -> None:
        """`state_dir` None (or a reason in `disabled_because`): the run records nothing and checks nothing."""
        self._base_url = base_url
        self._add_secret = add_secret
        self.disabled_because = disabled_because or ("" if state_dir else "--no-state: no token is recorded or checked")
        self._folder = None if self.disabled_because else state_dir / _FOLDER / _digest(base_url, 16)
        self.records: list[TokenRecord] = []
        self.problems: list[str] = []  # one sentence per record that could not be read and was removed
        if self._folder and self._folder.is_dir():
            for path in sorted(self._folder.glob("*.json")):
                self._read(path)

    def _read(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            wrong = [name for name, kind in _FIELDS.items() if not isinstance(data.get(name), kind)]
            if wrong or data["base_url"] != self._base_url:
                raise ValueError(f"missing or wrong fields: {', '.join(wrong) or 'base_url'}")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError) as error:
            path.unlink(missing_ok=True)
            self.problems.append(
                f"removed the token record {path}: it could not be read ({type(error).__name__}), "
                "and a record is never trusted unless whole"
            )
            return
        self._add_secret(data["token"])
        self.records.append(TokenRecord(path, **{name: data[name] for name in _FIELDS}))

    def due(self, api: Api, profile: Section, issued: Exchange, clock_s: float) -> list[TokenRecord]:
        """The records whose exp plus the profile's clock skew has passed at `clock_s` (the deployment's
        clock); the token `issued` is kept for a later run. Pending, with when the first record comes due,
        when none is due yet; skipped when none is recorded and this run could not keep one."""
        skew_s = profile.token.clock_skew_s
        due = [record for record in self.records if record.checkable_after(skew_s) < clock_s]
        kept = self.keep_issued(issued, clock_s)
        if due:
            return due
        earliest = self.earliest()
        if earliest is None:
            pytest.skip(
                f"no token is recorded for this deployment, and this run could not keep one: the short-lived "
                f"token request answered {issued.status} with no JWT holding sub and exp (TOKEN-CYCLE judges that)"
            )
        kept_now = "" if kept else f"; this run kept no token of its own (the token request answered {issued.status})"
        due_at = moment(earliest.checkable_after(skew_s))
        raise Pending(
            f"a token recorded on {earliest.recorded_on} expires at {moment(earliest.exp)}; run again after "
            f"{due_at} on the deployment's clock (now {moment(clock_s)}), keeping --state-dir{kept_now}",
            checkable_after=due_at,
        )

    def present(self, api: Api, profile: Section, record: TokenRecord) -> Exchange:
        """Present a due record's token; the record is deleted: the token has served its purpose."""
        answer = present(api, profile, record.token)
        self.forget(record)
        return answer

    def keep_issued(self, issued: Exchange, clock_s: float) -> TokenRecord | None:
        """Keep the token of a token response for a later run; None when the answer holds no JWT with sub and exp."""
        found = issued_token(issued)
        return None if found is None else self.add(found.token, found.sub, found.exp, clock_s)

    def earliest(self) -> TokenRecord | None:
        """The record that expires first: the next one a run can check."""
        return min(self.records, key=lambda record: record.exp, default=None)

    def add(self, token: str, sub: str, exp: float, recorded_on: float) -> TokenRecord:
        """Keep `token` for a later run, in a file only its owner can read (created so, never chmod-ed after)."""
        self._add_secret(token)
        self._folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._folder / f"{_digest(sub, 12)}-{int(exp)}-{secrets.token_hex(4)}.json"
        record = TokenRecord(path, self._base_url, sub, exp, moment(recorded_on), token)
        content = {name: getattr(record, name) for name in _FIELDS}
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(content, file)
        self.records.append(record)
        return record

    def forget(self, record: TokenRecord) -> None:
        """Delete a record once checked: the token has served its purpose."""
        record.path.unlink(missing_ok=True)
        self.records.remove(record)
