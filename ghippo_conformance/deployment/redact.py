"""Keeps secrets (SK, access keys, bearer tokens) out of everything the suite writes."""

import re
from urllib.parse import quote, quote_plus

_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.([A-Za-z0-9_-]{16,})$")
_SHORTEST_SECRET = 8
# Secrets also arrive cut (pytest shortens the reprs of a test's arguments, 'eyJh...W1w'; the evidence
# shortens long bodies) or almost whole (a near miss the suite presents: one character changed, one
# short). A run of secret characters (base64's alphabet too, as in a PEM line) that shares this many
# characters in a row with a known secret is a piece of it; fewer are too likely to be innocent.
_PIECE = 12
_RUN = re.compile(rf"[A-Za-z0-9_+/-]{{{_PIECE},}}")
UNNAMED = "a secret the run holds"
# Every phase of every test has its report redacted, mostly the same few dozen short strings (a run
# redacts some 3,800 strings, 77 of them distinct): short ones are remembered until a secret is added.
_REMEMBERED = 4096
_REMEMBERED_CHARS = 1024


# The settings and credentials that are secrets, by attribute name: the SK of a pair, an access key, a
# reference's clock key. An AK names a key pair and is shown.
SECRET_SETTINGS = {"sk": "the SK", "access_key": "the access key", "reference_clock": "the reference's clock key"}


def mask(secret: str) -> str:
    """What a report shows instead of a secret: enough to tell two secrets apart, no more."""
    return f"{secret[:4]}…[redacted, {len(secret)} chars]"


class Redactor:
    """A set of secrets, each with what it is, and the function that hides each of them, whole, cut
    or encoded, in any text."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}  # secret -> what it is ("the SK")
        # Other spellings of a secret, hidden as the secret is: its percent-encodings (a request's
        # URL shows a query value so), and any encoding of it an answer was found to carry.
        self._spellings: set[str] = set()
        # The secrets and spellings, longest first (a longer secret may hold a shorter one); None after a change.
        self._longest_first: list[str] | None = None
        self._pieces: set[str] = set()  # every run of _PIECE characters of a secret or its spellings
        self._answers: dict[str, str] = {}

    def add(self, secret: str | None, what: str = UNNAMED) -> None:
        if not secret or len(secret) < _SHORTEST_SECRET or secret in self._secrets:
            return
        self._secrets[secret] = what
        self._pieces.update(_pieces_of(secret))
        # A JWT's signature is what makes it usable: a forged token keeps it, so hide it alone too.
        signature = _JWT.match(secret)
        if signature:
            self._secrets.setdefault(signature.group(1), f"the signature of {what}")
        self._forget()
        self.hide(quote(secret, safe=""), quote_plus(secret, safe=""))

    def hide(self, *spellings: str) -> None:
        """Hide these spellings of a known secret as well (not secrets of their own: nothing is
        judged for carrying one)."""
        new = {s for s in spellings if len(s) >= _SHORTEST_SECRET} - self._spellings - self._secrets.keys()
        if new:
            self._spellings |= new
            self._pieces.update(piece for spelling in new for piece in _pieces_of(spelling))
            self._forget()

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def labelled(self) -> dict[str, str]:
        """Every secret with what it is."""
        return dict(self._secrets)

    def _forget(self) -> None:
        self._longest_first = None
        # A new dictionary, not a cleared one: an answer another thread is computing with the old
        # secrets lands in the old one.
        self._answers = {}

    def __call__(self, text: str) -> str:
        if not self._secrets or not text:
            return text
        if len(text) > _REMEMBERED_CHARS:
            return self._redacted(text)
        answers = self._answers
        answer = answers.get(text)
        if answer is None:
            answer = self._redacted(text)
            if len(answers) < _REMEMBERED:
                answers[text] = answer
        return answer

    def _redacted(self, text: str) -> str:
        # Substring tests, not one alternation of them all: a run learns secrets (tokens, near misses, their
        # encodings) between redactions, and compiling that alternation again cost it a tenth of its time.
        longest_first = self._longest_first
        if longest_first is None:
            longest_first = self._longest_first = sorted(self._secrets.keys() | self._spellings, key=len, reverse=True)
        for secret in longest_first:
            if secret in text:
                text = text.replace(secret, mask(secret))
        return _RUN.sub(self._mask_piece, text)

    def _mask_piece(self, match: re.Match[str]) -> str:
        run = match.group(0)
        carries = any(run[start : start + _PIECE] in self._pieces for start in range(len(run) - _PIECE + 1))
        return mask(run) if carries else run


def _pieces_of(secret: str) -> set[str]:
    return {secret[start : start + _PIECE] for start in range(len(secret) - _PIECE + 1)}


def redactor_for(*holders: object) -> Redactor:
    """A redactor that knows every secret setting (SECRET_SETTINGS) of each holder (Settings, Credentials)."""
    redactor = Redactor()
    for holder in holders:
        for name, what in SECRET_SETTINGS.items():
            redactor.add(getattr(holder, name, None), what)
    return redactor
