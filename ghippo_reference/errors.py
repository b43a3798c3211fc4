"""Errors as grpc-gateway writes them: a google.rpc.Status body and the HTTP status it maps to.

Every refusal in the reference is an `ApiError` naming a `Reason`; the knobs that change how
errors look (status, code, wording, challenge header, plain text) are applied here only.
"""

from dataclasses import dataclass

from ghippo_reference.behaviour import Behaviour

# gRPC status codes used by the API.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
INTERNAL = 13
UNAUTHENTICATED = 16

# grpc-gateway v2's default mapping (runtime/errors.go), with the names plain-text errors use.
_HTTP_STATUS = {
    INVALID_ARGUMENT: (400, "invalid argument"),
    NOT_FOUND: (404, "not found"),
    RESOURCE_EXHAUSTED: (429, "resource exhausted"),
    FAILED_PRECONDITION: (400, "failed precondition"),
    INTERNAL: (500, "internal"),
    UNAUTHENTICATED: (401, "unauthenticated"),
}

REALM = "ghippo.io"
# The scope a challenge names under challenge_scope (RFC 6750 section 3): space-separated, case-sensitive.
SCOPE = "openid profile"
# What google.rpc.ErrorInfo's domain names: the service that raised the error.
_ERROR_DOMAIN = "ghippo.io"


@dataclass(frozen=True)
class Reason:
    """Why a request failed, in both wordings (`error_message_style`); `{…}` are filled in."""

    code: int
    default: str
    alternate: str


UNAUTHENTICATED_REQUEST = Reason(
    UNAUTHENTICATED,
    "unauthenticated: a valid bearer token is required",
    "access denied, no acceptable credentials were supplied",
)
MALFORMED_AUTHORIZATION = Reason(
    INVALID_ARGUMENT,
    "malformed Authorization header: expected 'Bearer <token>'",
    "the Authorization header could not be parsed",
)
BAD_KEY_PAIR = Reason(
    UNAUTHENTICATED,
    "unauthenticated: unknown access key or wrong secret key",
    "the key pair was not accepted",
)
MISSING_PARAMETER = Reason(
    INVALID_ARGUMENT,
    "{name} is required",
    "parameter {name} must be given and not empty",
)
BAD_INTEGER = Reason(
    INVALID_ARGUMENT,
    "{name} must be an integer from {low} to {high}",
    "invalid value for {name}, allowed range is {low}..{high}",
)
BAD_BODY = Reason(
    INVALID_ARGUMENT,
    "request body must be a JSON object with string fields name and expiredAt",
    "could not read the request body",
)
BAD_EXPIRY = Reason(
    INVALID_ARGUMENT,
    "expiredAt must be empty, epoch seconds or an RFC 3339 time in the future",
    "invalid expiry time",
)
KEY_LIMIT = Reason(
    FAILED_PRECONDITION,
    "access key limit reached: a user may hold at most {limit} keys",
    "cannot create another key, the per-user maximum of {limit} is in use",
)
TOKEN_ALREADY_ISSUED = Reason(
    FAILED_PRECONDITION,
    "a token was already issued for this key pair",
    "this access key has been exchanged before",
)
KEY_NOT_FOUND = Reason(NOT_FOUND, "access key not found", "no such access key for this user")
PAGE_NOT_FOUND = Reason(NOT_FOUND, "page {page} is past the last page", "no data on page {page}")
NO_ROUTE = Reason(NOT_FOUND, "Not Found", "the requested resource does not exist")
# Under path_resolution "dot-segments-refused": a path with a "." or ".." segment is not served.
NON_NORMAL_PATH = Reason(INVALID_ARGUMENT, "the path holds a dot segment", "invalid path: '.' and '..' are not allowed")
SERVER_FAULT = Reason(INTERNAL, "internal error", "the server failed to handle the request")
# Sent with status 431 (RFC 6585 section 5) under oversized_authorization = "431".
HEADER_TOO_LARGE = Reason(
    INVALID_ARGUMENT,
    "request header fields too large",
    "the Authorization header is too long",
)


class ApiError(Exception):
    """A refusal: `reason` says why, `params` fill its message.

    `status` overrides the mapped HTTP status (variants answer some errors differently);
    `presented_token` is the bearer the client sent, if any, for the challenge header.
    """

    def __init__(self, reason: Reason, *, status: int | None = None, presented_token: str | None = None, **params):
        super().__init__(reason.default.format(**params))
        self.reason = reason
        self.status = status
        self.presented_token = presented_token
        self.params = params

    def response_parts(self, behaviour: Behaviour, last_write: str = "") -> tuple[int, dict | str, dict[str, str]]:
        """The HTTP status, the body (a str when errors are plain text) and the extra headers;
        `last_write` is what a debug build tells of its last write (error_debug_info)."""
        mapped_status, code_name = _HTTP_STATUS[self.reason.code]
        unauthenticated = self.reason.code == UNAUTHENTICATED
        status = self.status or (behaviour.unauthenticated_status if unauthenticated else mapped_status)
        challenge_wanted = unauthenticated and behaviour.challenge_header
        headers = {"WWW-Authenticate": self._challenge(behaviour)} if challenge_wanted else {}
        if behaviour.plain_text_errors:
            return status, code_name, headers
        wording = self.reason.alternate if behaviour.error_message_style == "alternate" else self.reason.default
        message = wording.format(**self.params)
        if behaviour.echo_token_in_error and self.presented_token is not None:
            message = f"{message}: {self.presented_token}"
        code = {"grpc": self.reason.code, "http-status": status, "connect-name": code_name.replace(" ", "_")}[
            behaviour.error_code
        ]
        details = [_error_info(code_name)] if behaviour.error_details else []
        if behaviour.error_debug_info:
            details.append(
                {"@type": "type.googleapis.com/google.rpc.DebugInfo", "stackEntries": [], "detail": last_write}
            )
        body = {"code": code, "message": message, "details": details}
        if behaviour.error_body_style == "grpc-gateway-v1":
            body = {"error": message, **body}
        if behaviour.omit_empty_error_details and not details:
            del body["details"]
        return status, body, headers

    def _challenge(self, behaviour: Behaviour) -> str:
        # RFC 6750 section 3.1: name the error only when a token was actually presented.
        named = {"when-token-presented": self.presented_token is not None, "never": False, "always": True}
        challenge = f'Bearer realm="{REALM}"'
        if behaviour.challenge_scope:
            challenge += f', scope="{SCOPE}"'
        if named[behaviour.challenge_error]:
            challenge += ', error="invalid_token"'
            if behaviour.challenge_style == "described":
                challenge += ', error_description="the access token is invalid or has expired"'
        return f'Basic realm="{REALM}", {challenge}' if behaviour.challenge_style == "basic-first" else challenge


def _error_info(code_name: str) -> dict:
    """A google.rpc.ErrorInfo as google.protobuf.Any in JSON: its type URL, then its fields."""
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": code_name.upper().replace(" ", "_"),
        "domain": _ERROR_DOMAIN,
        "metadata": {},
    }
