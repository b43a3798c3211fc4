"""The JSON conformance report (--conformance-report): what was run against what, and how it went."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .catalogue import Catalogue
from .profile import Section


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def build(
    *,
    catalogue: Catalogue,
    profile: Section,
    base_url: str,
    embedded: bool,
    started: str,
    table: dict[str, dict],
    verdict: str,
) -> dict[str, Any]:
    return {
        "suite_version": __version__,
        "catalogue_version": catalogue.version,
        "profile": profile.as_dict(),
        "target": {"base_url": base_url, "embedded_reference": embedded},
        "started": started,
        "finished": now(),
        "verdict": verdict,
        "requirements": [
            {**entry, "statement": catalogue[entry["id"]].statement,
             "tests": [asdict(test) for test in entry["tests"]]}
            for entry in table.values()
        ],
    }


def write(path: str, report: dict[str, Any]) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
