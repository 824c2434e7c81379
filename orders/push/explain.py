"""Why a push got its answer, in words for clerks and in the active language: what a refused
push's log row (or a replay's result) kept of the refusal.

The outcome's own label and explanation are ``Outcome.label`` and ``Outcome.explanation``; this
adds the detail of one push: which field was invalid, why no whitelist entry let the plate in.
"""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext

from orders.models import PushLog
from orders.push.kinds import KINDS
from orders.push.outcomes import Outcome
from orders.push.validation import field_label
from whitelist import display

# The log row's fields that hold the detail (``PushResult.detail``'s keys).
DETAIL_FIELDS = ("field_path", "refusal", "refusal_entry_id", "refusal_date", "refusal_park")


def detail_text(
    *, reason: str, message: str, detail: Mapping[str, Any], kind: str = PushLog.Kind.PAY
) -> str:
    """Return the refusal's detail as a sentence, or "" when nothing was kept (other outcomes,
    rows logged before the detail was): the outcome's explanation then says it all. ``kind``
    is the push's (``PushLog.kind``): its fields name an invalid one."""
    if reason == Outcome.NOT_WHITELISTED and detail.get("refusal"):
        return display.not_covered(
            why=detail["refusal"],
            date=detail.get("refusal_date"),
            park_uuid=detail.get("refusal_park") or "",
            park_name=detail.get("refusal_park_name"),
        )
    path = detail.get("field_path") or ""
    if reason == Outcome.INVALID_FIELD and path:
        # The message is "<path>: <what is wrong>" (validation.InvalidField), in English.
        problem = message.removeprefix(f"{path}: ")
        label = field_label(path, serializer_class=KINDS[kind].fields)
        if label is None:
            return gettext("Field %(field)s is invalid: %(problem)s") % {
                "field": path,
                "problem": problem,
            }
        return gettext("Field “%(label)s” (%(field)s) is invalid: %(problem)s") % {
            "label": label,
            "field": path,
            "problem": problem,
        }
    return ""


def log_detail(log: PushLog) -> str:
    """Return ``detail_text`` for a push-log row (its park's name read with it when annotated:
    ``orders.selectors.pushlog.for_list``)."""
    detail = {name: getattr(log, name) for name in DETAIL_FIELDS}
    detail["refusal_park_name"] = getattr(log, "refusal_park_name", None)
    return detail_text(reason=log.reason, message=log.message, detail=detail, kind=log.kind)
