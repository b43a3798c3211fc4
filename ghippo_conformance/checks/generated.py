"""Generated requests (schemathesis over schemas/openapi.json), sent through the suite's own client.

Only read-only operations are generated against: a generator must not flood a real deployment
with keys. The token endpoint is left to the token suite, whose inputs are credentials that
generation cannot produce. The document's paths are the public spec's; profile path overrides do
not apply here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET

from ghippo_conformance.deployment.http import Api, Exchange
from ghippo_conformance.json_schemas import OPENAPI

READ_ONLY_OPERATIONS = ["Users_ListUsers", "Account_GetUser", "Account_ListAccessTokens", "Openapi_Certs"]
EXAMPLES_PER_OPERATION = 12


def read_only_schema(*modes: GenerationMode):
    """The document's read-only operations, generating in the given modes."""
    schema = schemathesis.openapi.from_path(OPENAPI)
    schema.config.generation.update(modes=list(modes))
    return schema.include(operation_id=READ_ONLY_OPERATIONS)


# Bounded and reproducible: a fixed number of generated cases per operation, no coverage phase
# (it ignores max_examples), no example database left in the working directory, and the run's
# seed from --hypothesis-seed (the plugin picks and reports one when none is given).
bounded = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    phases=[Phase.generate],
    database=None,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)


def keep_hypothesis_cache_out_of_working_directory() -> None:
    """Hypothesis caches (its Unicode tables, constants of local code) under `./.hypothesis` by
    default, which litters an operator's checkout; keep them in the user's cache folder instead,
    unless HYPOTHESIS_STORAGE_DIRECTORY names a place. The cache is worth keeping: without it each
    process spends about 1.8 s rebuilding the Unicode tables."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    set_hypothesis_home_dir(cache / "ghippo-conformance" / "hypothesis")


def send(api: Api, case: Any, bearer: str) -> Exchange:
    return api.send(
        case.method,
        case.formatted_path,
        params=case.query or None,
        json_body=None if case.body is NOT_SET else case.body,
        bearer=bearer,
    )
