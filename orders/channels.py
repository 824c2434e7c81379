"""Payment channels by name: the one home of how a channel code is shown.

The names are finance's table (``orders.models.Channel``, seeded with the codes the platform
documents). A page or an export reads them all once (``channel_names``: one query on a table of
a few rows) and names every row from that dict; a list annotates its page's rows
(``with_channel_name``); the order CSV's COPY joins the same table (``name_sql``). The name is
the English one for English readers when finance gave one, else the Chinese one. A code without
a name is shown as it is, with a hint that finance may name it.
"""

from django.db.models import (
    Case,
    CharField,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    TextChoices,
    Value,
    When,
)
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from orders.models import Channel


class DocumentedChannel(TextChoices):
    """The channel codes the platform's appendix defines (docs/platform-api.md).

    Not a closed list: the platform sends others (``200102`` in its own examples), stored and
    shown as they are. The API's schema names these and lets any other code through.
    """

    ALIPAY_APP = "100002", _("Alipay app")
    ALIPAY = "100102", _("Alipay")
    WECHAT_APP = "200001", _("WeChat app")
    WECHAT_JSAPI = "200201", _("WeChat JSAPI")
    CCB = "800001", _("China Construction Bank")
    UNIONPAY = "800071", _("UnionPay")
    RURAL_CREDIT = "800072", _("Rural credit cooperatives")


def english() -> bool:
    """Whether names are read in English (the active language; decide it before streaming)."""
    return (get_language() or "").startswith("en")


def name_expression(*, in_english: bool | None = None) -> Expression:
    """Return a Channel's name: Chinese, or English (the Chinese where none is given)."""
    if not (english() if in_english is None else in_english):
        return F("name")
    return Case(When(name_en="", then=F("name")), default=F("name_en"), output_field=CharField())


def name_sql(*, in_english: bool | None = None) -> str:
    """Return ``name_expression`` as SQL over the Channel table's columns (for a statement
    Django does not compile: the order CSV's COPY)."""
    if not (english() if in_english is None else in_english):
        return "name"
    return "COALESCE(NULLIF(name_en, ''), name)"


def channel_names(*, in_english: bool | None = None, using: str | None = None) -> dict[str, str]:
    """Return every named channel's code → name (one query)."""
    rows = (
        Channel.objects.using(using)
        .annotate(label=name_expression(in_english=in_english))
        .values_list("code", "label")
    )
    return dict(rows)


def channel_label(code: str, names: dict[str, str]) -> str:
    """Return how a page shows a channel: its name, or the code with a hint when unnamed."""
    name = names.get(code)
    if name:
        return name
    if not code:
        return gettext("(empty)")
    return gettext("%(code)s (no name yet)") % {"code": code}


def with_channel_name(
    queryset: QuerySet, *, field: str = "channel", name: str = "channel_name"
) -> QuerySet:
    """Annotate ``queryset`` with ``name`` (``channel_name``), the name of its ``field``'s
    channel ("" when unnamed): a subquery on the code's unique index, run only for the rows a
    page reads."""
    names = Channel.objects.filter(code=OuterRef(field)).annotate(label=name_expression())
    return queryset.annotate(**{name: Coalesce(Subquery(names.values("label")[:1]), Value(""))})
