"""Case tables and the catalogue are checked against their schemas, and a mistake in one is told in
one sentence that names the file, the row and the column."""

import shutil
import subprocess

import pytest

from ghippo_conformance import json_schemas, paths
from ghippo_conformance.checks import cases
from ghippo_conformance.verdict import catalogue
from selftest.suite_process import suite_command, suite_environment

TABLES = sorted(path.stem for path in paths.CASES.glob("*.toml"))
# What a run from a copy of the project needs (pyproject.toml's pythonpath puts the copy first).
PROJECT_PARTS = [
    "suites",
    "fixtures",
    "schemas",
    "ghippo_conformance",
    "ghippo_reference",
    "conftest.py",
    "pyproject.toml",
]


def edited_copy(tmp_path, source, old: str, new: str):
    """A copy of `source` in tmp_path, under the same name, with the first `old` made `new`."""
    text = source.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {source.name}: the test needs updating"
    copy = tmp_path / source.name
    copy.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


def edited_table(tmp_path, table: str, old: str, new: str):
    return edited_copy(tmp_path, paths.CASES / f"{table}.toml", old, new)


def catalogue_problem(tmp_path, old: str, new: str) -> str:
    with pytest.raises(catalogue.CatalogueError) as raised:
        catalogue.read(edited_copy(tmp_path, paths.CATALOGUE, old, new))
    return str(raised.value)


@pytest.mark.parametrize("table", TABLES)
def test_shipped_table_matches_its_schema(table):
    assert cases.problems(paths.CASES / f"{table}.toml") == []


@pytest.mark.parametrize("table", TABLES)
def test_table_schema_closes_its_rows_and_requires_its_own_columns(table):
    """Every column of a table's own is one its test reads, so leaving it out is caught before the test runs."""
    row = json_schemas.validator(f"case-{table}").schema["$defs"]["row"]
    assert row["allOf"] == [{"$ref": "case-table.json#/$defs/row-common"}]
    assert row["unevaluatedProperties"] is False
    assert set(row["required"]) == set(row["properties"])


def test_check_all_accepts_the_shipped_tables():
    cases.check_all()


def test_misspelt_column_is_named_with_its_file_and_row(tmp_path):
    copy = edited_table(tmp_path, "malformed-authorization", 'header = ""', 'headr = ""')
    assert cases.problems(copy) == [
        (
            f"{copy}, row 3 (empty-header): column 'headr' is not one this table has "
            "(perhaps 'header'; allowed: description, header, id, key_slots, reason, requirement, syntax_error)"
        )
    ]


def test_wrongly_typed_column_says_the_type_it_needs(tmp_path):
    copy = edited_table(tmp_path, "malformed-authorization", "syntax_error = true\n", 'syntax_error = "yes"\n')
    assert cases.problems(copy) == [f"{copy}, row 1 (scheme-alone): column 'syntax_error' must be a boolean, got 'yes'"]


def test_missing_required_column_is_named(tmp_path):
    copy = edited_table(tmp_path, "malformed-authorization", "syntax_error = false\n", "")
    assert cases.problems(copy) == [f"{copy}, row 5 (basic-scheme): column 'syntax_error' is required but missing"]


def test_value_outside_a_fixed_vocabulary_lists_the_allowed_ones(tmp_path):
    copy = edited_table(tmp_path, "bad-credentials", 'ak = "unknown"', 'ak = "random"')
    assert cases.problems(copy) == [
        (
            f"{copy}, row 2 (unknown-ak): column 'ak' must be one of "
            "'own', 'own-ak', 'own-sk', 'other', 'unknown', 'empty', 'absent', 'first-changed', 'middle-changed', "
            "'last-changed', 'one-short', 'one-longer', 'case-swapped', got 'random'"
        )
    ]


def test_a_second_pair_needs_the_key_slots_mark(tmp_path):
    copy = edited_table(tmp_path, "bad-credentials", "key_slots = true\n", "")
    assert cases.problems(copy) == [f"{copy}, row 3 (crossed-pair): column 'key_slots' is required but missing"]


def test_row_without_id_is_named_by_its_number(tmp_path):
    copy = edited_table(tmp_path, "cycle-invalid", 'id = "negative"\n', "")
    assert cases.problems(copy) == [f"{copy}, row 2: column 'id' is required but missing"]


def test_id_repeated_within_a_table_is_refused(tmp_path):
    copy = edited_table(tmp_path, "hostile-search", 'id = "double-quote"', 'id = "single-quote"')
    assert cases.problems(copy) == [f"{copy}, row 2 (single-quote): id 'single-quote' is already the id of row 1"]


def test_every_row_at_fault_gets_its_sentence(tmp_path):
    copy = edited_table(tmp_path, "page-echo", "page_size = 1\n", "page_size = 0\n")
    copy.write_text(copy.read_text().replace("page_index = 20", "page_index = -1"))
    assert [problem.split(":")[0] for problem in cases.problems(copy)] == [
        f"{copy}, row 1 (first-page-of-one)",
        f"{copy}, row 6 (far-page)",
    ]


def test_table_without_a_schema_is_refused(tmp_path):
    table = tmp_path / "new-table.toml"
    table.write_text('[[case]]\nid = "a"\ndescription = "a row"\n')
    assert cases.problems(table) == [f"{table} has no schema schemas/case-new-table.json"]


def test_check_all_raises_the_first_problem_as_one_sentence(tmp_path, monkeypatch):
    edited_table(tmp_path, "malformed-authorization", 'header = ""', 'headr = ""')
    monkeypatch.setattr(paths, "CASES", tmp_path)
    with pytest.raises(cases.CaseTableError, match=r"row 3 \(empty-header\): column 'headr' is not one"):
        cases.check_all()


def test_catalogue_levels_are_a_level():
    requirement = catalogue.load()["AUTH-MISSING"]
    assert requirement.level is catalogue.Level.MUST and requirement.level == "MUST"


def test_catalogue_misspelt_column_is_named_with_its_requirement(tmp_path):
    problem = catalogue_problem(tmp_path, 'level = "MUST"', 'levle = "MUST"')
    assert problem.endswith(
        "requirements.toml, requirement 1 (SCHEMA-TOKEN): column 'levle' is not one this table has "
        "(perhaps 'level'; allowed: area, flows, id, level, needs, source, statement)"
    )


def test_catalogue_bad_level_lists_the_levels(tmp_path):
    problem = catalogue_problem(tmp_path, 'level = "SHOULD"', 'level = "OUGHT"')
    assert problem.endswith(
        "requirement 4 (SCHEMA-ERROR): column 'level' must be one of 'MUST', 'SHOULD', 'MAY', got 'OUGHT'"
    )


def test_catalogue_source_a_reader_cannot_open_is_refused_in_words(tmp_path):
    problem = catalogue_problem(tmp_path, 'source = "https://', 'source = "seed 003, then https://')
    assert "requirement 1 (SCHEMA-TOKEN): column 'source' must be what a reader can open: a URL, or " in problem
    assert "got 'seed 003, then https://" in problem and "^(?:" not in problem


def test_case_row_source_a_reader_cannot_open_is_refused(tmp_path):
    copy = edited_table(tmp_path, "foreign-key", 'source = "https://', 'source = "RFC 7515 section 5.2; https://')
    [problem] = cases.problems(copy)
    assert problem.startswith(f"{copy}, row 1 (same-kid): column 'source' must be what a reader can open")


def test_catalogue_requirement_without_id_is_named_by_its_number(tmp_path):
    problem = catalogue_problem(tmp_path, 'id = "SCHEMA-TOKEN"\n', "")
    assert problem.endswith("requirement 1: column 'id' is required but missing")


def test_catalogue_repeated_id_is_refused(tmp_path):
    problem = catalogue_problem(tmp_path, 'id = "SCHEMA-KEY"', 'id = "SCHEMA-TOKEN"')
    assert problem.endswith("requirement 3 (SCHEMA-TOKEN): id 'SCHEMA-TOKEN' is already the id of requirement 1")


# Passes only once ghippo_conformance/plugin.py calls cases.check_all() at configure time and turns
# CaseTableError into a pytest.UsageError; until then the broken table is a collection error (exit 2).
@pytest.mark.suite_run
def test_a_broken_table_stops_the_suite_with_one_line(tmp_path):
    for part in PROJECT_PARTS:
        source, copy = paths.ROOT / part, tmp_path / part
        if source.is_dir():
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy)
    edited_table(tmp_path / "fixtures" / "cases", "malformed-authorization", 'header = ""', 'headr = ""')
    # Without PYTHONPATH the copy's own package is imported; were it this checkout's, it would read
    # this checkout's valid tables and find nothing to report.
    environment = {k: v for k, v in suite_environment().items() if k != "PYTHONPATH"}
    completed = subprocess.run(
        suite_command("-q"), check=False, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert any(
        "fixtures/cases/malformed-authorization.toml, row 3 (empty-header): column 'headr'" in line
        for line in output.splitlines()
    ), output
