"""A request as a `curl` line a person can paste into a shell to send it again.

Secrets the operator holds (the AK, the SK, the access key, the session's bearer) appear as
references to the environment variables that hold them (`"$GHIPPO_SK"`), never as values. Any other
secret the run was handed or forged (a created key, a forged token) is masked, and the line then
says it cannot be replayed as it stands. Everything else is quoted for the shell, so text a
deployment chose (a key id in a path) stays one inert word, and control characters are written as
escapes (`$'\\x1b'`), never raw.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Characters a terminal or a shell would act on, or that reorder what follows them: written as
# escapes inside ANSI-C quoting ($'…', bash, zsh and ksh), which sends the very same bytes.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# curl reads these in a URL as a glob pattern unless told not to.
_GLOB = re.compile(r"[\[\]{}]")
MASKED_NOTE = "# a secret the run was handed or forged is masked: this line cannot be replayed as it stands"
# Starts the evidence line that holds a request as a curl command; reports lift these lines out.
CURL_LABEL = "  curl: "
# What a line that only looks like one of ours is relabelled to (text a deployment sent, quoted in a failure).
_NOT_OURS = "  (not a request this run sent) curl: "
# A shorter value would be found in innocent text (a page number, a word of a path): it stays as it is,
# as the redactor leaves such values too.
_SHORTEST_REFERRED = 8


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _quote(literal: str) -> str:
    if not _UNPRINTABLE.search(literal):
        return shlex.quote(literal)
    inner = _UNPRINTABLE.sub(lambda m: _escape(m.group(0)), literal.replace("\\", "\\\\").replace("'", "\\'"))
    return f"$'{inner}'"


@dataclass
class Replay:
    """What a curl line needs besides the request itself: curl's TLS options as the run used them,
    and which environment variable holds each secret the operator has."""

    tls: tuple[str, ...] = ()
    references: dict[str, str] = field(default_factory=dict)  # secret -> environment variable
    # A digest of every line rendered: a line in a failure that is none of these was written by someone else.
    _rendered: set[bytes] = field(default_factory=set, repr=False)

    @classmethod
    def for_verify(cls, verify: bool | str) -> Replay:
        """`verify` as httpx takes it: True, False (--insecure) or a CA bundle's path."""
        if verify is False:
            return cls(("--insecure",))
        return cls(("--cacert", verify)) if isinstance(verify, str) else cls()

    def refer(self, secret: str | None, variable: str) -> None:
        """Show `secret` as `"$variable"` wherever a request carries it."""
        if secret and len(secret) >= _SHORTEST_REFERRED:
            self.references.setdefault(secret, variable)

    def word(self, text: str, redact: Callable[[str], str]) -> tuple[str, bool]:
        """`text` as one shell word, and whether a secret in it had to be masked."""
        if not text:
            return "''", False
        if not self.references:
            shown = redact(text)
            return _quote(shown), shown != text
        longest_first = sorted(self.references, key=len, reverse=True)
        pieces = re.split(f"({'|'.join(map(re.escape, longest_first))})", text)
        words, masked = [], False
        for index, piece in enumerate(pieces):
            if index % 2:
                words.append(f'"${self.references[piece]}"')
            elif piece:
                shown = redact(piece)
                masked |= shown != piece
                words.append(_quote(shown))
        return "".join(words), masked

    def curl(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: Any,
        form: Mapping[str, str] | None,
        redact: Callable[[str], str],
    ) -> str:
        """The request as one curl command line: the method, the URL as sent, the headers in the
        order sent (a repeated name repeated), then the body and its Content-Type."""
        words: list[tuple[str, ...]] = [("curl", "-sS", "-i")]
        path = urlsplit(url).path
        if any(segment in (".", "..") for segment in path.split("/")):
            words.append(("--path-as-is",))  # else curl would resolve the dot segments before sending
        if _GLOB.search(url):
            words.append(("--globoff",))
        words.append(tuple(map(shlex.quote, self.tls)))
        has_body = body is not None or form is not None
        if method == "HEAD":
            words.append(("--head",))
        elif method != ("POST" if has_body else "GET"):
            words.append(("-X", shlex.quote(method)))
        masked = False

        def add(option: str, text: str) -> None:
            nonlocal masked
            shown, hidden = self.word(text, redact)
            masked |= hidden
            words.append((option, shown) if option else (shown,))

        add("", url)
        for name, value in headers:
            # curl drops a header given as "Name:" with nothing after it; "Name;" sends it empty.
            add("-H", f"{name}: {value}" if value else f"{name};")
        if body is not None:
            add("--data-raw", json.dumps(body, ensure_ascii=False, separators=(",", ":")))
            words.append(("-H", shlex.quote("Content-Type: application/json")))
        for name, value in (form or {}).items():
            add("--data-urlencode", f"{name}={value}")
        line = " ".join(word for group in words for word in group)
        line = f"{line}  {MASKED_NOTE}" if masked else line
        self._rendered.add(_digest(line))
        return line

    def disown_others(self, text: str) -> str:
        """`text` (a failure's message) with every curl line this run did not render relabelled, so that
        no report offers a deployment's text as a request to replay."""
        return "\n".join(
            _NOT_OURS + line[len(CURL_LABEL) :]
            if line.startswith(CURL_LABEL) and _digest(line[len(CURL_LABEL) :]) not in self._rendered
            else line
            for line in text.split("\n")
        )


def _digest(line: str) -> bytes:
    return hashlib.sha256(line.encode("utf-8", "surrogatepass")).digest()


def replay_lines(evidence: str) -> list[str]:
    """The curl lines of a failure's evidence, each once, in the order sent."""
    return list(dict.fromkeys(line[len(CURL_LABEL) :] for line in evidence.split("\n") if line.startswith(CURL_LABEL)))
