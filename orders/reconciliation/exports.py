"""The reconciliation's CSVs and their XLSX twins: the runs (``runs_csv``, ``runs_xlsx``) and
their differences (``items_csv``, ``items_xlsx``)."""

from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils.translation import gettext, pgettext_lazy

from orders.reconciliation import selectors
from orders.reconciliation.fields import display_pair, with_channel_names
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from parkingops import tabular, xlsx
from parkingops.db_routers import on_replica
from parkingops.jobs.progress import NO_PROGRESS, Progress
from parkingops.tabular import Column, Kind

RUN_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "date"), Kind.TEXT, "date"),
    Column(pgettext_lazy("CSV header", "park_uuid"), Kind.TEXT, "park__park_uuid"),
    Column(pgettext_lazy("CSV header", "park_name"), Kind.TEXT, "park__name"),
    Column(pgettext_lazy("CSV header", "status"), Kind.TEXT, "status"),
    Column(pgettext_lazy("CSV header", "message"), Kind.TEXT, "message"),
    Column(pgettext_lazy("CSV header", "platform_count"), Kind.NUMBER, "platform_count"),
    Column(pgettext_lazy("CSV header", "platform_value_yuan"), Kind.YUAN, "platform_value"),
    Column(pgettext_lazy("CSV header", "platform_value_fen"), Kind.FEN, "platform_value"),
    Column(pgettext_lazy("CSV header", "our_count"), Kind.NUMBER, "ours_count"),
    Column(pgettext_lazy("CSV header", "our_value_yuan"), Kind.YUAN, "ours_value"),
    Column(pgettext_lazy("CSV header", "our_value_fen"), Kind.FEN, "ours_value"),
    Column(pgettext_lazy("CSV header", "matched_count"), Kind.NUMBER, "matched_count"),
    Column(pgettext_lazy("CSV header", "matched_value_yuan"), Kind.YUAN, "matched_value"),
    Column(pgettext_lazy("CSV header", "matched_value_fen"), Kind.FEN, "matched_value"),
    Column(pgettext_lazy("CSV header", "missing_here_count"), Kind.NUMBER, "missing_here"),
    Column(
        pgettext_lazy("CSV header", "missing_at_platform_count"),
        Kind.NUMBER,
        "missing_at_platform",
    ),
    Column(pgettext_lazy("CSV header", "amount_differs_count"), Kind.NUMBER, "amount_differs"),
    Column(pgettext_lazy("CSV header", "fields_differ_count"), Kind.NUMBER, "fields_differ"),
    Column(pgettext_lazy("CSV header", "stay_gap_count"), Kind.NUMBER, "stay_gaps"),
    Column(
        pgettext_lazy("CSV header", "order_without_stay_count"),
        Kind.NUMBER,
        "orders_without_stay",
    ),
    Column(pgettext_lazy("CSV header", "open_count"), Kind.NUMBER, "open_count"),
    Column(
        pgettext_lazy("CSV header", "not_whitelisted_count"), Kind.NUMBER, "not_whitelisted_count"
    ),
    Column(
        pgettext_lazy("CSV header", "not_whitelisted_value_yuan"),
        Kind.YUAN,
        "not_whitelisted_value",
    ),
    Column(
        pgettext_lazy("CSV header", "not_whitelisted_value_fen"),
        Kind.FEN,
        "not_whitelisted_value",
    ),
    Column(pgettext_lazy("CSV header", "started_at"), Kind.TIME, "started_at"),
    Column(pgettext_lazy("CSV header", "finished_at"), Kind.TIME, "finished_at"),
)

# A value that does not apply to a difference (None) stays empty, not 0.
ITEM_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "date"), Kind.TEXT, "run__date"),
    Column(pgettext_lazy("CSV header", "park_uuid"), Kind.TEXT, "run__park__park_uuid"),
    Column(pgettext_lazy("CSV header", "park_name"), Kind.TEXT, "run__park__name"),
    Column(pgettext_lazy("CSV header", "category"), Kind.TEXT, "category"),
    Column(pgettext_lazy("CSV header", "pay_serial"), Kind.TEXT, "pay_serial"),
    Column(pgettext_lazy("CSV header", "plate"), Kind.TEXT, "plate"),
    Column(pgettext_lazy("CSV header", "pay_time"), Kind.TIME, "pay_time"),
    Column(pgettext_lazy("CSV header", "platform_value_yuan"), Kind.YUAN, "platform_value"),
    Column(pgettext_lazy("CSV header", "platform_value_fen"), Kind.FEN, "platform_value"),
    Column(pgettext_lazy("CSV header", "our_value_yuan"), Kind.YUAN, "our_value"),
    Column(pgettext_lazy("CSV header", "our_value_fen"), Kind.FEN, "our_value"),
    # The stay's parking serial (a difference against the stays), else the listed payment's
    # parking serial and channel, or our order's when not listed.
    Column(pgettext_lazy("CSV header", "parking_serial"), Kind.TEXT, "parking_serial"),
    Column(pgettext_lazy("CSV header", "channel"), Kind.TEXT, "channel"),
    # The listed field that differs, and both values as a person reads them (money in yuan,
    # times in China time), for every category.
    Column(pgettext_lazy("CSV header", "field"), Kind.TEXT, "field"),
    Column(pgettext_lazy("CSV header", "ours"), Kind.TEXT, "ours"),
    Column(pgettext_lazy("CSV header", "platform"), Kind.TEXT, "platform"),
    Column(pgettext_lazy("CSV header", "state"), Kind.TEXT, "state"),
    Column(pgettext_lazy("CSV header", "resolved_at"), Kind.TIME, "resolved_at"),
    Column(pgettext_lazy("CSV header", "resolved_by"), Kind.TEXT, "resolved_by__username"),
    Column(pgettext_lazy("CSV header", "resolution_note"), Kind.TEXT, "resolution_note"),
)

# Filled per row from the others (not columns of the query).
_COMPUTED = {"parking_serial", "channel", "ours", "platform", "state"}


def _fields(columns: tuple[Column, ...], computed: set[str]) -> list[str]:
    """Return the queryset fields the columns read, each once, leaving out ``computed``."""
    return list(dict.fromkeys(c.source for c in columns if c.source not in computed))


def _choice_labels(choices: Any) -> dict[str, str]:
    """Translate a TextChoices' labels now, in the caller's language, not while streaming."""
    return {value: str(label) for value, label in choices.choices}


def runs_csv(
    runs: QuerySet[ReconciliationRun], *, progress: Progress = NO_PROGRESS
) -> Iterator[str]:
    """Return the reconciliation-run CSV of ``runs``: one row per park and day, with the
    counts and amounts of each category."""
    statuses = _choice_labels(ReconciliationRun.Status)
    return tabular.csv_text(RUN_COLUMNS, _run_rows(runs, statuses), progress=progress)


@on_replica
def runs_xlsx(
    runs: QuerySet[ReconciliationRun], *, about: xlsx.About, progress: Progress = NO_PROGRESS
) -> IO[bytes]:
    """Return the XLSX twin of the run CSV of ``runs`` (see ``xlsx.workbook``)."""
    statuses = _choice_labels(ReconciliationRun.Status)
    rows = _run_rows(runs, statuses)
    table = xlsx.queryset_table(runs, RUN_COLUMNS, rows)
    return xlsx.workbook([table], about, progress=progress)


@on_replica
def _run_rows(
    runs: QuerySet[ReconciliationRun], statuses: dict[str, str]
) -> Iterator[dict[str, Any]]:
    rows = selectors.with_category_counts(runs).values(*_fields(RUN_COLUMNS, set()))
    for row in rows.iterator(chunk_size=tabular.CHUNK_ROWS):
        row["status"] = statuses.get(row["status"], row["status"])
        yield row


def items_csv(
    items: QuerySet[ReconciliationItem], *, progress: Progress = NO_PROGRESS
) -> Iterator[str]:
    """Return the reconciliation-difference CSV of ``items``: one row per difference."""
    return tabular.csv_text(ITEM_COLUMNS, _item_rows(items, *_item_labels()), progress=progress)


@on_replica
def items_xlsx(
    items: QuerySet[ReconciliationItem], *, about: xlsx.About, progress: Progress = NO_PROGRESS
) -> IO[bytes]:
    """Return the XLSX twin of the difference CSV of ``items`` (see ``xlsx.workbook``)."""
    rows = _item_rows(items, *_item_labels())
    table = xlsx.queryset_table(items, ITEM_COLUMNS, rows)
    return xlsx.workbook([table], about, progress=progress)


def _item_labels() -> tuple[dict[str, str], dict[bool, str]]:
    """Return the categories' and the resolution states' labels, translated now."""
    states = {False: gettext("open"), True: gettext("resolved")}
    return _choice_labels(ReconciliationItem.Category), states


@on_replica
def _item_rows(
    items: QuerySet[ReconciliationItem], categories: dict[str, str], states: dict[bool, str]
) -> Iterator[dict[str, Any]]:
    fields = _fields(ITEM_COLUMNS, _COMPUTED)
    rows = with_channel_names(items).values(
        *fields,
        "payment",
        "parking_serial",
        "order__parking_serial",
        "order__channel",
        "platform_text",
        "our_text",
        "platform_name",
        "our_name",
    )
    for row in rows.iterator(chunk_size=tabular.CHUNK_ROWS):
        listed = row["payment"] if isinstance(row["payment"], dict) else {}
        row["ours"], row["platform"] = display_pair(
            category=row["category"],
            platform_value=row["platform_value"],
            our_value=row["our_value"],
            platform_text=row["platform_text"],
            our_text=row["our_text"],
            platform_name=row["platform_name"],
            our_name=row["our_name"],
        )
        row["state"] = states[row["resolved_at"] is not None]
        row["category"] = categories.get(row["category"], row["category"])
        row["parking_serial"] = row["parking_serial"] or listed.get(
            "parking_serial", row["order__parking_serial"]
        )
        row["channel"] = listed.get("channel", row["order__channel"])
        yield row
