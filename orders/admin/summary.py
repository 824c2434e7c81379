"""The daily summary page and its Excel and CSV exports, inside the admin (its login, header,
sidebar).

``/admin/orders/summary/daily/?from=YYYY-MM-DD&to=YYYY-MM-DD[&park=UUID][&view=pivot]``: per
China-time day × park × channel with each day's subtotal, the subtotals per park and the total
(``view=rows``, the default), or the pivot (days × parks, amount paid); the last 7 days by
default. Any other parameter or view is refused (400, the page with the reason), like a day that
is not one. The export gives the same view's file. Included by ``parkingops/urls.py`` before the
admin's own routes.
"""

from dataclasses import dataclass, field
from datetime import date

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders import selectors
from orders.exports.rowkinds import RowKind
from orders.exports.summary import VIEWS, summary_file, summary_table, summary_xlsx
from orders.permissions import EXPORT_ORDERS, VIEW_ORDERS
from parkingops import formatting, tabular, xlsx
from parkingops.adminquery import bad_query_response, query_string_errors
from parkingops.formatting import CHINA, parse_day
from whitelist.models import Park


@dataclass
class SummaryQuery:
    """The page's query string, read and checked: the days, the park, and what was wrong."""

    date_from: date | None
    date_to: date | None
    park_uuid: str
    errors: list[str] = field(default_factory=list)
    view: str = VIEWS[0]

    PARAMETERS = ("from", "to", "park", "view")

    @classmethod
    def from_request(cls, request: HttpRequest) -> "SummaryQuery":
        # A parameter the page does not take, or a NUL the database cannot compare, is refused
        # before anything is read.
        errors = query_string_errors(request.GET, known=cls.PARAMETERS)
        if errors:
            return cls(None, None, "", errors)

        def read(raw: str) -> date | None:
            try:
                return parse_day(raw)
            except ValueError as exc:
                errors.append(str(exc))
                return None

        raw_from = request.GET.get("from", "").strip()
        raw_to = request.GET.get("to", "").strip()
        date_from = read(raw_from) if raw_from else None
        date_to = read(raw_to) if raw_to else None
        days_read = not errors
        view = request.GET.get("view", VIEWS[0]).strip()
        if view not in VIEWS:
            errors.append(
                gettext("“%(view)s” is not a view of this page: choose %(views)s.")
                % {"view": view, "views": ", ".join(VIEWS)}
            )
        park_uuid = request.GET.get("park", "").strip()
        if park_uuid and not Park.objects.filter(park_uuid=park_uuid).exists():
            errors.append(gettext("No park has the uuid “%(uuid)s”.") % {"uuid": park_uuid})
        if days_read:
            # The defaults and limits are the API's too: one home, selectors.summary_range.
            try:
                date_from, date_to = selectors.summary_range(
                    date_from=date_from,
                    date_to=date_to,
                    today=timezone.now().astimezone(CHINA).date(),
                )
            except selectors.SummaryRangeError as exc:
                errors.extend(exc.messages)
                date_from, date_to = exc.date_from, exc.date_to
        return cls(date_from, date_to, park_uuid, errors, view if view in VIEWS else VIEWS[0])

    def in_words(self) -> list[tuple[str, str]]:
        """Return the filters as an export's last sheet says them."""
        words = [
            (gettext("From"), self.date_from.isoformat() if self.date_from else ""),
            (gettext("To"), self.date_to.isoformat() if self.date_to else ""),
        ]
        if self.park_uuid:
            words.append((gettext("park"), self.park_uuid))
        if self.view == "pivot":
            words.append((gettext("View"), gettext("Pivot")))
        return words

    def query_string(self, *, view: str | None = None) -> str:
        view = view or self.view
        params = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        if self.park_uuid:
            params["park"] = self.park_uuid
        if view != VIEWS[0]:
            params["view"] = view
        return urlencode(params)

    def view_urls(self) -> dict[str, str]:
        """Return the page's address in each view, the other parameters kept."""
        return {view: f"?{self.query_string(view=view)}" for view in VIEWS}


def _shown_rows(summary: selectors.DailySummary) -> list[dict]:
    """Return the table's rows (``summary_table``) with their numbers formatted and an
    unnamed channel's label translated here, once per cell or channel: a month of a big park
    is thousands of rows, and a filter or a translation per cell in the template was most of
    the page's time."""
    unnamed: dict[str, str] = {}
    escaped: dict[str, str] = {}

    def escape(text: str) -> str:
        # The same few parks and channels on every row: each escaped once (safe strings are
        # not escaped again by the template).
        if text not in escaped:
            escaped[text] = conditional_escape(text)
        return escaped[text]

    numbers: dict[int, str] = {}

    def number(value: int) -> str:
        # Counts repeat from row to row: each formatted once.
        if value not in numbers:
            numbers[value] = SafeString(localize(value))
        return numbers[value]

    rows = []
    for row in summary_table(summary):
        code = row["channel"]
        if row["row_kind"] == RowKind.DETAIL and not row["channel_name"] and code not in unnamed:
            unnamed[code] = conditional_escape(gettext("%(code)s (no name yet)") % {"code": code})
        row["channel_unnamed"] = unnamed.get(code, "")
        # Digits, a sign, a point and ¥: nothing to escape.
        for name in ("paid", "relief", "coupon_value"):
            row[name] = SafeString(formatting.yuan(row[name]))
        for name in ("orders", "coupons"):
            row[name] = number(row[name])
        for name in ("date", "park_uuid", "park_name", "channel", "channel_name"):
            row[name] = escape(row[name])
        rows.append(row)
    return rows


def _check(request: HttpRequest, *permissions: str) -> None:
    if not all(request.user.has_perm(permission) for permission in permissions):
        raise PermissionDenied


def daily_summary(request: HttpRequest) -> HttpResponse:
    """Show the summary table (400 with the reason when the query string is not valid)."""
    _check(request, VIEW_ORDERS)
    query = SummaryQuery.from_request(request)
    summary = None
    if not query.errors:
        summary = selectors.daily_summary(
            date_from=query.date_from, date_to=query.date_to, park_uuid=query.park_uuid
        )
    export_url = export_xlsx_url = None
    if request.user.has_perm(EXPORT_ORDERS) and not query.errors:
        export_url = f"{reverse('orders_daily_summary_export')}?{query.query_string()}"
        export_xlsx_url = f"{reverse('orders_daily_summary_export_xlsx')}?{query.query_string()}"
    context = {
        **admin.site.each_context(request),
        "title": _("Daily summary"),
        "query": query,
        "summary": summary,
        "table": _shown_rows(summary) if summary and query.view == "rows" else None,
        "pivot": summary.pivot if summary and query.view == "pivot" else None,
        "parks": Park.objects.order_by("name", "park_uuid").values_list("park_uuid", "name"),
        "export_url": export_url,
        "export_xlsx_url": export_xlsx_url,
        "orders_url": reverse("admin:orders_payorder_changelist"),
    }
    return TemplateResponse(
        request,
        "admin/orders/summary/daily.html",
        context,
        status=400 if query.errors else 200,
    )


def daily_summary_export(request: HttpRequest, file_format: str = "csv") -> HttpResponse:
    """Download the same summary (its table or its pivot) as CSV or XLSX (needs
    ``orders.export_orders``)."""
    _check(request, VIEW_ORDERS, EXPORT_ORDERS)
    query = SummaryQuery.from_request(request)
    if query.errors:
        return bad_query_response(query.errors)
    summary = selectors.daily_summary(
        date_from=query.date_from, date_to=query.date_to, park_uuid=query.park_uuid
    )
    if file_format == "xlsx":
        about = xlsx.About(request.user.get_username(), timezone.now(), query.in_words())
        try:
            file, name = summary_xlsx(summary, query.view, about=about)
        except xlsx.TooManyRows as error:
            return bad_query_response([error.message])
        filename = tabular.export_filename(name, query.date_from, query.date_to)
        return xlsx.xlsx_response(file, xlsx.xlsx_filename(filename))
    pieces, name = summary_file(summary, query.view)
    filename = tabular.export_filename(name, query.date_from, query.date_to)
    return tabular.csv_response(pieces, filename)


urlpatterns = [
    path("daily/", admin.site.admin_view(daily_summary), name="orders_daily_summary"),
    path(
        "daily/export/",
        admin.site.admin_view(daily_summary_export),
        name="orders_daily_summary_export",
    ),
    path(
        "daily/export/xlsx/",
        admin.site.admin_view(daily_summary_export),
        {"file_format": "xlsx"},
        name="orders_daily_summary_export_xlsx",
    ),
]
