"""Case tables (fixtures/cases/*.toml) as pytest parameters: cases are data, not code.

Each table fixtures/cases/<table>.toml has its own schema, schemas/case-<table>.json, that names its
columns, which of them a row needs and the values they take; the columns every table shares come
from schemas/case-table.json. A table that breaks its schema is reported in one sentence naming the
file, the row and the column; `row_problems` words the catalogue's errors the same way.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema.exceptions import ValidationError

from ghippo_conformance import json_schemas, paths

ROWS = "case"  # a table's rows are its [[case]] array
# A misspelt column also leaves a required one missing: the unknown name is the one to report.
_FIRST_REPORTED = ("unevaluatedProperties", "additionalProperties", "required")
_UNKNOWN_KEYS = {"unevaluatedProperties", "additionalProperties"}
Within = list[str | int]  # the path from a row (or the file) to the value at fault: ["patch", "remove", 0]
_TYPE_NAMES = {
    "string": "a string",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "array": "an array",
    "object": "a table",
}


class CaseTableError(Exception):
    """A case table that does not match its schema; the message is one sentence for the operator."""


@cache
def load(table: str) -> tuple[dict, ...]:
    """The rows of a case table, validated against schemas/case-<table>.json."""
    path = paths.CASES / f"{table}.toml"
    _raise_first(_shipped_table_problems(path))
    return tuple(_read(path)[ROWS])


def check_all() -> None:
    """Validate every table in fixtures/cases; CaseTableError for the first problem found.

    Meant for configure time: a broken table then stops the run with one sentence, where the first
    `params()` to read it would make a collection error of the module that parametrizes with it."""
    for path in sorted(paths.CASES.glob("*.toml")):
        _raise_first(_shipped_table_problems(path))


@cache
def _shipped_table_problems(path: Path) -> tuple[str, ...]:
    """problems() of a shipped table, once a process: check_all and load both ask."""
    return tuple(problems(path))


def problems(path: Path) -> list[str]:
    """Why the case table at `path` is invalid, one sentence per row at fault, or [] when it is valid.

    The schema is chosen by the file's name, so a copy of a table anywhere is checked as the original."""
    shown = shown_path(path)
    try:
        data = _read(path)
    except tomllib.TOMLDecodeError as error:
        return [f"{shown} is not valid TOML: {error}"]
    schema = f"case-{path.stem}"
    if not (paths.SCHEMAS / f"{schema}.json").is_file():
        return [f"{shown} has no schema schemas/{schema}.json"]
    found = row_problems(shown, data, ROWS, json_schemas.validator(schema).iter_errors(data), shared_columns())
    return found or duplicate_ids(shown, data[ROWS])


def params(table: str) -> list:
    """One pytest.param per row, with the row's id; a row's `requirement` overrides the test's,
    and a row marked `key_slots` is marked so on its own, not its whole test."""
    return [pytest.param(row, id=row["id"], marks=_marks(row)) for row in load(table)]


def _marks(row: dict) -> list:
    marks = [pytest.mark.requirement(row["requirement"])] if "requirement" in row else []
    if row.get("key_slots"):
        marks.append(pytest.mark.key_slots)
    return marks


def _read(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _raise_first(found: Sequence[str]) -> None:
    if found:
        raise CaseTableError(found[0])


@cache
def shared_columns() -> tuple[str, ...]:
    """The columns every table may have, declared once in schemas/case-table.json."""
    return tuple(json_schemas.validator("case-table").schema["$defs"]["row-common"]["properties"])


def shown_path(path: Path) -> str:
    """`path` as the operator knows it: relative to the checkout (fixtures/cases/x.toml) when inside it."""
    try:
        return path.resolve().relative_to(paths.ROOT).as_posix()
    except ValueError:
        return str(path)


def duplicate_ids(source: str, rows: Sequence[dict], row_noun: str = "row") -> list[str]:
    """A sentence for each row whose id an earlier row of the same file already has."""
    first_with: dict[str, int] = {}
    found = []
    for number, row in enumerate(rows, start=1):
        earlier = first_with.setdefault(row["id"], number)
        if earlier != number:
            found.append(
                f"{source}, {row_noun} {number} ({row['id']}): "
                f"id '{row['id']}' is already the id of {row_noun} {earlier}"
            )
    return found


def row_problems(
    source: str,
    data: Any,
    rows_key: str,
    errors: Iterable[ValidationError],
    shared: Sequence[str] = (),
    row_noun: str = "row",
) -> list[str]:
    """One sentence per row at fault in a file of rows (a case table, the catalogue), in file order:
    the file, the row (1-based, with its id) and the column, for that row's most telling error.

    `shared` names the columns a row schema takes in through allOf, which its own `properties` do not list."""
    rows = data.get(rows_key) if isinstance(data, dict) else None
    first_by_row: dict[int, str] = {}
    for error in sorted(errors, key=_report_order):
        index, within = _place(error, rows_key)
        problem = _problem(error, index, within, shared)
        if problem:
            first_by_row.setdefault(index, problem)
    return [f"{_lead(source, rows, index, row_noun)}: {problem}" for index, problem in sorted(first_by_row.items())]


def _report_order(error: ValidationError) -> int:
    return _FIRST_REPORTED.index(error.validator) if error.validator in _FIRST_REPORTED else len(_FIRST_REPORTED)


def _place(error: ValidationError, rows_key: str) -> tuple[int, Within]:
    """The 0-based row an error is in (-1 for the file itself, so its problems come first) and the
    path to the value at fault inside that row (or file)."""
    path = list(error.absolute_path)
    if len(path) >= 2 and path[0] == rows_key:
        return path[1], path[2:]
    return -1, path


def _lead(source: str, rows: Any, index: int, row_noun: str) -> str:
    if index < 0:
        return source
    row = rows[index]
    named = f" ({row['id']})" if isinstance(row, dict) and isinstance(row.get("id"), str) else ""
    return f"{source}, {row_noun} {index + 1}{named}"


def _problem(error: ValidationError, index: int, within: Within, shared: Sequence[str]) -> str | None:
    """What is wrong, said of the column (or key) at `within`; None for no real problem."""
    if error.validator in _UNKNOWN_KEYS:
        return _unknown_keys_problem(error, index, within, shared)
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in error.instance]
        noun, owner = _keys_of(index, within)
        return f"{_names(noun, missing)} required but missing" + ("" if noun == "column" else f" in {owner}")
    subject, got = _value_at(index, within), f"got {_literal(error.instance)}"
    if error.validator == "type":
        return f"{subject} must be {_TYPE_NAMES.get(error.validator_value, error.validator_value)}, {got}"
    if error.validator == "enum":
        return f"{subject} must be one of {', '.join(map(_literal, error.validator_value))}, {got}"
    if error.validator == "const":
        return f"{subject} must be {_literal(error.validator_value)}, {got}"
    if error.validator == "pattern" and "description" in error.schema:
        return f"{subject} must be {error.schema['description']}, {got}"  # the words, not the regular expression
    return f"{subject} is invalid: {error.message}"


def _unknown_keys_problem(error: ValidationError, index: int, within: Within, shared: Sequence[str]) -> str | None:
    noun, owner = _keys_of(index, within)
    allowed = {*error.schema.get("properties", {}), *(shared if noun == "column" else ())}
    unknown = [key for key in error.instance if key not in allowed]
    if not unknown:
        return None  # a failing allOf branch leaves its columns "unevaluated": that error is reported on its own
    one = "one" if len(unknown) == 1 else "ones"
    return (
        f"{_names(noun, unknown)} not {one} {owner} has "
        f"({_hint(unknown[0], allowed)}allowed: {', '.join(sorted(allowed))})"
    )


def _keys_of(index: int, within: Within) -> tuple[str, str]:
    """What the keys of the table at `within` are called, and what holds them."""
    if not within:
        return ("column", "this table") if index >= 0 else ("key", "this file")
    return "key", _value_at(index, within)


def _value_at(index: int, within: Within) -> str:
    """The value at `within` in a row (or the file), named for a message: column 'patch.set'."""
    if not within:
        return "the row" if index >= 0 else "the file"
    dotted = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in within).removeprefix(".")
    return f"{'column' if index >= 0 else 'key'} '{dotted}'"


def _names(noun: str, keys: Sequence[str]) -> str:
    quoted = ", ".join(f"'{key}'" for key in keys)
    return f"{noun} {quoted} is" if len(keys) == 1 else f"{noun}s {quoted} are"


def _hint(unknown: str, allowed: set[str]) -> str:
    """A likely intended name for a misspelt one: 'headr' suggests 'header'."""
    close = difflib.get_close_matches(unknown, sorted(allowed), n=1)
    return f"perhaps '{close[0]}'; " if close else ""


def _literal(value: Any) -> str:
    """A value spelt near enough as TOML spells it, for a message: true, 'text', 3."""
    return str(value).lower() if isinstance(value, bool) else repr(value)
