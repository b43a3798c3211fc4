"""The suite's JSON Schemas, resolved from the files in `schemas/` alone (never the network).

`validator("user-list")` validates against `schemas/user-list.json`; `errors(body, "user-list")`
returns readable messages, the most relevant first, or an empty list for a valid body.
"""

import json
from collections.abc import Mapping
from functools import cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from ghippo_conformance.paths import SCHEMAS

# The OpenAPI document sits beside the schemas and refers to them; it is not a JSON Schema itself.
OPENAPI = SCHEMAS / "openapi.json"
BASE_URI = "https://ghippo-conformance.invalid/schemas/"


def schema_files():
    """Every JSON Schema file in `schemas/`, in name order."""
    return sorted(path for path in SCHEMAS.glob("*.json") if path != OPENAPI)


@cache
def _registry() -> Registry:
    resources = [Resource.from_contents(json.loads(path.read_text())) for path in schema_files()]
    return Registry().with_resources((resource.contents["$id"], resource) for resource in resources)


def validator(schema: str | Mapping) -> Draft202012Validator:
    """A format-checking validator for a schema file stem ("user-list") or an inline schema."""
    if isinstance(schema, str):
        schema = _registry().contents(f"{BASE_URI}{schema}.json")
    return Draft202012Validator(schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors(instance: object, schema: str | Mapping) -> list[str]:
    """Why `instance` is invalid, best match first, each message led by its JSON path."""
    found = list(validator(schema).iter_errors(instance))
    if not found:
        return []
    best = best_match(found)
    ordered = [best, *(error for error in found if error is not best)]
    return [f"{error.json_path}: {error.message}" for error in ordered]
