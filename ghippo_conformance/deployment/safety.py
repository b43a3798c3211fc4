"""Leaving the deployment as the run found it: read-only and dry runs, cleanup of earlier runs'
keys, removal of this run's keys even when interrupted, and key-slot tests kept serial under xdist."""

from __future__ import annotations

import functools
import re
import signal
from collections import Counter

import pytest

from ghippo_conformance.deployment import cleanup
from ghippo_conformance.deployment.http import Api
from ghippo_conformance.deployment.keys import KeyLedger, KeysUnreadable
from ghippo_conformance.deployment.session import Target
from ghippo_conformance.deployment.settings import Settings

KEY_SLOTS_GROUP = "key-slots"
LOADGROUP = "ghippo_loadgroup"  # workerinput key: the controller schedules by xdist_group


def _interrupt(api: Api, signum, frame):
    api.hurry()  # teardown's deletes and the run-end sweep still run, each with a short deadline
    raise KeyboardInterrupt(f"signal {signum}")


def configure(config: pytest.Config, settings: Settings, target: Target) -> None:
    """Called by the plugin once the target is open."""
    # SIGTERM (a CI job cancelled, a pod stopped) ends the run the way Ctrl-C does, so session
    # teardown still deletes the keys the run created.
    signal.signal(signal.SIGTERM, functools.partial(_interrupt, target.api))
    if getattr(config.option, "dist", "no") == "load":
        # Tests that create keys share the user's quota: loadgroup keeps them on one worker.
        config.option.dist = "loadgroup"
    if getattr(config, "workerinput", {}).get(LOADGROUP):
        config.option.loadgroup = True  # read by xdist's worker when it collects
    if settings.cleanup and target.bearer is None:
        pytest.exit(f"cleanup of {target.base_url} impossible: {target.bearer_problem}", returncode=1)
    if settings.cleanup:
        ledger = KeyLedger(target.api, target.profile, target.bearer, target.run_id)
        try:
            swept = cleanup.sweep(ledger, cleanup.run_prefix_pattern(target.profile))
        except KeysUnreadable as error:
            pytest.exit(f"cleanup of {target.base_url} impossible: {error}", returncode=1)
        lines = [f"removed {key}" for key in swept.removed] + [f"could NOT remove {key}" for key in swept.failed]
        summary = "; ".join(lines) or "no key left behind by an earlier run"
        pytest.exit(f"cleanup of {target.base_url}: {summary}", returncode=1 if swept.failed else 0)


def state_changing(item: pytest.Item) -> bool:
    return item.get_closest_marker("key_slots") is not None


def group_and_filter(config: pytest.Config, settings: Settings, items: list[pytest.Item]) -> None:
    """Group key-slot tests for xdist; under --read-only, deselect them (the verdict names each
    requirement they leave unjudged, with why)."""
    for item in items:
        if state_changing(item):
            item.add_marker(pytest.mark.xdist_group(KEY_SLOTS_GROUP))
    if not settings.read_only:
        return
    left_out = [item for item in items if state_changing(item)]
    items[:] = [item for item in items if not state_changing(item)]
    config.hook.pytest_deselected(items=left_out)


def sweep_this_run(target: Target) -> cleanup.Sweep:
    """Delete keys of this run that survived their tests (a worker died, a run was interrupted), even
    after the deployment stopped answering: it gets one more, short, chance."""
    ledger = KeyLedger(target.api, target.profile, target.bearer, target.run_id)
    with target.api.last_chance():
        return cleanup.sweep(ledger, cleanup.run_prefix_pattern(target.profile, target.run_id))


def keys_at_start(target: Target) -> dict[str, str] | None:
    """id -> name of the keys the user holds before any test runs, so that the end of the run can
    tell whether one of them vanished; None when there is no bearer to list them with."""
    if target.bearer is None:
        return None
    return KeyLedger(target.api, target.profile, target.bearer, target.run_id).held_for_certain()


def planned_requests(target: Target) -> list[str]:
    """The state-changing requests of a dry run, by endpoint, with how often each was sent."""
    templates = [
        (re.compile("^" + re.escape(path).replace(r"\{id\}", "[^/]+") + "$"), path)
        for path in target.profile.paths.as_dict().values()
    ]
    counted = Counter(
        f"{method} {next((template for pattern, template in templates if pattern.match(path)), path)}"
        for method, path in target.api.state_changes
    )
    return [f"{count} x {request}" for request, count in sorted(counted.items())]
