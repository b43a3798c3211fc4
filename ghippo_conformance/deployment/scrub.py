"""Redacting pytest's test reports in place, before the console, JUnit, pytest-html or the
suite's own reports read them (on an xdist worker, before a report crosses to the controller).

pytest's failure representations are dataclasses of strings, lists and tuples; walking them keeps
their structure, so the console keeps its layout and JUnit and the short summary keep the one-line
crash message instead of a flattened traceback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest


def _redacted(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if type(value) in (list, tuple):
        return type(value)(_redacted(item, redact) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            # object.__setattr__: some representations may be frozen dataclasses.
            object.__setattr__(value, field.name, _redacted(getattr(value, field.name), redact))
    return value


def scrub(report: pytest.TestReport, redact: Callable[[str], str]) -> None:
    report.longrepr = _redacted(report.longrepr, redact)
    report.sections = _redacted(report.sections, redact)
    # record_property values become JUnit properties and pytest-html columns.
    report.user_properties = _redacted(report.user_properties, redact)
