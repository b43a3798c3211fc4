"""The keys this run creates on the deployment, and nothing else.

Every key is named `<prefix>-<run id>-<purpose>` and remembered by id; `delete_created` removes
exactly those. Keys the user held before the run are never touched.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ghippo_conformance.target.http import Api, Exchange
from ghippo_conformance.target.profile import Section


def expired_at(profile: Section, epoch_s: float) -> str:
    """An expiredAt value in the profile's format."""
    if profile.keys.expired_at_format == "rfc3339":
        return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(int(epoch_s))


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
        return _listed_keys(self.list()) or []

    def held_for_certain(self) -> dict[str, str]:
        """id -> name of every key the user holds now; KeysUnreadable when the list cannot be read,
        since an unreadable list must never pass for an empty one."""
        exchange = self.list()
        keys = _listed_keys(exchange) if exchange.status == 200 else None
        if keys is None:
            raise KeysUnreadable(f"the key list could not be read\n{exchange.evidence()}")
        return {str(key.get("id")): str(key.get("name", "")) for key in keys}

    def free_slots(self) -> int | None:
        """How many more keys the user may hold, or None when the profile sets no limit."""
        limit = self._profile.keys.get("limit")
        return None if limit is None else limit - len(self.held())

    def create(self, purpose: str, *, expires_in_s: float | None = None) -> Exchange:
        name = self.prefix + purpose
        body = {"name": name, "expiredAt": ""}
        if expires_in_s is not None:
            body["expiredAt"] = expired_at(self._profile, time.time() + expires_in_s)
        exchange = self._api.send("POST", self._profile.paths.create_key, json_body=body, bearer=self._bearer)
        self.adopt(exchange, name)
        return exchange

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


def _listed_keys(exchange: Exchange) -> list[dict[str, Any]] | None:
    body = exchange.json()
    items = body.get("items") if isinstance(body, dict) else None
    return [k for k in items if isinstance(k, dict)] if isinstance(items, list) else None


def authenticate_with(api: Api, profile: Section, created: dict[str, Any]) -> Exchange:
    """Use a created key the way its flow does: exchange the pair for a token (AK/SK flow), or
    present the key as the bearer (access-key flow). 200 means the key still works."""
    if profile.flow == "aksk":
        return api.get(profile.paths.token, params={"ak": created["id"], "sk": created["token"]})
    return api.get(profile.paths.users, params={"pageSize": 1}, bearer=created["token"])
