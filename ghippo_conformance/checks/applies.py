"""A case that does not apply to the deployment under test: reported as not applicable, like a requirement
its profile does not have, never as a case the run left unjudged (which makes the verdict partial)."""

from __future__ import annotations

from typing import NoReturn

from ghippo_conformance.verdict.outcomes import NotApplicable


def case_does_not_apply(reason: str) -> NoReturn:
    """End the test: this case has nothing to judge here, for `reason`."""
    raise NotApplicable(reason)
