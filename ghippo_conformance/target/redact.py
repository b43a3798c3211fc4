"""Keeps secrets (SK, access keys, bearer tokens) out of everything the suite writes."""

import re

_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.([A-Za-z0-9_-]{16,})$")
_SHORTEST_SECRET = 8
# Secrets also arrive cut: pytest shortens the reprs of a test's arguments ('eyJh...W1w') and the
# evidence shortens long bodies. A run of secret characters this long that occurs inside a known
# secret is a piece of it; shorter runs are too likely to be innocent.
_FRAGMENT = re.compile(r"[A-Za-z0-9_-]{12,}")


# The settings and credentials that are secrets, by attribute name: the SK of a pair, an access key, a
# reference's clock key. An AK names a key pair and is shown.
SECRET_SETTINGS = ("sk", "access_key", "reference_clock")


def mask(secret: str) -> str:
    """What a report shows instead of a secret: enough to tell two secrets apart, no more."""
    return f"{secret[:4]}…[redacted, {len(secret)} chars]"


class Redactor:
    """A set of secrets, and the function that hides each of them, whole or cut, in any text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._haystack = ""  # every secret, newline-separated: one substring test finds a piece

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < _SHORTEST_SECRET or secret in self._secrets:
            return
        self._secrets.add(secret)
        # A JWT's signature is what makes it usable: a forged token keeps it, so hide it alone too.
        signature = _JWT.match(secret)
        if signature:
            self._secrets.add(signature.group(1))
        self._pattern = None

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def __call__(self, text: str) -> str:
        if not self._secrets or not text:
            return text
        if self._pattern is None:
            longest_first = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in longest_first))
            self._haystack = "\n".join(longest_first)
        whole_hidden = self._pattern.sub(lambda m: mask(m.group(0)), text)
        return _FRAGMENT.sub(self._mask_fragment, whole_hidden)

    def _mask_fragment(self, match: re.Match[str]) -> str:
        run = match.group(0)
        return mask(run) if run in self._haystack else run


def redactor_for(*holders: object) -> Redactor:
    """A redactor that knows every secret setting (SECRET_SETTINGS) of each holder (Settings, Credentials)."""
    redactor = Redactor()
    for holder in holders:
        for name in SECRET_SETTINGS:
            redactor.add(getattr(holder, name, None))
    return redactor
