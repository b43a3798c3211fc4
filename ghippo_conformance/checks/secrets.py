"""Near misses of a secret: values that are almost the secret, for a deployment that compares only part of it.

A wrong secret that shares nothing with the right one is refused even by a deployment that compares
the first few characters only, or all but the last, or ignores length or case. Each near miss here
differs from the secret in one place, and stays in the secret's own alphabet (hex stays hex,
base64url stays base64url), so a deployment that checks the format first still has to compare.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from ghippo_conformance.checks.applies import case_does_not_apply


@dataclass(frozen=True)
class Alphabet:
    name: str
    # In the order of the values the characters encode (RFC 4648 for base64url), so that the character
    # half the alphabet away differs in the value's most significant bit: a changed last character
    # then changes the decoded bytes even where its low bits are only padding.
    characters: str
    # Characters that only separate groups (a UUID's '-', a JWT's '.', base64 padding): never changed.
    separators: str = ""

    def holds(self, secret: str) -> bool:
        return all(c in self.characters or c in self.separators for c in secret)

    def far_from(self, character: str) -> str:
        """The character half the alphabet away."""
        index = self.characters.index(character)
        return self.characters[(index + len(self.characters) // 2) % len(self.characters)]


# Smallest first: a secret is written in the first one that holds it.
ALPHABETS = (
    Alphabet("decimal", string.digits),
    Alphabet("lower-hex", string.digits + "abcdef", separators="-"),
    Alphabet("upper-hex", string.digits + "ABCDEF", separators="-"),
    Alphabet("base32", string.ascii_uppercase + "234567", separators="="),
    Alphabet("lower-base32", string.ascii_lowercase + "234567", separators="="),
    Alphabet("lower-alphanumeric", string.digits + string.ascii_lowercase, separators="-_"),
    Alphabet("upper-alphanumeric", string.digits + string.ascii_uppercase, separators="-_"),
    Alphabet("base64url", string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_", separators="."),
    Alphabet("base64", string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/", separators="=."),
)

# Every near miss `near_misses` can give, in the order it gives them, with what it is; "case-swapped"
# only for a secret written in both cases.
NEAR_MISS_KINDS = {
    "first-changed": "first character changed",
    "middle-changed": "middle character changed",
    "last-changed": "last character changed",
    "one-short": "one character short",
    "one-longer": "one character longer",
    "case-swapped": "one letter's case swapped",
}


def alphabet_of(secret: str) -> Alphabet:
    """The smallest known alphabet that holds the secret, or else the secret's own characters."""
    known = next((alphabet for alphabet in ALPHABETS if alphabet.holds(secret)), None)
    if known is not None:
        return known
    # A secret written in both cases is taken to allow either case of each of its letters.
    swapped = {c.swapcase() for c in secret if c.isalpha()} if cased(secret) else set()
    own = "".join(sorted(set(secret) | swapped))
    return Alphabet("own-characters", own if len(own) > 1 else string.ascii_letters + string.digits + own)


def near_misses(secret: str) -> dict[str, str]:
    """Near misses of `secret` by kind (NEAR_MISS_KINDS): one character changed at the start, in the
    middle and at the end, one character short, one character longer and, where the secret is written in
    both cases, one letter's case swapped. Separators stay in place; each value differs from the secret."""
    alphabet = alphabet_of(secret)
    positions = [i for i, c in enumerate(secret) if c not in alphabet.separators]
    if not positions:
        raise ValueError("a secret with no character but separators has no near miss")
    first, last = positions[0], positions[-1]
    middle = positions[len(positions) // 2]
    misses = {
        "first-changed": _changed(secret, first, alphabet),
        "middle-changed": _changed(secret, middle, alphabet),
        "last-changed": _changed(secret, last, alphabet),
        # At the last character that is not a separator, not at the very end: dropping or adding
        # base64 padding would leave the decoded secret as it was.
        "one-short": secret[:last] + secret[last + 1 :],
        "one-longer": secret[: last + 1] + alphabet.far_from(secret[last]) + secret[last + 1 :],
    }
    # The first letter from the middle on, or else the last one before it.
    letters = sorted((i for i in positions if secret[i].isalpha()), key=lambda i: (i < middle, abs(i - middle)))
    if cased(secret) and letters:
        at = letters[0]
        misses["case-swapped"] = secret[:at] + secret[at].swapcase() + secret[at + 1 :]
    return misses


def near_miss(secret: str, kind: str, what: str) -> str:
    """The `kind` near miss of `secret` (`what`: "the SK", for the reason); a kind the secret has
    none of (a case swap of a secret in one case) does not apply to it: that case would prove nothing."""
    misses = near_misses(secret)
    if kind not in misses:
        case_does_not_apply(
            f"{what} is written in one case, which a deployment may read either way: no {kind} near miss"
        )
    return misses[kind]


def cased(secret: str) -> bool:
    """Whether case tells the secret's characters apart: it is written in both cases. A secret in one
    case may be read case-insensitively (RFC 9562 section 4 reads a UUID's hex digits so, RFC 4648
    base32 has one case), so a swapped case may rightly be the same secret."""
    return any(c.islower() for c in secret) and any(c.isupper() for c in secret)


def _changed(secret: str, index: int, alphabet: Alphabet) -> str:
    return secret[:index] + alphabet.far_from(secret[index]) + secret[index + 1 :]
