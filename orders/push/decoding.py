"""Reading a push body (PUSH_PROTOCOL.md, step 1): the bytes off the request (with a length or
chunked), the content type, UTF-8, a form or a JSON object, at most 1 MiB, no repeated key, no
text a database cannot store.

Plain functions raising ``BadBody``; validating the fields is ``orders.push.validation``'s job.
"""

import json
import math
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Any, BinaryIO
from urllib.parse import parse_qsl

from django.http import HttpRequest

MAX_BODY_BYTES = 1024 * 1024
# A push is three levels deep (body, list, object); anything far deeper is junk, and refusing
# it early keeps json.dumps (signing, storing) from hitting the recursion limit: a 500.
MAX_DEPTH = 32


class BadBody(ValueError):
    """The body cannot be read as a push at all (step 1 of the protocol's checks)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def _read_up_to(stream: BinaryIO | HttpRequest, size: int) -> bytes:
    """Read ``size`` bytes or up to the end: one ``read`` may return less than asked."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        part = stream.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def read_body(request: HttpRequest) -> bytes:
    """Read a push's body off the request: at most one byte past the limit, which is enough to
    tell a too-large body (the rest is never read). Raise BadBody when it cannot be read.

    A chunked body (``Transfer-Encoding: chunked``) has no ``Content-Length``, and Django then
    reads it as empty. A server that de-chunks the body and ends the stream where the body
    ends says so with ``wsgi.input_terminated`` (gunicorn does); the body is read from its
    stream. A server that does neither (Django's runserver) cannot give the body at all: that
    is refused, never taken for an empty push.
    """
    meta = request.META
    if meta.get("CONTENT_LENGTH"):
        return _read_up_to(request, MAX_BODY_BYTES + 1)
    if meta.get("wsgi.input_terminated"):
        return _read_up_to(meta["wsgi.input"], MAX_BODY_BYTES + 1)
    if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise BadBody("a chunked body cannot be read by this server; send a Content-Length")
    return b""


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise BadBody(f"key {key!r} is given twice")
        seen[key] = value
    return seen


def _reject_constant(name: str) -> None:
    raise BadBody(f"{name} is not a JSON number")


def _parse_float(text: str) -> float:
    # parse_constant only sees the words NaN/Infinity: 1e999 silently becomes inf, which
    # PostgreSQL's jsonb refuses (a 500 on storing) and the platform cannot have meant.
    value = float(text)
    if not math.isfinite(value):
        raise BadBody(f"{text} is out of range for a JSON number")
    return value


def loads_json(text: str) -> Any:
    """Parse JSON refusing repeated keys, NaN/Infinity and overflowing numbers.

    Raise BadBody or ValueError.
    """
    return json.loads(
        text,
        object_pairs_hook=_reject_duplicate_keys,
        parse_constant=_reject_constant,
        parse_float=_parse_float,
    )


def check_text(value: Any) -> None:
    """Refuse text no database can store (NUL, lone surrogates) and absurd nesting."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadBody(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, str):
            if "\x00" in item:
                raise BadBody("contains a NUL character")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadBody("contains an unpaired surrogate") from None
        elif isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def decode_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Turn a request body into the top-level parameters, or raise BadBody."""
    if len(body) > MAX_BODY_BYTES:
        raise BadBody("the body is larger than 1 MiB", too_large=True)
    header = Message()
    header["content-type"] = content_type or ""
    media_type = header.get_content_type() if content_type else ""
    # collapse: an RFC 2231 parameter (``charset*=utf-8''utf-8``) comes back as a tuple.
    charset = collapse_rfc2231_value(header.get_param("charset") or "utf-8").lower()
    if charset not in {"utf-8", "utf8"}:
        raise BadBody(f"charset {charset!r} is not supported; send UTF-8")
    try:
        text = body.decode("utf-8")
        if media_type == "application/x-www-form-urlencoded":
            pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
            payload: Any = _reject_duplicate_keys(pairs)
        elif media_type == "application/json":
            payload = loads_json(text)
            if not isinstance(payload, dict):
                raise BadBody("the JSON body is not an object")
        else:
            raise BadBody(
                "content type must be application/x-www-form-urlencoded or application/json"
            )
        try:
            check_text(payload)
        except BadBody as exc:
            raise BadBody(f"the body {exc}") from None
    except UnicodeError:
        raise BadBody("the body is not valid UTF-8") from None
    except RecursionError:
        raise BadBody("the JSON body is nested too deeply") from None
    except BadBody:
        raise
    except ValueError as exc:
        raise BadBody(f"the JSON body cannot be parsed: {exc}") from None
    return payload
