"""Reading WWW-Authenticate values: whether they offer the Bearer scheme, and with which parameters."""

from __future__ import annotations

import re

# RFC 9110 section 5.6.2 (token), 5.6.4 (quoted-string) and 11.2 (token68).
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_TOKEN68 = r"[A-Za-z0-9._~+/-]+=*"
# One element of the value's comma-separated list (RFC 9110 section 11.6.1): an auth-param of the
# challenge before it, or a scheme that starts a challenge, alone or followed by a token68 or by
# its first auth-param. Empty elements are allowed, as in every list of section 5.6.1.
_ELEMENT = re.compile(
    rf"""
    \s*(?:
        (?P<name>{_TOKEN})\s*=\s*(?P<value>{_TOKEN}|{_QUOTED})
      | (?P<scheme>{_TOKEN})
        (?:\s+(?:(?P<first_name>{_TOKEN})\s*=\s*(?P<first_value>{_TOKEN}|{_QUOTED}) | {_TOKEN68}))?
    )?
    \s*(?:,|\Z)""",
    re.VERBOSE,
)


def offers_bearer(challenges: str) -> bool:
    """Whether a WWW-Authenticate value offers the Bearer scheme. RFC 9110 section 11.6.1 allows
    several challenges in one value, in any order, each a scheme then its comma-separated
    parameters: a scheme is a token at the start or after a comma that no "=" follows, and
    quoted parameter values are set aside first, so a "bearer" inside one does not count."""
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', challenges)
    return re.search(r"(?:^|,)\s*bearer(?=\s|,|$)(?!\s*=)", unquoted, re.IGNORECASE) is not None


def bearer_challenge_params(challenges: str) -> dict[str, str] | None:
    """The auth-params of the first Bearer challenge in a WWW-Authenticate value, names lowercased
    and quoted values unescaped ({} for a bare `Bearer` or one with a token68), or None when the
    value offers no Bearer challenge.

    The value is read up to the first element that breaks the grammar: past it, a quote may be
    open, so a "Bearer" there could be inside a parameter's value."""
    params: dict[str, str] | None = None
    in_bearer = False  # whether the element being read belongs to the first Bearer challenge
    position = 0
    while position < len(challenges):
        element = _ELEMENT.match(challenges, position)
        if element is None:
            break
        position = element.end()
        if element["scheme"]:
            in_bearer = params is None and element["scheme"].lower() == "bearer"
            if in_bearer:
                params = {}
            name, value = element["first_name"], element["first_value"]
        else:
            name, value = element["name"], element["value"]
        if in_bearer and name:
            params[name.lower()] = _unquoted(value)
    return params


def _unquoted(value: str) -> str:
    if not value.startswith('"'):
        return value
    return re.sub(r"\\(.)", r"\1", value[1:-1])
