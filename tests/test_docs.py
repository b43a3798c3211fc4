"""The documentation stays true to the tree: every relative link resolves, every option the suite
declares is in the README's option table, and the layout and the package docstrings name every
module there is."""

import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from ghippo_conformance.deployment.settings import add_options
from ghippo_conformance.verdict.outcomes import Outcome
from suite_runner import ROOT

DOCUMENTS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(```|~~~)")


def prose(path: Path) -> list[str]:
    """The lines of a Markdown file outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchors(path: Path) -> Iterator[str]:
    """The anchors GitHub gives the headings of a Markdown file: lower case, punctuation dropped but
    hyphens and underscores, spaces made hyphens, a repeated one numbered."""
    seen: dict[str, int] = {}
    for line in prose(path):
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
            seen[slug] = seen.get(slug, -1) + 1
            yield slug if seen[slug] == 0 else f"{slug}-{seen[slug]}"


def relative_links(path: Path) -> list[str]:
    """Links to files of this repository: neither a URL nor a mail address; inline code is not a link."""
    return [
        target
        for line in prose(path)
        for target in _LINK.findall(re.sub(r"`[^`]*`", "", line))
        if not _SCHEME.match(target)
    ]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(document):
    broken = []
    for target in relative_links(document):
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in set(anchors(linked)):
            broken.append(f"{target}: no heading with that anchor in {linked.relative_to(ROOT)}")
    assert not broken, f"{document.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_docs_are_linked_from_the_readme():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in relative_links(ROOT / "README.md")}
    assert not [path.name for path in DOCUMENTS[1:] if path.resolve() not in linked]


def declared_options() -> dict[str, str]:
    """Each option the suite declares (as `ghippo-conformance --help` lists them), with its help text."""
    declared = {}

    def addoption(*names, **attributes):
        declared[next(name for name in names if name.startswith("--"))] = attributes.get("help", "")

    add_options(SimpleNamespace(getgroup=lambda *_: SimpleNamespace(addoption=addoption)))
    return declared


def readme_option_rows() -> list[str]:
    """The rows of the README's option table: the table under its Options heading."""
    lines = prose(ROOT / "README.md")
    start = next(index for index, line in enumerate(lines) if re.match(r"#+ Options\s*$", line))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("| `-"):
            rows.append(line)
    return rows


@pytest.mark.parametrize("option", sorted(declared_options()))
def test_every_declared_option_is_in_the_readme_table(option):
    rows = [row for row in readme_option_rows() if re.search(rf"`{re.escape(option)}[ `]", row.split("|")[1])]
    assert rows, f"{option} is missing from the README's option table"
    variable = re.search(r"\[env (\w+)\]", declared_options()[option])
    if variable:
        assert variable.group(1) in rows[0], f"the README's row for {option} does not name {variable.group(1)}"


def packages() -> list[Path]:
    """Every package of the project: the top-level ones and those inside them."""
    found = {init.parent for pattern in ("*/__init__.py", "*/*/__init__.py") for init in ROOT.glob(pattern)}
    return sorted(path for path in found if not any(part.startswith(".") for part in path.relative_to(ROOT).parts))


def modules(package: Path) -> list[str]:
    """Its modules; a package inside it has a row and a docstring of its own."""
    return sorted(module.name for module in pkgutil.iter_modules([str(package)]) if not module.ispkg)


def layout_row(package: Path) -> str:
    folder = f"`{package.relative_to(ROOT).as_posix()}/`"
    rows = [
        line
        for line in prose(ROOT / "CONTRIBUTING.md")
        if line.startswith("|") and line.split("|")[1].strip() == folder
    ]
    assert rows, f"CONTRIBUTING.md's layout has no row for {folder}"
    return rows[0]


@pytest.mark.parametrize("package", packages(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_the_layout_names_every_module(package):
    row = layout_row(package)
    missing = [name for name in modules(package) if f"`{name}`" not in row and f"`{name}.py`" not in row]
    assert not missing, f"CONTRIBUTING.md's layout row for {package.relative_to(ROOT)} leaves out {missing}"


@pytest.mark.parametrize(
    "package",
    [path for path in packages() if path.parent.name == "ghippo_conformance" or path.name == "ghippo_reference"],
    ids=lambda path: path.relative_to(ROOT).as_posix(),
)
def test_the_package_docstring_names_every_module(package):
    docstring = (package / "__init__.py").read_text(encoding="utf-8")
    missing = [name for name in modules(package) if f"`{name}`" not in docstring]
    assert not missing, f"{package.relative_to(ROOT)}/__init__.py's docstring leaves out {missing}"


def test_the_readmes_verdict_block_counts_every_outcome_in_order():
    """The README shows the console's verdict block; its counts line names the outcomes the console
    counts, in the console's order (reporting/views.counts_line)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"^requirements: (.*)$", readme, re.MULTILINE)
    assert shown, "the README shows no verdict block"
    assert re.findall(r"\d+ ([a-z-]+)", shown.group(1)) == [str(outcome) for outcome in Outcome]
