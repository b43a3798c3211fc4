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
    # How cycle is read: decimal digits only, as Go's strconv.Atoi reads an integer (a sign, leading zeros),
    # or as a decimal number (1.5 is a day and a half, 1e3 a thousand days).
    cycle_read_as: Literal["digits", "go-atoi", "decimal"] = "digits"
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
    # The bearer-attack catalogue (fixtures/cases/*.toml): each knob makes the verifier fall for one attack.
    # The jwk or x5c a token carries is the key its signature is checked with (CVE-2018-0114).
    trust_embedded_keys: bool = False
    # A jku or x5u names where to fetch the key; an unreachable one ends the request in a 500.
    fetch_key_urls: bool = False
    # Algs the verifier has no check for (RS384, RS512, PS*, ES*, EdDSA) fall through as trusted.
    unchecked_algs_trusted: bool = False
    # An ES* signature with R = S = 0 verifies for any key (CVE-2022-21449, "psychic signatures").
    psychic_signatures: bool = False
    # Where a kid leads: the key set, the key set after a rotation (the previous signing key still listed,
    # the kid choosing between them), a file whose content is the key, or an SQL lookup built from it.
    kid_key_source: Literal["key-set", "rotated-key-set", "file-path", "sql-lookup"] = "key-set"
    # What a key found through a file or an SQL lookup is taken as: an HMAC secret for HS* tokens, or, in a
    # deployment pinned to RS256 (HS* refused), a PEM public key for RS256 tokens.
    kid_lookup_key: Literal["hmac-secret", "rs256-public-key"] = "hmac-secret"
    # HS256, HS384 and HS512 are checked with any encoding of the public key as the secret (PEM, DER, OpenSSH, JWK).
    accept_hmac_public_key_forms: bool = False
    # An HS* token keyed with the empty string is accepted: a secret left blank in the configuration.
    accept_empty_hmac_secret: bool = False
    # An HS* token keyed with "secret" is accepted: a default secret left in the configuration.
    accept_common_hmac_secret: bool = False
    # An RS256 token whose signature segment is empty is taken as signed (CVE-2020-28042).
    rs256_blank_signature_trusted: bool = False
    # The RSA signature is read as an integer reduced modulo n, its length unchecked: s + n and a zero-prefixed s pass.
    lax_rsa_signature: bool = False
    # Which 401 challenges name error="invalid_token": those to a presented token (RFC 6750 3.1), none, or all.
    challenge_error: Literal["when-token-presented", "never", "always"] = "when-token-presented"
    # RFC 6750 section 3 allows a scope attribute in the Bearer challenge.
    challenge_scope: bool = False
    # Two Authorization headers: refused with 401, or with 400 (RFC 6750 invalid_request), or the last one used.
    repeated_authorization: Literal["refused", "bad-request", "last-used"] = "refused"
    # A bearer in the access_token query parameter is accepted when no Authorization header is sent.
    token_from_query: bool = False
    # A bearer in the access_token field of a form-encoded body (RFC 6750 section 2.2) is accepted when no
    # Authorization header is sent, the body's other fields read as the operation's (a create makes a key).
    token_from_form: bool = False
    # An Authorization header over 8 KiB: the usual 401, 431 (RFC 6585 section 5), a 500, or the connection
    # closed without an answer (RFC 9112 section 9.6).
    oversized_authorization: Literal["refused", "431", "500", "closed"] = "refused"
    # RFC 7517 section 5: the key set also lists an EC signing key; tokens are still RS256 only.
    ec_key_listed: bool = False
    accept_expired: bool = False
    # Seconds past its exp a token is still accepted: RFC 7519 section 4.1.4 lets an implementation allow
    # some leeway for clock skew, "usually no more than a few minutes".
    exp_leeway_s: int = 0
    scheme_case_sensitive: bool = False
    accept_secret_as_bearer: bool = False
    later_tokens_refused: bool = False
    # No token the pair exchange issued is accepted as a bearer (AK/SK flow).
    issued_tokens_refused: bool = False
    # How much of a presented secret is compared with the stored one (ghippo_reference/leniency.py):
    # "exact", or a comparison that looks at part of it: the first 8 characters (a key found by its
    # prefix), all but the last (an off-by-one loop), the shorter of the two lengths (strncmp with the
    # presented length), or either case. A UUID's hex digits may be read in either case (RFC 9562
    # section 4), so "case-insensitive" is a tolerance for the AK and SK and a defect for a JWT access key.
    sk_compare: Literal["exact", "first-8-chars", "all-but-last-char", "shorter-length", "case-insensitive"] = "exact"
    ak_compare: Literal["exact", "first-8-chars", "all-but-last-char", "shorter-length", "case-insensitive"] = "exact"
    # Not "exact": the bearer is looked up among the stored access keys with that comparison and,
    # when one matches, is taken as that key (access-key flow); "exact" verifies the token as signed.
    access_key_compare: Literal["exact", "all-but-last-char", "shorter-length", "case-insensitive"] = "exact"
    # How the router reads a path: "decoded" (percent-encoded characters decoded, a trailing or doubled
    # slash another path: a 404), "raw" (as written: a percent-encoded letter is a 404 too) or
    # "normalised" (also a trailing slash removed and doubled slashes merged), or "case-insensitive"
    # (decoded, then matched ignoring case, as IIS and ASP.NET route). RFC 3986 sections 6.2 and 6.2.2.1
    # leave the path's case to the server; authentication must hold for every path the router serves.
    path_routing: Literal["decoded", "raw", "normalised", "case-insensitive"] = "decoded"
    # Authentication skipped for one shape of request, as by an auth middleware that matches the raw
    # path or the query before the router normalises the path: `search` present, any query parameter,
    # a trailing slash, a doubled slash, a percent-encoded character, an upper-case letter. A trailing or
    # doubled slash is only served with path_routing "normalised", an upper-case one with "case-insensitive".
    auth_skipped_for: Literal[
        "none",
        "search-parameter",
        "any-parameter",
        "trailing-slash",
        "doubled-slash",
        "percent-encoded-path",
        "upper-cased-path",
    ] = "none"
    # ---- Routing: methods and path spellings (AUTH-ANY-METHOD, AUTH-ANY-SPELLING; ghippo_reference/leniency.py)
    # What the router does to the path path_routing read before it matches a route: nothing; resolve dot
    # segments (RFC 3986 section 5.2.4); refuse a path with a dot segment with 400 (nginx, Spring Security's
    # StrictHttpFirewall); strip each segment's ;parameters, then resolve dot segments (Tomcat, so "..;" is
    # ".."); drop a #fragment sent in the target (Node's URL parser); read a backslash as a slash (IIS); read
    # the path of an absolute-form target (RFC 9112 section 3.2.2). Authentication must hold for every path
    # the router serves.
    path_resolution: Literal[
        "none",
        "dot-segments",
        "dot-segments-refused",
        "path-parameters",
        "fragment-dropped",
        "backslash-as-slash",
        "absolute-form",
    ] = "none"
    # Authentication matched the path before path_resolution, as an auth rule in front of the router does:
    # a request whose path the resolution changed is one the rule does not know as protected, and skips it.
    auth_before_path_resolution: bool = False
    # Which methods reach a route: the route's own (and HEAD on a GET route, as Starlette, Go and Express
    # route); on a POST, also the method named by X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override or
    # a _method query or form field (grpc-gateway, Express's method-override, Rack); or any method at all
    # (Go's ServeMux before 1.22, Express's app.all, grpc-gateway's fallback for a form-encoded POST).
    method_routing: Literal["route-method", "override-honoured", "any-method"] = "route-method"
    # Authentication covers only each route's documented method, as an auth rule listing (method, path)
    # pairs does: a HEAD, a POST that overrides its method, any other method the router still routes skips it.
    auth_only_for_documented_method: bool = False

    # Published keys and identity.
    # What certs publishes (ghippo_reference/published_keys.py): the public keys; or a defect: the signing
    # key with its private members, an HS256 secret as a JWK, the private key as PEM instead of a key set, a
    # retired 1024-bit key, a key whose exponent is 1, the signing key marked for encryption or for RS512, a
    # retired key under the signing key's kid, a modulus with a zero octet in front, a null member, the keys
    # as an object by kid, a key without kty, a key whose n and e are JSON numbers, a numeric kid; or what
    # RFC 7517 sections 4 and 5 allow: a key of a type clients skip (the draft ML-DSA "AKP"), use and alg left
    # out (key_ops instead, a key without kid), the signing key's X.509 certificate members.
    published_key_set: Literal[
        "public-keys",
        "private-members",
        "symmetric-key",
        "private-key-pem",
        "legacy-1024-bit-key",
        "exponent-one-key",
        "signing-key-for-encryption",
        "signing-key-for-another-alg",
        "duplicate-kid",
        "zero-padded-modulus",
        "null-member",
        "keys-by-kid",
        "key-without-kty",
        "numeric-modulus",
        "numeric-kid",
        "unknown-kty-key",
        "optional-members-left-out",
        "with-certificates",
    ] = "public-keys"
    # Whose key the deployment hands the runner: the admin's, or an ordinary user's (no source says which).
    credentials_owner: Literal["admin", "ordinary-user"] = "admin"
    # Whom current-user names: the caller; the caller with its uid's hex digits upper-case (RFC 9562 section 4
    # reads a UUID in either case); or the admin whoever calls, as a handler that takes the identity from a
    # default principal instead of the credential would.
    current_user_answer: Literal["caller", "caller-uid-upper-case", "admin"] = "caller"
    # What a token's sub holds: the user's id, as in the documentation's sample, or the username (RFC 7519
    # section 4.1.2 leaves its form to the issuer).
    token_subject: Literal["user-id", "username"] = "user-id"
    # Whom a key acts as: its owner; the admin for any key but its owner's first (a holder table left from a
    # one-key-per-user design, falling back to the admin); the admin for every key (one shared account, as a
    # client-credentials grant of one shared client gives).
    keys_act_as: Literal["owner", "admin-after-first-key", "admin"] = "owner"

    # How refusals and errors look.
    unauthenticated_status: int = 401
    challenge_header: bool = True
    # RFC 6750 section 3 allows error_description and RFC 9110 section 11.6.1 several challenges:
    # "realm" (realm, error), "described" (also error_description), "basic-first" (Basic, then Bearer).
    challenge_style: Literal["realm", "described", "basic-first"] = "realm"
    echo_token_in_error: bool = False
    malformed_header_status: int = 401
    # What an error body's code says: the gRPC code (16), the HTTP status (401), or the code's name as the
    # Connect protocol writes it ("unauthenticated").
    error_code: Literal["grpc", "http-status", "connect-name"] = "grpc"
    # The error body's fields: grpc-gateway v2's {code, message, details}, or v1's, which adds error (the message).
    error_body_style: Literal["grpc-gateway-v2", "grpc-gateway-v1"] = "grpc-gateway-v2"
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
    # The users list's order: by creation, oldest or newest first (ties by id), by name descending, or none
    # at all (a query without ORDER BY), a new order for every request.
    users_order: Literal["created", "newest-first", "name-desc", "none"] = "created"
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
    # How a create holds to the limit: counting and inserting at once, the same taking a while (a slow
    # store), or counting, then inserting later without counting again: two creates at once both pass.
    key_create: Literal["atomic", "slow-atomic", "counted-then-inserted"] = "atomic"
    release_slot_on_delete: bool = True
    # What the key list shows of each key's secret: nothing, the secret, the secret base64-encoded (as a
    # Kubernetes Secret holds its data), or its last four characters (a hint to tell keys apart).
    listed_secret: Literal["nothing", "whole", "base64", "last-four"] = "nothing"
    # The delete response is the deleted key's record, secret included, instead of {}.
    secret_in_delete_response: bool = False
    deleted_key_works: bool = False
    # Seconds a deleted key still authenticates: an authentication cache in front of the key store.
    deleted_key_cached_s: float = 0.0
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

    # The deployment's clock and sessions.
    # Seconds the deployment's clock (its Date header, its tokens' iat and exp, its keys' createdAt and
    # expiry) runs ahead of the host's, negative behind: on-premises clusters are often minutes off a CI runner.
    clock_offset_s: int = 0
    # Every answer carries a Date header from the deployment's clock; False: none, as an origin server
    # without a clock sends (RFC 9110 section 6.6.1).
    dates_answers: bool = True
    # Expiry (of keys, and of the tokens they are used as or exchanged for) is judged on a clock this many
    # seconds behind the one that dates answers and stamps keys, as by a component on a host whose clock is
    # off, or by naive local time compared with UTC: a key works that long past its expiredAt.
    expiry_clock_behind_s: int = 0
    # An RFC 3339 expiredAt is read without its offset, its wall time taken as UTC: a parser that drops the zone.
    expired_at_offset_ignored: bool = False
    # A console's web session beside the API: an answer to a request authenticated by its Authorization
    # header sets a session cookie, and a later request with that cookie and no Authorization is served as
    # the same user while the credential it came from still authenticates ("bound-to-credential"), or even
    # once that key is deleted or expired ("outlives-credential", CWE-613 insufficient session expiration).
    session_cookie: Literal["none", "bound-to-credential", "outlives-credential"] = "none"
    # A keep-alive connection on which a request was authenticated by its Authorization header serves later
    # requests on it that carry none as that user, as NTLM and Negotiate authenticate connections (RFC 9110
    # section 16.4.2: inherently flawed): behind a gateway that shares backend connections, users swap identities.
    connection_remembers_user: bool = False

    # Secrets and deletes.
    # What a user's record (the users list's and current-user) carries beyond the spec's fields: nothing,
    # the ids and names of the user's keys (no secret), or the keys with their secrets (a row serialised whole).
    user_records_show_keys: Literal["no", "ids", "with-secrets"] = "no"
    # current-user also carries the bearer the deployment last issued to the user (a users table with a token column).
    current_user_shows_last_token: bool = False
    # A header on every answer: none, a random X-Request-Id, or X-Debug-Token holding the secret of the newest
    # key the deployment made (a debug build showing its last write).
    debug_header: Literal["none", "request-id", "newest-key-secret"] = "none"
    # A cookie set on every answer, whatever the request: none, a random session id, or a readable session
    # (base64url JSON, as Flask signs but does not encrypt one) holding the newest key's id and secret.
    answer_cookie: Literal["none", "random-id", "readable-with-newest-key-secret"] = "none"
    # Error bodies carry a google.rpc.DebugInfo whose detail names the newest key and its secret.
    error_debug_info: bool = False
    # A delete answers 200 for the named key but removes the user's newest key instead.
    delete_removes_newest: bool = False

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
