"""The kill matrix: the suite against the unbroken reference under every profile, and against
every variant of selftest/variants.toml under the profiles it names; one server per run, runs
in parallel. `python -m selftest.matrix [--whole] [VARIANT …]` prints it (see docs/kill-matrix.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ghippo_conformance.deployment import profile as profile_module
from ghippo_conformance.run_end import PARTIAL
from ghippo_conformance.verdict.outcomes import Outcome, Verdict
from ghippo_reference.behaviour import for_profile
from ghippo_reference.server import start
from ghippo_reference.signing import signing_key
from ghippo_reference.users import seeded_population
from selftest import variants as variants_module
from selftest.matrix_table import render
from selftest.suite_process import SuiteRun, run_suite
from selftest.variants import SuiteIssue, Variant

# Generated checks draw their inputs from this seed, so every matrix run sends the same requests.
SEED = 20221122
# Two suites per core: a run keeps about one core busy for every two it is given (it waits for key revocation
# and expiry, and for the references, which share one process): 31 runs took 76 s two at a time, 53 s four
# at a time, 53 s six at a time on two cores.
WORKERS = 2 * (os.cpu_count() or 1)
_CHECKED = ("MUST", "SHOULD")


@dataclass(frozen=True)
class Run:
    """One deployment to test: a variant (None: the unbroken reference) under one profile, judged on
    the requirements of `focus` only (`--requirement`, as the suite's rerun line for a failure says),
    or on the whole catalogue (None)."""

    variant: Variant | None
    profile: str
    focus: frozenset[str] | None = None

    @property
    def label(self) -> str:
        return f"{self.variant.name if self.variant else 'reference'}@{self.profile}"

    @property
    def declared(self) -> frozenset[str]:
        return self.variant.breaks if self.variant else frozenset()


@dataclass(frozen=True)
class Result:
    run: Run
    suite: SuiteRun
    wall_s: float

    def judged(self, requirement_id: str) -> bool:
        return self.run.focus is None or requirement_id in self.run.focus

    def failed(self, levels: tuple[str, ...] = ("MUST", "SHOULD", "MAY")) -> set[str]:
        levels_by_id = self.suite.levels()
        return {
            rid
            for rid, outcome in self.suite.outcomes().items()
            if outcome == Outcome.FAILED and levels_by_id[rid] in levels
        }

    def applicable(self, ids: frozenset[str]) -> set[str]:
        """Those of `ids` that apply to this run's profile."""
        outcomes = self.suite.outcomes()
        return {rid for rid in ids if outcomes.get(rid) != Outcome.NOT_APPLICABLE}

    def escaped(self) -> set[str]:
        """Declared breaks that apply to this profile but did not fail: defects the suite missed."""
        outcomes = self.suite.outcomes()
        return {rid for rid in self.applicable(self.run.declared) if outcomes.get(rid) != Outcome.FAILED}

    def unexpected(self) -> set[str]:
        """Failures nobody declared: any, against the reference; MUSTs, against a tolerance;
        MUSTs and SHOULDs, against a defect."""
        variant = self.run.variant
        if variant is None:
            return self.failed()
        return self.failed(("MUST",) if variant.tolerance else _CHECKED) - variant.breaks - variant.by_chance

    def starved(self) -> list[str]:
        """Tests of the variant's must_run requirements that skipped, with their reasons."""
        must_run = self.run.variant.must_run if self.run.variant else frozenset()
        return [
            f"{test['nodeid']}: {test['reason']}"
            for row in (self.suite.report or {}).get("requirements", [])
            if row["id"] in must_run
            for test in row["tests"]
            if test["outcome"] == Outcome.SKIPPED
        ]

    def _issue_here(self) -> tuple[SuiteIssue, tuple[set[str], set[str]]] | None:
        """The variant's suite issue and what it predicts for this profile, if it predicts anything."""
        issue = self.run.variant.suite_issue if self.run.variant else None
        if issue is None:
            return None
        predicted = (self.applicable(issue.also_fails), self.applicable(issue.escapes))
        return (issue, predicted) if any(predicted) else None

    def known_issue(self) -> SuiteIssue | None:
        """The variant's reported suite issue, when the run shows exactly what it predicts."""
        here = self._issue_here()
        return here[0] if here and (self.unexpected(), self.escaped()) == here[1] else None

    def surprises(self) -> list[str]:
        """What a reader must look at, in words; empty when the run went as declared."""
        if self.suite.report is None:
            return [f"the suite stopped before its report (exit {self.suite.exit_code})"]
        found = []
        must_failed = bool(self.failed(("MUST",)))
        # A run that failed no MUST may still have left one unjudged (partial): its exit code says so.
        expected = 1 if must_failed else PARTIAL if self.suite.report["verdict"] == Verdict.PARTIAL else 0
        if self.suite.exit_code != expected:
            found.append(
                f"exit code {self.suite.exit_code}, but a MUST {'did' if must_failed else 'did not'} fail "
                f"and the verdict is {self.suite.report['verdict']}"
            )
        if self.known_issue():
            return found
        if self.unexpected():
            found.append(f"failed, not declared: {', '.join(sorted(self.unexpected()))}")
        if self.escaped():
            found.append(f"declared, did not fail: {', '.join(sorted(self.escaped()))}")
        found += [f"must run, skipped: {starved}" for starved in self.starved()]
        if self._issue_here():
            found.append("the run differs from what its variant's suite_issue predicts: update or remove it")
        return found


@dataclass(frozen=True)
class Matrix:
    results: list[Result]
    wall_s: float
    workers: int


def planned_runs(variants: list[Variant], whole: bool = False) -> list[Run]:
    """The unbroken reference under every profile, then every variant under each of its profiles.

    The reference and the tolerances are judged on the whole catalogue: no check may fail a
    conforming deployment. So is the first defect of each requirement (in variants.toml order): every
    check is shown to catch a defect in a whole run, among the keys and state the other checks leave,
    and that defect shows any other check it trips. Every other defect is judged on the requirements
    it concerns, as an operator reruns a failure (`--requirement`), for a fifth of a whole run's time;
    `whole` judges every defect on the whole catalogue."""
    runs = [Run(None, name) for name in profile_module.builtin_names()]
    shown_whole: set[str] = set()
    for variant in variants:
        judged_whole = whole or variant.tolerance or not variant.breaks <= shown_whole
        shown_whole |= variant.breaks
        runs += [Run(variant, name, None if judged_whole else variant.concerns) for name in variant.profiles]
    return runs


def execute(run: Run, seed: int = SEED) -> Result:
    """Start the run's deployment, run the suite against it, stop the deployment."""
    began = time.monotonic()
    profile = profile_module.load(run.profile)
    behaviour = for_profile(profile, run.variant.overrides if run.variant else None)
    focus = ("--requirement", ",".join(sorted(run.focus))) if run.focus else ()
    with start(behaviour) as deployment:
        suite = run_suite(
            deployment.base_url, run.profile, deployment.credentials, "--hypothesis-seed", str(seed), *focus
        )
    return Result(run, suite, time.monotonic() - began)


def run_matrix(runs: list[Run], workers: int = WORKERS, seed: int = SEED) -> Matrix:
    # Built once here, before the threads: two threads filling these caches at once could each
    # make their own signing key, and a server would then refuse tokens signed with the other.
    signing_key()
    seeded_population()
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda run: execute(run, seed), runs))
    return Matrix(results, time.monotonic() - began, workers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m selftest.matrix", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="VARIANT", help="only these variants (default: all)")
    parser.add_argument("--workers", type=int, default=WORKERS, help=f"runs at once (default {WORKERS})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the generated checks (default {SEED})")
    parser.add_argument(
        "--whole",
        action="store_true",
        help="judge every defect on the whole catalogue, not only what it concerns (5 times the CPU a run)",
    )
    arguments = parser.parse_args(argv)
    variants = variants_module.load()
    unknown = set(arguments.names) - {variant.name for variant in variants}
    if unknown:
        parser.error(f"no such variant: {', '.join(sorted(unknown))}")
    runs = planned_runs(variants, arguments.whole)
    if arguments.names:
        runs = [run for run in runs if run.variant and run.variant.name in arguments.names]
    matrix = run_matrix(runs, arguments.workers, arguments.seed)
    print(render(matrix))
    return 1 if any(result.surprises() for result in matrix.results) else 0


if __name__ == "__main__":
    sys.exit(main())
