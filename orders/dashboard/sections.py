"""The home page's sections for one user: which they may see (their permissions, never their
group's name), the figures of those only, each with the address of the filtered admin list
behind it, and the charts' data for ``json_script``.

Finance (``orders.view_payorder``): takings per park and the 30-day chart; with
``orders.view_reconciliationrun`` the open differences and the unreconciled days. Operations
(who keeps the whitelist, ``whitelist.change_whitelistentry``): with ``orders.view_pushlog`` the
pushes of the last 24 hours, the refused plates and the silent parks; with
``whitelist.view_whitelistentry`` the entries the platform has not confirmed and those expiring.
Finance reads the push log too, but for single orders: the push monitoring is operations'.
Stays (``orders.view_stay``, both roles): the cars in each park now, linked to the stay list
filtered so, and the mean length of stay per park and week.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from orders.dashboard import selectors
from orders.permissions import VIEW_ORDERS, VIEW_RECONCILIATION
from orders.push.outcomes import Outcome
from orders.reconciliation.selectors import open_differences
from parkingops.formatting import CHINA, fen_to_yuan, hours_minutes
from whitelist.admin_filters import ExpiringFilter
from whitelist.models import PlateSync
from whitelist.permissions import CHANGE_ENTRY

VIEW_PUSHLOG = "orders.view_pushlog"
VIEW_ENTRIES = "whitelist.view_whitelistentry"
VIEW_PARKS = "whitelist.view_park"
VIEW_STAYS = "orders.view_stay"
EXPIRING_PARAM = "7d"  # ExpiringFilter's one choice
GAPS_SHOWN = 5  # the newest unreconciled park-days listed; the figure links to them all


def admin_list(name: str, **params) -> str:
    """Return the address of the admin list ``name`` filtered by ``params`` (its own query
    parameters; a None value is left out)."""
    url = reverse(f"admin:{name}")
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return f"{url}?{query}" if query else url


def orders_list(*, park_uuid: str | None = None, first: date, last: date) -> str:
    return admin_list(
        "orders_payorder_changelist",
        pay_date_from=first.isoformat(),
        pay_date_to=last.isoformat(),
        park=park_uuid or None,
    )


def chart_data(*, labels: list[str], series, unit: str, money: bool) -> dict:
    """Return a chart's data for ``json_script``: labels, one dataset per series (yuan as a
    number when ``money``: only the chart reads it, the tables show exact yuan)."""
    return {
        "labels": labels,
        "unit": unit,
        "datasets": [
            {
                "label": line.label,
                "key": line.key,
                "data": [value / 100 if money else value for value in line.values],
            }
            for line in series
        ],
    }


@dataclass
class Link:
    """A figure and the list behind it."""

    text: str
    url: str


def _finance(user, now: datetime) -> dict:
    figures = selectors.finance_figures(now=now)
    today, yesterday, month = figures.today, figures.yesterday, figures.month_start

    def row(line: selectors.Takings) -> dict:
        park = line.park_uuid or None
        return {
            "label": line.label,
            "park_uuid": line.park_uuid,
            "cells": [
                (
                    line.today_count,
                    fen_to_yuan(line.today_paid, grouping=True),
                    orders_list(park_uuid=park, first=today, last=today),
                ),
                (
                    line.yesterday_count,
                    fen_to_yuan(line.yesterday_paid, grouping=True),
                    orders_list(park_uuid=park, first=yesterday, last=yesterday),
                ),
                (
                    line.month_count,
                    fen_to_yuan(line.month_paid, grouping=True),
                    orders_list(park_uuid=park, first=month, last=today),
                ),
            ],
        }

    days = figures.days
    section = {
        "today": today,
        "yesterday": yesterday,
        "month_start": month,
        "parks": [row(line) for line in figures.parks],
        "total": row(figures.total),
        "chart": chart_data(
            labels=[f"{day:%m-%d}" for day in days],
            series=figures.series,
            unit=gettext("yuan"),
            money=True,
        ),
        "chart_rows": [
            {
                "day": day,
                "url": orders_list(first=day, last=day),
                "values": [fen_to_yuan(line.values[n], grouping=True) for line in figures.series],
            }
            for n, day in enumerate(days)
        ],
        "chart_series": figures.series,
        "chart_first": days[0],
        "chart_last": days[-1],
        "summary_url": reverse("orders_daily_summary")
        + "?"
        + urlencode({"from": days[0].isoformat(), "to": days[-1].isoformat()}),
        "reconciliation": None,
    }
    if user.has_perm(VIEW_RECONCILIATION):
        section["reconciliation"] = {
            "open": open_differences(),
            "open_url": admin_list("orders_reconciliationitem_changelist", resolved="0"),
            "gaps": [
                {
                    "gap": gap,
                    "url": orders_list(park_uuid=gap.park_uuid, first=gap.day, last=gap.day),
                }
                for gap in figures.gaps[:GAPS_SHOWN]
            ],
            "gap_count": len(figures.gaps),
            "gaps_url": reverse("admin:orders_reconciliationrun_unreconciled")
            + "?"
            + urlencode(
                {"date_from": figures.gaps_from.isoformat(), "date_to": figures.gaps_to.isoformat()}
            ),
        }
    return section


def _pushes(user, now: datetime) -> dict:
    figures = selectors.push_figures(now=now)
    first = figures.start.astimezone(CHINA).date()
    last = timezone.localtime(now, CHINA).date()
    window = {"received_date_from": first.isoformat(), "received_date_to": last.isoformat()}
    labels = [f"{hour:%H}:00" for hour in figures.hours]
    plates = selectors.refused_plates(now=now)
    totals = [
        {
            "label": line.label,
            "count": sum(line.values),
            "url": admin_list("orders_pushlog_changelist", reason=line.key, **window),
        }
        for line in figures.series
    ]
    return {
        "chart": chart_data(
            labels=labels, series=figures.series, unit=gettext("pushes (count)"), money=False
        ),
        "chart_rows": [
            {"hour": hour, "values": [line.values[n] for line in figures.series]}
            for n, hour in enumerate(figures.hours)
        ],
        "chart_series": figures.series,
        "start": figures.start,
        "total": figures.total,
        "totals": totals,
        "list_url": admin_list("orders_pushlog_changelist", **window),
        "refused": [
            {
                "plate": plate.plate,
                "count": plate.count,
                "reason": Outcome(plate.reason).label if plate.reason else "",
                "url": admin_list(
                    "orders_pushlog_changelist",
                    q=plate.plate,
                    reason=plate.reason or None,
                    **window,
                ),
            }
            for plate in plates
        ],
        "silent": [
            {
                "park": park,
                "url": _park_link(user, park.park_uuid, now=now),
                "gap_minutes": max(1, round(park.usual_gap.total_seconds() / 60)),
            }
            for park in selectors.silent_parks(now=now)
        ],
        "silence_rule": {
            "sample": selectors.SILENCE_SAMPLE,
            "factor": selectors.SILENCE_FACTOR,
            "floor": int(selectors.SILENCE_FLOOR.total_seconds() // 60),
            "horizon": selectors.SILENCE_HORIZON.days,
        },
    }


def _park_link(user, park_uuid: str, *, now: datetime) -> str:
    """The park's recent orders when the user may read orders, else the park list's search."""
    if user.has_perm(VIEW_ORDERS):
        today = timezone.localtime(now, CHINA).date()
        return orders_list(park_uuid=park_uuid, first=today - timedelta(days=7), last=today)
    return admin_list("whitelist_park_changelist", q=park_uuid)


def stays_list(**params) -> str:
    """Return the address of the stay list filtered by ``params`` (its own query parameters:
    ``park`` (the park's uuid), ``in_park``)."""
    url = reverse("admin:orders_stay_changelist")
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return f"{url}?{query}" if query else url


def _stays(now: datetime) -> dict:
    figures = selectors.stay_figures(now=now)
    return {
        "weeks": figures.weeks,
        "in_park": Link(str(figures.in_park), stays_list(in_park=1)),
        "parks": [
            {
                "label": line.label,
                "park_uuid": line.park_uuid,
                "in_park": Link(str(line.in_park), stays_list(park=line.park_uuid, in_park=1)),
                "weeks": [hours_minutes(seconds) for seconds in line.weeks],
            }
            for line in figures.parks
        ],
    }


def _whitelist(now: datetime) -> dict:
    figures = selectors.whitelist_figures(now=now)
    entries = "whitelist_whitelistentry_changelist"
    return {
        "failed": Link(str(figures.failed), admin_list(entries, sync=PlateSync.State.FAILED.value)),
        "pending": Link(
            str(figures.pending), admin_list(entries, sync=PlateSync.State.PENDING.value)
        ),
        "expiring": Link(
            str(figures.expiring),
            admin_list(entries, **{ExpiringFilter.parameter_name: EXPIRING_PARAM}),
        ),
        "expiring_days": ExpiringFilter.EXPIRING_DAYS,
    }


def dashboard(request: HttpRequest, *, now: datetime | None = None) -> dict:
    """Return the sections ``request.user`` may see, each with its figures (None: not shown)."""
    user = request.user
    now = now or timezone.now()
    operations = user.has_perm(CHANGE_ENTRY)
    return {
        "finance": _finance(user, now) if user.has_perm(VIEW_ORDERS) else None,
        "pushes": _pushes(user, now) if operations and user.has_perm(VIEW_PUSHLOG) else None,
        "whitelist": _whitelist(now) if operations and user.has_perm(VIEW_ENTRIES) else None,
        "stays": _stays(now) if user.has_perm(VIEW_STAYS) else None,
        "now": now,
    }
