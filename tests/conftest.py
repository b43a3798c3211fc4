"""The project's own tests come in two kinds: in-process tests of the suite's parts, which run in seconds
(`pytest tests -m "not suite_run"`), and tests marked suite_run, which start the conformance suite, the
kill matrix or the installed entry point in a subprocess and take seconds each. A test that starts the
suite without the mark would make the fast kind slow unnoticed, so it fails here instead."""

import subprocess

import pytest

# Words of a command line that start the suite: `python -m pytest …`, the entry point, the kill matrix.
_SUITE_STARTERS = ("pytest", "ghippo-conformance", "selftest.matrix")


@pytest.fixture(autouse=True)
def only_suite_run_tests_start_the_suite(request, monkeypatch):
    if request.node.get_closest_marker("suite_run"):
        return
    popen = subprocess.Popen.__init__

    def refusing_the_suite(self, args, *more, **options):
        words = [str(word) for word in (args if isinstance(args, list | tuple) else [args])]
        if any(word.endswith(_SUITE_STARTERS) for word in words):
            raise AssertionError(f"{request.node.nodeid} starts the suite ({' '.join(words)}): mark it suite_run")
        popen(self, args, *more, **options)

    monkeypatch.setattr(subprocess.Popen, "__init__", refusing_the_suite)
