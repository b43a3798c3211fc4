"""The package's layers import downwards only: the plugin (and the run's state, end and reports) may
import `checks/`, `checks/` may import `deployment/`, and all of them the modules beneath every
package (`paths`, `json_schemas`, `jws`). A layer that imports one above it makes an import cycle that
holds only as long as the import order happens to suit it."""

import ast

import pytest

from ghippo_conformance import paths

PACKAGE = paths.ROOT / "ghippo_conformance"
BENEATH = ("ghippo_conformance.paths", "ghippo_conformance.json_schemas", "ghippo_conformance.jws")
# Each layer, and the layers above it, whose modules it may not import.
FORBIDDEN = {
    "ghippo_conformance.deployment": ("ghippo_conformance.checks",),
    **{module: ("ghippo_conformance.checks", "ghippo_conformance.deployment") for module in BENEATH},
}


def imported(path) -> set[str]:
    """Every module `path` imports, `from x import y` read as both x and x.y (y may be a module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def module_name(path) -> str:
    return ".".join(path.relative_to(paths.ROOT).with_suffix("").parts).removesuffix(".__init__")


def layer_of(module: str) -> str | None:
    return next((layer for layer in FORBIDDEN if module == layer or module.startswith(f"{layer}.")), None)


SOURCES = sorted(path for path in PACKAGE.rglob("*.py") if layer_of(module_name(path)))


@pytest.mark.parametrize("path", SOURCES, ids=module_name)
def test_a_module_imports_no_layer_above_its_own(path):
    above = FORBIDDEN[layer_of(module_name(path))]
    upward = sorted(name for name in imported(path) if name.startswith(above))
    assert not upward, f"{module_name(path)} imports {upward}"
