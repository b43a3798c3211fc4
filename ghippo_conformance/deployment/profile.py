"""Deployment profiles: data files that say which flow a deployment has and the values the
public record leaves open. Tests read a profile; none branches on a profile's name.

A profile may say `extends = "<built-in name, or path relative to its own file>"` and give only
what differs: its tables are laid over the extended profile's key by key."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ghippo_conformance import json_schemas, paths

DEFAULT_PROFILE = "dce5-aksk"


class ProfileError(Exception):
    """A profile that cannot be found or does not validate; the message is for the operator."""


class Section:
    """A read-only table of a profile, read as attributes: `profile.token.issuer`.

    Not a Mapping on purpose: Mapping's `keys()` would hide the profile's [keys] table."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self._data = dict(data)
        self._where = where

    def __getattr__(self, key: str) -> Any:
        try:
            value = self._data[key]
        except KeyError:
            raise AttributeError(f"{self._where}.{key} is not set by this profile") from None
        return Section(value, f"{self._where}.{key}") if isinstance(value, Mapping) else value

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def has(self, dotted: str) -> bool:
        """Whether a setting such as "keys.limit" is present."""
        node: Any = self._data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return False
            node = node[part]
        return True

    def as_dict(self) -> dict[str, Any]:
        return {k: v.as_dict() if isinstance(v, Section) else v for k, v in self._data.items()}


def builtin_names() -> list[str]:
    return sorted(p.stem for p in paths.PROFILES.glob("*.toml"))


def _locate(name_or_path: str) -> Path:
    found = _find(name_or_path, Path())
    if found is None:
        raise ProfileError(
            f"profile {name_or_path!r} is neither a built-in profile ({', '.join(builtin_names())}) "
            "nor a readable file; pass one of those names or the path of a profile file to --profile"
        )
    return found


def _find(name_or_path: str, beside: Path) -> Path | None:
    """A built-in profile by name, else the file at `name_or_path` taken from the folder `beside`."""
    builtin = paths.PROFILES / f"{name_or_path}.toml"
    if builtin.is_file():
        return builtin
    given = beside / name_or_path
    return given if given.is_file() else None


def _read(location: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(location.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"profile file {location} is not valid TOML: {error}") from None


def _read_extended(location: Path, extended_by: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The profile at `location` laid over the one it extends, and so on down the chain;
    `extended_by` holds the files already read above it, so that a cycle is caught, not followed."""
    if location.resolve() in extended_by:
        chain = " -> ".join(str(path) for path in (*extended_by, location.resolve()))
        raise ProfileError(f"profile {location} extends itself through a cycle: {chain}")
    data = _read(location)
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ProfileError(f"profile {location}: extends must be a profile name or path, got {base!r}")
    found = _find(base, location.parent)
    if found is None:
        raise ProfileError(
            f"profile {location} extends {base!r}, which is neither a built-in profile "
            f"({', '.join(builtin_names())}) nor a file beside it"
        )
    return _merged(_read_extended(found, (*extended_by, location.resolve())), data)


def _merged(base: dict[str, Any], extending: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extending` laid over it: tables merge key by key, any other value replaces."""
    merged = dict(base)
    for key, value in extending.items():
        both_tables = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _merged(merged[key], value) if both_tables else value
    return merged


def _apply_override(data: dict[str, Any], assignment: str) -> None:
    dotted, sep, raw = assignment.partition("=")
    if not sep:
        raise ProfileError(f"--profile-set {assignment!r} is not of the form key.path=value")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word is taken as a string, as a user would expect on a command line
    *parents, leaf = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def load(name_or_path: str, overrides: list[str] = ()) -> Section:
    """Read (following `extends`), override (`--profile-set`) and validate a profile; ProfileError
    says what is wrong. The merged result is validated, so a profile that extends another may leave
    out whatever that one sets."""
    location = _locate(name_or_path)
    data = _read_extended(location)
    for assignment in overrides:
        _apply_override(data, assignment)
    problems = json_schemas.errors(data, "profile")
    if problems:
        raise ProfileError(f"profile {location} is invalid: {problems[0]}")
    return Section(data, "profile")
