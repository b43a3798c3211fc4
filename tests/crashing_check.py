"""A pytest plugin for the suite (`-p crashing_check`, with tests/ on PYTHONPATH) that makes one check of
the suite crash: the helper AUTH-EXPIRED's test judges its answer with raises AttributeError, as a helper
meeting a shape it did not expect would. Every other test runs as it always does."""

import pytest

CRASHING = "AUTH-EXPIRED"


def _crashing_helper(*args, **kwargs):
    raise AttributeError("'NoneType' object has no attribute 'status'")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    marker = item.get_closest_marker("requirement")
    if marker is None or marker.args[0] != CRASHING:
        return (yield)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(item.module, "refused", _crashing_helper)
        return (yield)
