"""The catalogue, the tests and the data stay in step: every requirement has a test, every ID
a test names exists, and profiles and case tables are valid data."""

import re
import subprocess
import sys
import tomllib

import pytest

from ghippo_conformance import json_schemas, paths
from ghippo_conformance.checks import cases
from ghippo_conformance.deployment import profile
from ghippo_conformance.verdict import catalogue
from suite_runner import ROOT

# A test names its requirement in a marker, a case row in a `requirement` field.
_NAMED_IN_CODE = re.compile(r'requirement\("([A-Z0-9-]+)"\)')
_NAMED_IN_DATA = re.compile(r'^requirement\s*=\s*"([A-Z0-9-]+)"', re.MULTILINE)


def named_requirements() -> set[str]:
    code = {m for path in paths.SUITES.glob("test_*.py") for m in _NAMED_IN_CODE.findall(path.read_text())}
    data = {m for path in paths.CASES.glob("*.toml") for m in _NAMED_IN_DATA.findall(path.read_text())}
    return code | data


def test_every_requirement_has_a_test():
    untested = sorted(set(catalogue.load().requirements) - named_requirements())
    assert not untested, f"requirements without a test: {untested}"


def test_each_area_is_one_run_of_the_catalogue():
    # Reports group requirements by area in catalogue order; an area split in two would be shown
    # out of the order the catalogue gives.
    areas = [requirement.area for requirement in catalogue.load().requirements.values()]
    runs = [area for index, area in enumerate(areas) if index == 0 or areas[index - 1] != area]
    assert len(runs) == len(set(runs)), f"areas split across the catalogue: {runs}"


def test_every_named_requirement_is_in_the_catalogue():
    unknown = sorted(named_requirements() - set(catalogue.load().requirements))
    assert not unknown, f"tests name requirements missing from suites/requirements.toml: {unknown}"


def test_statements_are_unique_sentences():
    statements = [r.statement for r in catalogue.load().requirements.values()]
    assert len(set(statements)) == len(statements)
    assert all(s.endswith(".") and len(s) < 300 for s in statements)


def cited_sources() -> list[tuple[str, str]]:
    """(where, source) for every requirement of the catalogue and every case row that cites a source."""
    cited = [(f"requirement {r.id}", r.source) for r in catalogue.load().requirements.values()]
    for path in sorted(paths.CASES.glob("*.toml")):
        cited += [(f"{path.name} row {row['id']}", row["source"]) for row in cases.load(path.stem) if "source" in row]
    return cited


def source_rule() -> dict:
    return json_schemas.validator("requirements").schema["$defs"]["source"]


def test_every_source_is_one_a_reader_can_open():
    """A URL or `owner/repo: path`, never a file only this project's authors had (a numbered seed page,
    a notes file): the form schemas/requirements.json checks when the run starts, here for every source."""
    openable = re.compile(source_rule()["pattern"])
    unopenable = [f"{where}: {source}" for where, source in cited_sources() if not openable.fullmatch(source)]
    assert not unopenable, "sources a reader cannot open:\n" + "\n".join(unopenable)


def test_rfcs_are_cited_by_their_section_url():
    cited = {url for _, source in cited_sources() for url in re.findall(r"https://[^\s;]*rfc-editor[^\s;]*", source)}
    section_url = re.compile(r"https://www\.rfc-editor\.org/rfc/rfc\d+(#section-\d+(\.\d+)*)?")
    assert cited and not [url for url in cited if not section_url.fullmatch(url)]


@pytest.mark.parametrize("table", sorted(p.stem for p in paths.CASES.glob("*.toml")))
def test_a_source_column_follows_the_catalogue_rule(table):
    """A case table that cites sources checks them with the catalogue's one rule, not a looser copy."""
    column = json_schemas.validator(f"case-{table}").schema["$defs"]["row"]["properties"].get("source")
    assert column in (None, {"$ref": "requirements.json#/$defs/source"})


@pytest.mark.suite_run
def test_a_test_naming_an_unknown_requirement_stops_collection(tmp_path):
    (tmp_path / "test_unknown.py").write_text(
        'import pytest\n\n@pytest.mark.requirement("NO-SUCH-REQUIREMENT")\ndef test_x():\n    pass\n'
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "ghippo_conformance.plugin", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, completed.stdout + completed.stderr
    assert "NO-SUCH-REQUIREMENT" in completed.stderr


@pytest.mark.parametrize("name", profile.builtin_names())
def test_builtin_profile_is_valid(name):
    assert profile.load(name).name == name


def test_profile_override_is_validated():
    with pytest.raises(profile.ProfileError, match="invalid"):
        profile.load("dce5-aksk", ["auth.unauthenticated_status=200"])
    assert profile.load("dce5-aksk", ["paths.token=/api/v1/cube/key/token"]).paths.token == "/api/v1/cube/key/token"


@pytest.mark.parametrize("table", sorted(p.stem for p in paths.CASES.glob("*.toml")))
def test_case_table_is_valid(table):
    rows = cases.load(table)
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == len(ids), f"duplicate ids in {table}"
    descriptions = [row["description"] for row in rows]
    assert len(set(descriptions)) == len(descriptions), f"duplicate descriptions in {table}"


def test_catalogue_file_has_only_known_fields():
    data = tomllib.loads(paths.CATALOGUE.read_text())
    allowed = {"id", "level", "area", "statement", "source", "flows", "needs"}
    assert all(set(row) <= allowed for row in data["requirement"])
    assert not json_schemas.errors(
        data["requirement"][0]["flows"], {"type": "array", "items": {"enum": ["aksk", "access-key"]}}
    )
