"""What one running reference holds: its behaviour, the seeded users, the keys, a request count.

The server thread and the caller's thread (`RunningReference.add_key`, `admin_key_ids`) both
touch this state, so every mutation happens under a lock.
"""

import itertools
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from ghippo_reference.behaviour import Behaviour
from ghippo_reference.users import Population, seeded_population


@dataclass(frozen=True)
class StoredKey:
    id: str
    owner_id: str
    name: str
    # The SK of a pair, or the access key itself.
    secret: str
    created_ms: int
    # Epoch seconds; None never expires.
    expires_at: int | None
    # Deleted keys stay as tombstones so that variants can keep honouring them.
    deleted: bool = False
    deleted_at: float = 0.0  # epoch seconds, for a deleted key

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class KeyStore:
    """Every user's keys, in creation order."""

    def __init__(self, behaviour: Behaviour):
        self._limit = behaviour.key_limit
        self._tombstones_hold_slots = not behaviour.release_slot_on_delete
        self._numbers = itertools.count(1001) if behaviour.key_id_style == "numeric" else None
        self._keys: dict[str, StoredKey] = {}
        self._lock = threading.Lock()

    def create(
        self,
        owner_id: str,
        name: str,
        created_ms: int,
        expires_at: int | None,
        make_secret: Callable[[str], str],
        *,
        enforce_limit: bool = True,
    ) -> StoredKey | None:
        """A new key whose secret is `make_secret(key_id)`; None when the owner is at the limit (unless
        the caller counted before and `enforce_limit` is off)."""
        with self._lock:
            if enforce_limit and not self._has_room(owner_id):
                return None
            key_id = str(next(self._numbers)) if self._numbers else str(uuid.uuid4())
            key = StoredKey(key_id, owner_id, name, make_secret(key_id), created_ms, expires_at)
            self._keys[key_id] = key
            return key

    def has_room(self, owner_id: str) -> bool:
        """Whether the owner may hold one more key now."""
        with self._lock:
            return self._has_room(owner_id)

    def _has_room(self, owner_id: str) -> bool:
        held = [key for key in self._keys.values() if key.owner_id == owner_id]
        if not self._tombstones_hold_slots:
            held = [key for key in held if not key.deleted]
        return self._limit is None or len(held) < self._limit

    def newest(self) -> StoredKey | None:
        """The last key made on the deployment, deleted or not."""
        with self._lock:
            return next(reversed(self._keys.values()), None)

    def live_keys(self, owner_id: str) -> list[StoredKey]:
        with self._lock:
            return [key for key in self._keys.values() if key.owner_id == owner_id and not key.deleted]

    def delete(self, owner_id: str, key_id: str) -> bool:
        """Whether the owner had that key (a key of someone else is as good as unknown)."""
        with self._lock:
            key = self._keys.get(key_id)
            if key is None or key.deleted or key.owner_id != owner_id:
                return False
            self._keys[key_id] = replace(key, deleted=True, deleted_at=time.time())
            return True

    def find(self, key_id: str) -> StoredKey | None:
        """The key with that id, deleted or not."""
        with self._lock:
            return self._keys.get(key_id)

    def find_live_by_secret(self, secret: str) -> StoredKey | None:
        with self._lock:
            return next((key for key in self._keys.values() if key.secret == secret and not key.deleted), None)


# Seconds the clock runs ahead of the deployment's for the request being answered: server.py sets it for
# a request that carries the clock key (clock_control.CLOCK_HEADER), so only that request sees the clock moved.
REQUEST_CLOCK_OFFSET_S: ContextVar[float] = ContextVar("request_clock_offset_s", default=0.0)


@dataclass
class Deployment:
    behaviour: Behaviour
    users: Population = field(init=False)
    keys: KeyStore = field(init=False)
    _requests: int = field(init=False, default=0)
    # The jti of the first token issued for each AK/SK pair, by the pair's AK.
    _first_tokens: dict[str, str] = field(init=False, default_factory=dict)
    # The last bearer issued to each user (a token of the pair exchange, or an access key), by user id.
    _last_bearers: dict[str, str] = field(init=False, default_factory=dict)
    # Seconds the deployment's clock runs ahead of the host's (negative: behind): Behaviour.clock_offset_s
    # when it starts; a self-test moves it while the deployment runs, to let days pass between two runs.
    _clock_offset_s: float = field(init=False, default=0.0)
    # The console's web sessions (Behaviour.session_cookie): cookie value -> the credential it was opened with.
    _sessions: dict[str, str] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.users = seeded_population(self.behaviour.user_count)
        self.keys = KeyStore(self.behaviour)
        self._clock_offset_s = float(self.behaviour.clock_offset_s)

    def count_request(self) -> None:
        with self._lock:
            self._requests += 1

    @property
    def request_count(self) -> int:
        with self._lock:
            return self._requests

    def now(self) -> float:
        """The deployment's clock, in epoch seconds: what its Date header says and its tokens' exp is judged by."""
        with self._lock:
            return time.time() + self._clock_offset_s + REQUEST_CLOCK_OFFSET_S.get()

    def expiry_now(self) -> float:
        """The clock expiry is judged by: the deployment's, unless Behaviour.expiry_clock_behind_s sets it back."""
        return self.now() - self.behaviour.expiry_clock_behind_s

    def open_session(self, credential: str) -> str:
        """A new session cookie value for a request `credential` authenticated."""
        session = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[session] = credential
        return session

    def session_credential(self, session: str) -> str | None:
        """The credential the session `session` was opened with; None for a session never opened."""
        with self._lock:
            return self._sessions.get(session)

    def advance_clock(self, seconds: float) -> None:
        """Move the deployment's clock by `seconds` (back, when negative)."""
        with self._lock:
            self._clock_offset_s += seconds

    def note_token(self, key_id: str, jti: str) -> bool:
        """Record a token issued for the pair `key_id`; whether it is the pair's first."""
        with self._lock:
            return self._first_tokens.setdefault(key_id, jti) == jti

    def note_bearer_issued(self, user_id: str, bearer: str) -> None:
        with self._lock:
            self._last_bearers[user_id] = bearer

    def last_bearer_issued(self, user_id: str) -> str:
        with self._lock:
            return self._last_bearers.get(user_id, "")

    def is_first_token(self, jti: str) -> bool:
        with self._lock:
            return jti in self._first_tokens.values()

    def usable_key(self, key_id: str) -> StoredKey | None:
        """The key if it may still authenticate: neither deleted nor expired, unless a variant says so."""
        key = self.keys.find(key_id)
        if key is None:
            return None
        cached = time.time() - key.deleted_at < self.behaviour.deleted_key_cached_s
        if key.deleted and not (self.behaviour.deleted_key_works or cached):
            return None
        if key.expired(self.expiry_now()) and not self.behaviour.expired_key_works:
            return None
        return key
