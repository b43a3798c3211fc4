"""selftest/variants.toml is sound data: every MUST and SHOULD has a defect that kills it, every
ID it names exists, every run checks something, and malformed variant tables are refused."""

import pytest

from ghippo_conformance.deployment import profile
from ghippo_conformance.json_schemas import errors
from ghippo_conformance.verdict import catalogue
from ghippo_reference.behaviour import for_profile
from selftest import matrix, variants

VARIANTS = variants.load()
CATALOGUE = catalogue.load()
DEFECT_RUNS = [run for run in matrix.planned_runs(VARIANTS) if run.variant and not run.variant.tolerance]


def killed() -> set[str]:
    """IDs some defect breaks and the suite catches in a kill-matrix run (not listed as escaping in a
    suite issue)."""
    return {rid for v in VARIANTS for rid in v.breaks - (v.suite_issue.escapes if v.suite_issue else frozenset())}


def test_every_must_and_should_is_killed_by_a_defect():
    required = {r.id for r in CATALOGUE.requirements.values() if r.level in ("MUST", "SHOULD")}
    assert not required - killed(), f"no variant kills {sorted(required - killed())}: add one to variants.toml"


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_named_ids_are_catalogue_requirements(variant):
    issue = variant.suite_issue or variants.SuiteIssue("", frozenset(), frozenset())
    assert not variant.concerns - set(CATALOGUE.requirements), (
        f"not in the catalogue: {sorted(variant.concerns - set(CATALOGUE.requirements))}"
    )
    assert issue.escapes <= variant.breaks, "a suite issue's escapes are breaks the suite misses"
    assert not issue.also_fails & (variant.breaks | variant.by_chance), (
        "also_fails lists what the variant does not break"
    )


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_overrides_change_every_profile_deployment(variant):
    """A variant equal to the deployment its profile describes would test nothing."""
    for name in variant.profiles:
        shape = profile.load(name)
        assert for_profile(shape, variant.overrides) != for_profile(shape), name


@pytest.mark.parametrize("run", DEFECT_RUNS, ids=lambda run: run.label)
def test_defect_breaks_something_its_profile_checks(run):
    shape = profile.load(run.profile)
    applicable = {rid for rid in run.variant.breaks if not CATALOGUE[rid].not_applicable_because(shape)}
    assert applicable, f"none of {sorted(run.variant.breaks)} applies to profile {run.profile}"


def test_conforming_runs_and_each_requirements_first_defect_are_judged_whole():
    """A false failure can come from any check, so the reference and the tolerances run them all; every
    requirement a defect breaks is shown caught in a whole run; a focused run judges every requirement its
    variant names, and --whole restores the whole catalogue for every run."""
    runs = matrix.planned_runs(VARIANTS)
    assert all(run.focus is None for run in runs if not run.variant or run.variant.tolerance)
    caught_whole = {rid for run in DEFECT_RUNS if run.focus is None for rid in run.variant.breaks}
    assert caught_whole == {rid for variant in VARIANTS for rid in variant.breaks}
    assert all(run.focus in (None, run.variant.concerns) for run in DEFECT_RUNS)
    assert all(run.focus is None for run in matrix.planned_runs(VARIANTS, whole=True))


BASE = {"name": "accepts-alg-none", "description": "alg none is trusted", "overrides": {"accept_alg_none": True}}


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param({**BASE, "breaks": []}, id="defect-without-breaks"),
        pytest.param({**BASE, "kind": "tolerance", "breaks": ["AUTH-ALG-NONE"]}, id="tolerance-with-breaks"),
        pytest.param({**BASE, "name": "Accepts_Alg_None", "breaks": ["AUTH-ALG-NONE"]}, id="name-not-kebab-case"),
        pytest.param({**BASE, "breaks": ["auth-alg-none"]}, id="id-not-upper-case"),
        pytest.param({**BASE, "overrides": {}, "breaks": ["AUTH-ALG-NONE"]}, id="no-overrides"),
        pytest.param(
            {**BASE, "breaks": ["AUTH-ALG-NONE"], "suite_issue": {"reason": "a check is not isolated"}},
            id="suite-issue-naming-nothing",
        ),
        pytest.param({**BASE, "breaks": ["AUTH-ALG-NONE"], "profile": "dce5"}, id="unknown-field"),
    ],
)
def test_malformed_variant_is_refused(variant):
    assert errors({"variant": [{"breaks": ["AUTH-ALG-NONE"], **BASE}]}, "variants") == []
    assert errors({"variant": [variant]}, "variants")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("overrides = { accept_alg_nun = true }", "unknown Behaviour fields: accept_alg_nun"),
        ('overrides = { key_limit = "two" }', "key_limit must be int | None"),
    ],
)
def test_loader_refuses_what_behaviour_refuses(tmp_path, text, problem):
    path = tmp_path / "variants.toml"
    path.write_text(f'[[variant]]\nname = "x"\ndescription = "a bad override"\n{text}\nbreaks = ["KEY-LIMIT"]\n')
    with pytest.raises(ValueError, match=problem):
        variants.load(path)


def test_loader_refuses_repeated_names(tmp_path):
    row = (
        '[[variant]]\nname = "x"\ndescription = "twice the same"\n'
        'overrides = { key_limit = 3 }\nbreaks = ["KEY-LIMIT"]\n'
    )
    path = tmp_path / "variants.toml"
    path.write_text(row + row)
    with pytest.raises(ValueError, match="repeated: x"):
        variants.load(path)
