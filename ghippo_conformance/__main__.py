"""`ghippo-conformance [pytest options]`: the installed suite, run without a checkout."""

import sys

import pytest

from . import paths


def main() -> int:
    # -p loads the plugin explicitly: it is not an entry-point plugin, so installing the package
    # never changes other projects' pytest runs. rootdir and the ini file are the suite's own.
    args = ["-p", "ghippo_conformance.plugin", "--rootdir", str(paths.ROOT), "-c", str(paths.ROOT / "pytest.ini"),
            *sys.argv[1:]]
    if not any(not arg.startswith("-") for arg in sys.argv[1:]):
        args.append(str(paths.SUITES))
    return int(pytest.main(args))


if __name__ == "__main__":
    sys.exit(main())
