"""Reading JSON that others send: the one rule for the push and the integration API.

``loads_json`` refuses what the standard library quietly accepts or fails on with a 500: a key
given twice (which value counts?), NaN and Infinity, numbers that overflow to infinity (which
PostgreSQL's jsonb refuses), and nesting deep enough to exhaust Python's recursion limit. Every
refusal is a ``RefusedJson`` (a ValueError); text that is not JSON at all stays the parser's own
ValueError. ``JSONParser`` is DRF's parser reading with that rule, answering 400.
"""

import codecs
import json
import math
from typing import Any

from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class RefusedJson(ValueError):
    """Syntactically JSON, but not what we accept (messages are plain English)."""


def reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Return ``pairs`` as a dict, refusing a key given twice (JSON objects and forms alike)."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise RefusedJson(f"key {key!r} is given twice")
        seen[key] = value
    return seen


def _reject_constant(name: str) -> None:
    raise RefusedJson(f"{name} is not a JSON number")


def _parse_float(text: str) -> float:
    # parse_constant only sees the words NaN/Infinity: 1e999 silently becomes inf.
    value = float(text)
    if not math.isfinite(value):
        raise RefusedJson(f"{text} is out of range for a JSON number")
    return value


def loads_json(text: str) -> Any:
    """Parse JSON refusing repeated keys, NaN/Infinity, overflowing numbers and absurd nesting.

    Raise RefusedJson for those, ValueError for text that is not JSON.
    """
    try:
        return json.loads(
            text,
            object_pairs_hook=reject_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
        )
    except RecursionError:
        raise RefusedJson("the JSON is nested too deeply") from None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with ``loads_json``'s rule: anything it refuses is a 400, never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            return loads_json(codecs.getreader(encoding)(stream).read())
        except ValueError as exc:  # also a body that is not valid in its charset
            # DRF's wording, translated; the detail stays as the JSON reader says it.
            raise ParseError(gettext("JSON parse error - %s") % exc) from None
