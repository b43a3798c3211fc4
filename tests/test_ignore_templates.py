"""No file this repository tracks is ignored by the rules of the common .gitignore templates.

A folder named like another ecosystem's build output (target/ is Cargo's, Maven's and sbt's) or like
something people ignore by hand (reports/) vanishes from every fresh clone, from ruff and from
packaging as soon as someone appends such a rule to .gitignore: this project lost
ghippo_conformance/reporting/ that way once. The templates are vendored in tests/ignore_templates/ (its
README names their upstream commit) and git itself judges each rule, on an empty repository so that
this checkout's own .gitignore plays no part.
"""

import subprocess
import tempfile
from collections import defaultdict
from functools import cache
from pathlib import Path, PurePosixPath

import pytest

from suite_runner import ROOT

TEMPLATES = sorted((Path(__file__).parent / "ignore_templates").glob("*.gitignore"))


def _folder(path: str) -> str:
    return str(PurePosixPath(path).parent)


@cache
def tracked_files() -> tuple[str, ...]:
    """The files git tracks in this checkout; none outside a git checkout (an unpacked sdist)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return ()
    return tuple(sorted(path for path in listed.split("\0") if path))


def ignored_by_templates(paths: tuple[str, ...]) -> dict[str, list[str]]:
    """For each of `paths` that a template ignores, the rules that do: 'Python.gitignore:77: target/'."""
    found = defaultdict(list)
    with tempfile.TemporaryDirectory() as empty:
        subprocess.run(["git", "init", "-q", empty], check=True, timeout=60)
        (Path(empty) / ".git" / "info").mkdir(exist_ok=True)
        (Path(empty) / ".git" / "info" / "exclude").write_text("")  # whatever git's init template put there
        for template in TEMPLATES:
            completed = subprocess.run(
                ["git", "-c", f"core.excludesFile={template}", "check-ignore", "--no-index", "--stdin", "-v", "-z"],
                cwd=empty,
                input="\0".join(paths),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert completed.returncode in (0, 1), completed.stderr  # 1: nothing ignored
            fields = completed.stdout.split("\0")
            for _source, line, rule, path in zip(*[iter(fields)] * 4, strict=False):
                if not rule.startswith("!"):  # a negated rule that matches keeps the path
                    found[path].append(f"{template.name}:{line}: {rule}")
    return dict(found)


@cache
def ignored_tracked_files() -> dict[str, list[str]]:
    return ignored_by_templates(tracked_files())


def folders() -> list[str]:
    """Every folder holding tracked files."""
    return sorted({_folder(path) for path in tracked_files()})


@pytest.mark.parametrize("folder", folders())
def test_no_template_ignores_a_tracked_file(folder):
    if not tracked_files():
        pytest.skip("not a git checkout: there are no tracked files to check")
    ignored = {path: rules for path, rules in ignored_tracked_files().items() if _folder(path) == folder}
    assert not ignored, "tracked files a common .gitignore template would ignore (rename the folder):\n" + "\n".join(
        f"{path}: {'; '.join(rules)}" for path, rules in sorted(ignored.items())
    )


@pytest.mark.parametrize("folder", ["ghippo_conformance/target", "ghippo_conformance/reports", "src/build"])
def test_a_folder_named_like_build_output_is_caught(folder):
    """Renaming a folder back to one of these names fails the test above: the rules see it."""
    assert f"{folder}/module.py" in ignored_by_templates((f"{folder}/module.py",))


def test_a_file_named_like_an_ignored_folder_is_not():
    assert ignored_by_templates(("ghippo_conformance/target.py", "docs/reports.md")) == {}


def test_the_vendored_templates_are_the_common_ones():
    assert [template.stem for template in TEMPLATES] == [
        "Go",
        "Java",
        "JetBrains",
        "Maven",
        "Node",
        "Python",
        "Rust",
        "VisualStudioCode",
        "everyday",
        "macOS",
    ]
