"""Every way the reference may deviate from the documented contract, as one frozen value.

The defaults conform. A variant (deliberately broken, or different in a way the suite must
tolerate) is `Behaviour(**overrides)`; the variants file stores those overrides as tables, so
`from_overrides` checks names, types and choices before anything starts.
"""

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Behaviour:
    # Which of the two documented credential flows the deployment offers.
    flow: Literal["aksk", "access-key"] = "aksk"
    # Keys per user; None means unlimited.
    key_limit: int | None = 2

    # Lifetime of tokens exchanged for an AK/SK pair.
    default_lifetime_s: int = 259200
    cycle_unit_s: int = 86400
    # The largest cycle granted (ten years of days); no documentation bounds cycle, its example asks 7.
    cycle_limit_days: int = 3650
    cycle_ignored: bool = False
    invalid_cycle_accepted: bool = False
    accept_wrong_sk: bool = False
    second_token_refused: bool = False
    # Where the pair exchange is served: the documentation's example path, its text's path, or both.
    token_routes: Literal["both", "example-path-only", "text-path-only"] = "both"
    # The field of the token response that holds the token: the documentation's `token`, or another name.
    token_response_field: Literal["token", "access_token"] = "token"

    # What issued tokens carry.
    iat_offset_s: int = 0
    issuer: str = "ghippo.io"
    include_kid: bool = True
    padded_token_signature: bool = False
    # RFC 7515 section 4.1.4 leaves the kid's structure open: the sample's RFC 7638 thumbprint, or a UUID.
    kid_style: Literal["thumbprint", "uuid"] = "thumbprint"
    # RFC 7519 section 4: claims beyond the sample's (aud, azp, nbf, typ) are allowed; clients ignore them.
    extra_token_claims: bool = False
    # RFC 7519 section 2: a NumericDate may be fractional; the sample token's are whole seconds.
    fractional_numeric_dates: bool = False
    # RFC 7517 section 5: a key set may hold other keys; Keycloak lists an encryption key before the signing one.
    encryption_key_listed: bool = False

    # How bearer tokens are checked.
    verify_signature: bool = True
    accept_alg_none: bool = False
    # A token whose signature segment is empty is taken as unsigned and trusted, whatever its alg.
    trust_empty_signature: bool = False
    accept_hs256_public_key: bool = False
    accept_expired: bool = False
    scheme_case_sensitive: bool = False
    accept_secret_as_bearer: bool = False
    later_tokens_refused: bool = False
    # No token the pair exchange issued is accepted as a bearer (AK/SK flow).
    issued_tokens_refused: bool = False

    # How refusals and errors look.
    unauthenticated_status: int = 401
    challenge_header: bool = True
    # RFC 6750 section 3 allows error_description and RFC 9110 section 11.6.1 several challenges:
    # "realm" (realm, error), "described" (also error_description), "basic-first" (Basic, then Bearer).
    challenge_style: Literal["realm", "described", "basic-first"] = "realm"
    echo_token_in_error: bool = False
    malformed_header_status: int = 401
    error_code_is_http_status: bool = False
    plain_text_errors: bool = False
    error_message_style: Literal["default", "alternate"] = "default"
    json_content_type: bool = True
    # The spec's details is an array of google.protobuf.Any: a google.rpc.ErrorInfo in it, not [].
    error_details: bool = False
    # Error bodies leave details out when it is empty, as a marshaler that skips unset fields does.
    omit_empty_error_details: bool = False
    # RFC 8259 sections 2 and 7: whitespace between tokens and \u escapes are the same JSON.
    json_style: Literal["compact", "pretty-ascii"] = "compact"
    # RFC 9110 section 8.4: gzip-coded bodies for a client whose Accept-Encoding names gzip.
    gzip_responses: bool = False
    # RFC 9112 section 9.6: the server may close the connection after every response.
    connection_close: bool = False

    # The users list.
    # How many users the deployment has, the admin included: no documentation sets a number.
    user_count: int = 137
    # The spec declares no default pageSize; the documentation's example asks 10.
    default_page_size: int = 10
    total_is_page_count: bool = False
    ignore_page_size: bool = False
    ignore_page: bool = False
    duplicate_at_page_boundary: bool = False
    drop_at_page_boundary: bool = False
    # The list's very last user is never served (an off-by-one slice end), while total still counts it.
    last_user_unlisted: bool = False
    # Pages hold at most this many users whatever pageSize asks, and pagination still echoes the request.
    silent_page_size_cap: int | None = None
    page_zero_as_first: bool = False
    page_size_zero_500: bool = False
    invalid_paging_500: bool = False
    beyond_last_page_error: bool = False
    pagination_as_strings: bool = False
    page_size_echo_default: bool = False
    created_at_as_number: bool = False
    users_order: Literal["created", "name-desc"] = "created"
    can_authorize: bool = True
    search_500_on_quote: bool = False
    defaults_rejected: bool = False
    search_ignored: bool = False

    # JSON shape of every response.
    extra_fields: bool = False
    reverse_field_order: bool = False

    # Keys and their lifecycle.
    key_id_style: Literal["uuid", "numeric"] = "uuid"
    # The spec's key list has no order: oldest first, or newest first as a UI shows it.
    key_list_order: Literal["oldest-first", "newest-first"] = "oldest-first"
    # The spec types the key list's createdAt, updatedAt and expiredAt as bare strings: epoch
    # decimals, or RFC 3339 with fractional seconds and a +08:00 offset.
    key_time_style: Literal["epoch", "rfc3339-offset"] = "epoch"
    # Over the key limit: FAILED_PRECONDITION (400), or RESOURCE_EXHAUSTED, which grpc-gateway sends as 429.
    key_limit_refusal: Literal["failed-precondition", "resource-exhausted"] = "failed-precondition"
    release_slot_on_delete: bool = True
    secret_in_list: bool = False
    # The delete response is the deleted key's record, secret included, instead of {}.
    secret_in_delete_response: bool = False
    deleted_key_works: bool = False
    expired_key_works: bool = False
    key_list_wrong_types: bool = False
    listed_key_name_length: int | None = None
    current_user_unprotected: bool = False
    workspace_as_number: bool = False
    key_lookup_before_auth: bool = False
    # Every delete of a key answers 500 and the key stays: what the run-end sweep must report,
    # as keys the run could not remove. Not a variant: it breaks too much at once to kill one requirement.
    deletes_fail: bool = False
    # A create whose expiredAt is already past makes a key that never expires.
    past_expired_at_ignored: bool = False
    # A delete answers 200 {} and the key stays listed and usable: a delete that never lands.
    delete_keeps_key: bool = False
    # A delete answers 200 for the named key but removes the user's oldest key instead.
    delete_removes_oldest: bool = False

    def __post_init__(self) -> None:
        for name, expected in typing.get_type_hints(type(self)).items():
            value = getattr(self, name)
            # isinstance refuses a Literal: a choice field is checked against its values instead.
            if typing.get_origin(expected) is Literal:
                allowed = typing.get_args(expected)
                if value not in allowed:
                    raise ValueError(f"Behaviour.{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
            # bool is a subclass of int, but `key_limit = true` in a variants file is a mistake.
            elif not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
                type_name = getattr(expected, "__name__", expected)  # "bool", or "int | None" as written
                raise ValueError(f"Behaviour.{name} must be {type_name}, got {value!r}")

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, object]) -> "Behaviour":
        unknown = sorted(set(overrides) - {field.name for field in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown Behaviour fields: {', '.join(unknown)}")
        return cls(**overrides)


def for_profile(profile: Any, overrides: Mapping[str, object] | None = None) -> Behaviour:
    """The deployment a suite profile describes (flow, key limit, token lifetimes), then `overrides`."""
    shape: dict[str, object] = {"flow": profile.flow, "key_limit": profile.keys.get("limit")}
    if profile.flow == "aksk":
        shape |= {"default_lifetime_s": profile.token.default_lifetime_s, "cycle_unit_s": profile.token.cycle_unit_s}
    return Behaviour.from_overrides({**shape, **(overrides or {})})
