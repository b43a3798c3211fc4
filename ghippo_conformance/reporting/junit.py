"""The verdict as properties of the JUnit XML pytest wrote (--junitxml).

pytest writes the file before the run ends here, so the verdict is added to what it wrote: a CI
dashboard that reads only JUnit sees the same verdict, reasons and leftovers as the exit code.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _properties(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("conformance_verdict", str(report["verdict"])),
        ("conformance_profile", report["profile"]["name"]),
        # What a reader checks first: whether a deployment was tested at all.
        ("conformance_target_embedded", str(report["target"]["embedded_reference"]).lower()),
        ("conformance_catalogue_version", str(report["catalogue_version"])),
        ("conformance_leftovers", " ".join(report["leftovers"])),
        *(("conformance_reason", reason) for reason in report["reasons"]),
        *(
            ("conformance_unchecked", f"{entry['id']} ({entry['level']}, {entry['outcome']}): {entry['why']}")
            for entry in report["unchecked"]
        ),
    ]


def add_verdict(path: str, report: dict[str, Any], redact: Callable[[str], str]) -> None:
    """Add the verdict's properties to every test suite of the JUnit file at `path`."""
    file = Path(path)
    if not file.exists():  # pytest wrote none: the run stopped before its session began
        return
    tree = ET.parse(file)
    root = tree.getroot()
    for suite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
        listed = suite.find("properties")
        if listed is None:
            listed = ET.Element("properties")
            suite.insert(0, listed)  # the schema wants properties before the test cases
        for name, value in _properties(report):
            ET.SubElement(listed, "property", name=name, value=redact(value))
    tree.write(file, encoding="utf-8", xml_declaration=True)
