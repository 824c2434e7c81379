"""The platform's MD5 signature rule (PUSH_PROTOCOL.md, PLATFORM_API.md).

Pure functions, no ORM and no settings: the push receiver and the outbound API client both
sign and verify with these, so there is exactly one implementation of the rule.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SIGN_FIELD = "sign"


def render_value(value: Any) -> str:
    """Render one parameter value the way the platform does before signing."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    # Numbers are their JSON text; arrays and objects compact JSON with non-ASCII kept.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def string_to_sign(params: Mapping[str, Any] | Iterable[tuple[str, Any]], secret: str) -> str:
    """Build the text that is hashed: sorted non-empty ``key=value`` pairs plus the secret.

    ``params`` may be a mapping or a sequence of pairs (a repeated name, allowed in outbound
    query strings, is then sorted by its value).
    """
    items = params.items() if isinstance(params, Mapping) else params
    pairs = sorted(
        (key, render_value(value))
        for key, value in items
        if key != SIGN_FIELD and value is not None and value != ""
    )
    joined = "&".join(f"{key}={value}" for key, value in pairs)
    return f"{joined}&app_secret={secret}"


def _md5_upper(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest().upper()


def sign_params(params: Mapping[str, Any] | Sequence[tuple[str, Any]], secret: str) -> str:
    """Return the upper-case hex MD5 signature of ``params`` under ``secret``."""
    return _md5_upper(string_to_sign(params, secret).encode("utf-8"))


def sign_body(body: bytes, secret: str) -> str:
    """Return the header-style signature: MD5 of the raw body, ``&app_secret=`` and the secret."""
    return _md5_upper(body + b"&app_secret=" + secret.encode("utf-8"))


def _matches(given: Any, expected: str) -> bool:
    if not isinstance(given, str):
        return False
    # Constant time, so the comparison does not leak how many leading characters matched.
    return hmac.compare_digest(given.strip().upper().encode("utf-8"), expected.encode("ascii"))


def verify_params(params: Mapping[str, Any], signature: Any, secrets: Sequence[str]) -> bool:
    """Tell whether ``signature`` signs ``params`` under any of ``secrets`` (case-insensitive)."""
    # Every secret is tried, even after a match, so timing does not reveal which one matched.
    results = [_matches(signature, sign_params(params, secret)) for secret in secrets]
    return any(results)


def verify_body(body: bytes, signature: Any, secrets: Sequence[str]) -> bool:
    """Tell whether the header ``signature`` signs the raw ``body`` under any of ``secrets``."""
    results = [_matches(signature, sign_body(body, secret)) for secret in secrets]
    return any(results)
