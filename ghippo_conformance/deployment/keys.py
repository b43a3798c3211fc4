"""The keys this run creates on the deployment, and nothing else.

Every key is named `<prefix>-<run id>-<purpose>` and remembered by id; `delete_created` removes
exactly those. Keys the user held before the run are never touched.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

from ghippo_conformance.deployment import clock
from ghippo_conformance.deployment.http import Api, Exchange
from ghippo_conformance.deployment.profile import Section

# RFC 3339 expiredAt values are written with an offset other than Z (China Standard Time, where DCE is
# mostly deployed): a deployment that drops the offset then reads a time eight hours late, and the key
# outlives its expiredAt, which KEY-EXPIRY sees; with Z the same mistake would go unnoticed.
_WRITTEN_ZONE = timezone(timedelta(hours=8))


def expired_at(profile: Section, epoch_s: int) -> str:
    """An expiredAt value in the profile's format, for a time on the deployment's clock."""
    if profile.keys.expired_at_format == "rfc3339":
        return datetime.fromtimestamp(epoch_s, _WRITTEN_ZONE).isoformat(timespec="seconds")
    return str(epoch_s)


class KeyLedger:
    def __init__(self, api: Api, profile: Section, bearer: str, run_id: str) -> None:
        self._api = api
        self._profile = profile
        self._bearer = bearer
        self.prefix = f"{profile.keys.name_prefix}-{run_id}-"
        self.created: dict[str, str] = {}  # id -> name

    def list(self) -> Exchange:
        return self._api.get(self._profile.paths.list_keys, bearer=self._bearer)

    def held(self) -> list[dict[str, Any]]:
        """The keys the user holds now (an empty list if the list cannot be read)."""
        return keys_listed(self.list()) or []

    def held_for_certain(self) -> dict[str, str]:
        """id -> name of every key the user holds now; KeysUnreadable when the list cannot be read,
        since an unreadable list must never pass for an empty one."""
        exchange = self.list()
        keys = keys_listed(exchange) if exchange.status == 200 else None
        if keys is None:
            raise KeysUnreadable(f"the key list could not be read\n{exchange.evidence()}")
        return {str(key.get("id")): str(key.get("name", "")) for key in keys}

    def free_slots(self) -> int | None:
        """How many more keys the user may hold, or None when the profile sets no limit."""
        limit = self._profile.keys.get("limit")
        return None if limit is None else limit - len(self.held())

    def _slot_free(self) -> bool:
        free = self.free_slots()
        return free is None or free > 0

    def create(self, purpose: str, *, expires_at: int | None = None) -> Exchange:
        """Create a key; `expires_at` is epoch seconds on the deployment's clock (deployment_now)."""
        name = self.prefix + purpose
        body = {"name": name, "expiredAt": "" if expires_at is None else expired_at(self._profile, expires_at)}
        exchange = self._api.send("POST", self._profile.paths.create_key, json_body=body, bearer=self._bearer)
        self.adopt(exchange, name)
        if exchange.status == 200:
            self._api.clock.learn(exchange, clock.issued_at(exchange))  # an access key's iat: when it was made
        return exchange

    def deployment_now(self) -> clock.Reading | None:
        """The deployment's clock now: from the Date headers of the run's answers, or, where it sends none,
        from a key created to read it (its access key's iat, or its createdAt in the key list) and deleted
        at once. None when it shows its time nowhere, or no key can be created to read it."""
        deployment_clock = self._api.clock
        if deployment_clock.now() is None and self._slot_free():
            made = self.create("clock")
            created = made.json() if made.status == 200 else None
            if isinstance(created, dict) and isinstance(created.get("id"), str):
                if deployment_clock.now() is None:
                    listed = [key for key in self.held() if key.get("id") == created["id"]]
                    deployment_clock.learn(made, clock.created_at(listed[0].get("createdAt")) if listed else None)
                self.delete(created["id"])
        return deployment_clock.now()

    def create_at_once(self, *purposes: str) -> list[Exchange]:
        """One create per purpose, sent side by side: a limit must hold for creates that race."""
        with ThreadPoolExecutor(max_workers=len(purposes), thread_name_prefix="create") as pool:
            return list(pool.map(self.create, purposes))

    def adopt(self, exchange: Exchange, name: str) -> None:
        """Remember a key an exchange created, so teardown removes it whatever the test did."""
        body = exchange.json()
        if exchange.status < 300 and isinstance(body, dict) and isinstance(body.get("id"), str):
            self.created[body["id"]] = name

    def undo_if_created(self, exchange: Exchange, name: str) -> None:
        """A create that should have been refused: a key it made anyway is adopted and deleted at once,
        freeing its slot for the key checks (and the run-end sweep finds it should the delete fail)."""
        self.adopt(exchange, name)
        body = exchange.json() if exchange.status < 300 else None
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            self.delete(body["id"])

    def delete(self, key_id: str) -> Exchange:
        exchange = self._api.send("DELETE", self._profile.paths.delete_key.format(id=key_id), bearer=self._bearer)
        if exchange.status < 300:
            self.created.pop(key_id, None)
        return exchange

    def delete_created(self) -> None:
        """Delete every key this run created (what survives, the run-end sweep reports)."""
        for key_id in list(self.created):
            self.delete(key_id)


class KeysUnreadable(Exception):
    """The deployment's key list answered something that is not a key list."""


def keys_listed(exchange: Exchange) -> list[dict[str, Any]] | None:
    """The keys a key list answer lists (its items that are objects); None when it has no items list."""
    body = exchange.json()
    items = body.get("items") if isinstance(body, dict) else None
    return [k for k in items if isinstance(k, dict)] if isinstance(items, list) else None


def authenticate_with(api: Api, profile: Section, created: dict[str, Any]) -> Exchange:
    """Use a created key the way its flow does: exchange the pair for a token (AK/SK flow), or
    present the key as the bearer (access-key flow). 200 means the key still works."""
    if profile.flow == "aksk":
        return api.get(profile.paths.token, params={"ak": created["id"], "sk": created["token"]})
    return api.get(profile.paths.users, params={"pageSize": 1}, bearer=created["token"])


def session_cookies(exchange: Exchange) -> str | None:
    """The cookies an answer set, as a Cookie header sends them back ("a=1; b=2"), or None when it set
    none. The HTTP helper keeps no cookie: a check that means to present one replays it explicitly."""
    pairs = [value.split(";", 1)[0].strip() for value in exchange.headers.get_list("set-cookie")]
    return "; ".join(pair for pair in pairs if "=" in pair) or None


def key_refused(api: Api, profile: Section, created: dict[str, Any], cookies: str | None) -> bool:
    """Whether the key is refused (a 4xx), and so, without an Authorization header, are the session
    cookies an answer to the key set (a console's session is a credential the key handed out)."""
    if authenticate_with(api, profile, created).status not in range(400, 500):
        return False
    return cookies is None or api.get(
        profile.paths.users, params={"pageSize": 1}, headers=[("Cookie", cookies)]
    ).status in range(400, 500)
