"""The statement page and its Excel and CSV exports, inside the admin (its login, header, sidebar).

``/admin/orders/statement/?month=YYYY-MM`` (or ``from``/``to``) ``[&holder=…][&plate=…]
[&page=N]``: per holder and plate the orders, amount paid, discount relief and coupon money,
each holder's subtotal and the total; this month by default. Every holder: a page of holders
(by name, each with all their lines; ENTRIES_PER_PAGE entries between them), the total the
whole statement's. With one
holder or plate, all its lines and its orders beneath, ORDERS_PER_PAGE a page; every order is
in the CSV, and each plate links to the order list of its days. Any other parameter is refused
(400, the page with the reason). Included by ``parkingops/urls.py`` before the admin's own
routes, like the daily summary.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders import selectors as order_selectors
from orders.permissions import EXPORT_ORDERS, VIEW_ORDERS
from orders.statements import selectors
from orders.statements.exports import statement_csv, statement_xlsx
from parkingops import tabular, xlsx
from parkingops.adminquery import bad_query_response, query_string_errors
from parkingops.formatting import CHINA

# A page of the statement: the holders of a statement of every holder, as many as have at most
# ENTRIES_PER_PAGE whitelist entries between them (a big park has hundreds of holders, each
# with a line per car), the orders beneath a holder's or a plate's (thousands a month). Every
# order is in the CSV and the order list.
ENTRIES_PER_PAGE = 200
ORDERS_PER_PAGE = 100


def _read(request: HttpRequest) -> tuple[selectors.StatementQuery | None, list[str]]:
    """Return the page's query, or None and the reasons it cannot be used."""
    errors = query_string_errors(request.GET, known=(*selectors.PARAMETERS, "page"))
    if errors:
        return None, errors
    try:
        query = selectors.read_params(request.GET, today=timezone.now().astimezone(CHINA).date())
    except selectors.StatementQueryError as exc:
        return None, [message for messages in exc.errors.values() for message in messages]
    return query, []


def _query_string(query: selectors.StatementQuery) -> str:
    params = {"from": query.date_from.isoformat(), "to": query.date_to.isoformat()}
    params.update(
        {name: getattr(query, name) for name in ("holder", "plate") if getattr(query, name)}
    )
    return urlencode(params)


def _with_order_links(
    statement: selectors.Statement,
) -> list[tuple[selectors.HolderStatement, list[tuple[selectors.StatementLine, str]]]]:
    """Return each holder with their lines, each line with the address of the order list
    filtered by its plate and the statement's days."""
    order_list = reverse("admin:orders_payorder_changelist")
    days = {
        "pay_date_from": statement.query.date_from.isoformat(),
        "pay_date_to": statement.query.date_to.isoformat(),
    }
    return [
        (
            entry,
            [
                (line, f"{order_list}?{urlencode({'q': line.plate, **days})}")
                for line in entry.plates
            ],
        )
        for entry in statement.holders
    ]


def _check(request: HttpRequest, *permissions: str) -> None:
    if not all(request.user.has_perm(permission) for permission in permissions):
        raise PermissionDenied


def _page(request: HttpRequest, items, per_page: int) -> Page:
    """Return the page of ``items`` the ``page`` parameter asks for (the last one when past
    it, the first when it is not a number)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def _page_url(query: selectors.StatementQuery, number: int) -> str:
    return f"?{_query_string(query)}&{urlencode({'page': number})}"


def statement_page(request: HttpRequest) -> HttpResponse:
    """Show a page of the statement (400 with the reasons when the query string is not valid):
    every holder's, a page of holders and the whole statement's total; one holder's or
    plate's, its lines and a page of its orders."""
    _check(request, VIEW_ORDERS)
    query, errors = _read(request)
    statement, page, orders, total = None, None, [], None
    if query and (query.holder or query.plate):
        statement = selectors.statement(query=query)
        total = statement.total
        page = _page(
            request,
            selectors.statement_orders(query=query).select_related("park", "whitelist_entry"),
            ORDERS_PER_PAGE,
        )
        orders = list(page.object_list)
        extras = order_selectors.order_extras(order_ids=[order.pk for order in orders])
        for order in orders:
            order.extras = extras[order.pk]
    elif query:
        page = _page(request, selectors.holder_pages(entries_per_page=ENTRIES_PER_PAGE), 1)
        holders = page.object_list[0] if page.object_list else []
        statement = selectors.statement(query=query, holders=holders)
        total = selectors.statement_total(query=query)
    context = {
        **admin.site.each_context(request),
        "title": _("Statements per holder"),
        "query": query,
        "params": request.GET,
        "errors": errors,
        "statement": statement,
        "total": total,
        "holders": _with_order_links(statement) if statement else [],
        "orders": orders,
        "page": page,
        "page_urls": _page_urls(query, page) if page else {},
        **_export_urls(query, request),
    }
    return TemplateResponse(
        request, "admin/orders/statement/statement.html", context, status=400 if errors else 200
    )


def _page_urls(query: selectors.StatementQuery, page: Page) -> dict[str, str]:
    """Return the addresses of the pages before and after ``page`` (those there are)."""
    urls = {}
    if page.has_previous():
        urls["previous"] = _page_url(query, page.previous_page_number())
        urls["first"] = _page_url(query, 1)
    if page.has_next():
        urls["next"] = _page_url(query, page.next_page_number())
        urls["last"] = _page_url(query, page.paginator.num_pages)
    return urls


def _export_urls(query: selectors.StatementQuery | None, request: HttpRequest) -> dict:
    """Return the page's export links: none without a valid query or the export permission."""
    if not query or not request.user.has_perm(EXPORT_ORDERS):
        return {"export_url": None, "export_xlsx_url": None}
    return {
        "export_url": f"{reverse('orders_statement_export')}?{_query_string(query)}",
        "export_xlsx_url": f"{reverse('orders_statement_export_xlsx')}?{_query_string(query)}",
    }


def statement_export(request: HttpRequest, file_format: str = "csv") -> HttpResponse:
    """Download the statement as CSV or XLSX, orders and subtotals (needs
    ``orders.export_orders``)."""
    _check(request, VIEW_ORDERS, EXPORT_ORDERS)
    query, errors = _read(request)
    if errors:
        return bad_query_response(errors)
    statement = selectors.statement(query=query)
    filename = tabular.export_filename("statement", query.date_from, query.date_to)
    if file_format == "xlsx":
        about = xlsx.About(request.user.get_username(), timezone.now(), _in_words(query))
        try:
            file = statement_xlsx(statement, about=about)
        except xlsx.TooManyRows as error:
            return bad_query_response([error.message])
        return xlsx.xlsx_response(file, xlsx.xlsx_filename(filename))
    return tabular.csv_response(statement_csv(statement), filename)


def _in_words(query: selectors.StatementQuery) -> list[tuple[str, str]]:
    """Return the statement's filters as the Excel file's last sheet says them."""
    words = [
        (gettext("From"), query.date_from.isoformat()),
        (gettext("To"), query.date_to.isoformat()),
    ]
    if query.holder:
        words.append((gettext("holder"), query.holder))
    if query.plate:
        words.append((gettext("plate"), query.plate))
    return words


urlpatterns = [
    path("", admin.site.admin_view(statement_page), name="orders_statement"),
    path("export/", admin.site.admin_view(statement_export), name="orders_statement_export"),
    path(
        "export/xlsx/",
        admin.site.admin_view(statement_export),
        {"file_format": "xlsx"},
        name="orders_statement_export_xlsx",
    ),
]
