"""Build a large, realistic dataset for benchmarks: parks, whitelisted plates with holders,
orders with discounts and coupons, stays, renewals, the push log, reconciliation runs, and the
orders' daily rollup."""

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, models, transaction
from django.utils.translation import gettext

from orders.demo import bulk_sql
from orders.models import Discount, MerchantCoupon, PayOrder, PushLog
from orders.reconciliation.models import ReconciliationRun
from orders.rollup.models import DailyCoupons, DailyTakings
from orders.rollup.services import roll_up
from orders.stays.models import Renewal, Stay
from parkingops.db_timeouts import without_statement_timeout
from parkingops.formatting import CHINA
from parkingops.jobs.progress import TerminalProgress
from whitelist import plates
from whitelist.models import Park, WhitelistEntry

CHANNELS = ["200102", "200101", "200201", "300101", "400100"]
STORES = [
    ("KFC01", "肯德基"),
    ("SBX01", "星巴克咖啡"),
    ("WDA01", "万达影城"),
    ("YH001", "永辉超市"),
    ("HDL01", "海底捞火锅"),
    ("MJ001", "麦当劳"),
]
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
SERIAL_PREFIX = "BULK"


def _plate(rng: random.Random) -> str:
    province = rng.choice(plates.PROVINCES)
    region = rng.choice(PLATE_LETTERS)
    tail = "".join(rng.choice("0123456789" + PLATE_LETTERS) for _ in range(5))
    return f"{province}{region}{tail}"


class Command(BaseCommand):
    help = (
        "Add a large synthetic dataset (default 1,000,000 orders over a year) for benchmarks. "
        "On PostgreSQL each table is one INSERT … SELECT generate_series; bulk inserts "
        "elsewhere."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--parks", type=int, default=20)
        parser.add_argument("--plates", type=int, default=50_000)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--seed", type=int, default=20261126)
        parser.add_argument(
            "--pushlog-per-order",
            type=int,
            default=3,
            help="push-log rows per order: its pay push, its stay's entry and exit, the rest "
            "duplicates and refusals (default 3)",
        )
        parser.add_argument(
            "--stay-share",
            type=float,
            default=0.8,
            help="the share of orders with a stay around them (default 0.8)",
        )
        parser.add_argument(
            "--renewals", type=int, default=None, help="fixed-car renewals (default orders/1000)"
        )

    def handle(self, *args, **options):
        # Loading and indexing a million rows takes longer than DATABASE_STATEMENT_TIMEOUT.
        self.verbosity = options["verbosity"]
        self.stages: dict[str, float] = {}
        with without_statement_timeout(DEFAULT_DB_ALIAS):
            self._seed(**options)

    def _seed(
        self,
        *,
        orders: int,
        parks: int,
        plates: int,
        days: int,
        seed: int,
        pushlog_per_order: int,
        stay_share: float,
        renewals: int | None,
        **opts,
    ):
        if orders < 1 or parks < 1 or plates < 1 or days < 1:
            raise CommandError("--orders, --parks, --plates and --days must be positive.")
        if pushlog_per_order < 1 or not 0 <= stay_share <= 1:
            raise CommandError("--pushlog-per-order must be positive, --stay-share in [0, 1].")
        renewals = orders // 1000 if renewals is None else renewals
        if renewals < 0:
            raise CommandError("--renewals may not be negative.")
        if PayOrder.objects.filter(pay_serial__startswith=SERIAL_PREFIX).exists():
            raise CommandError("Bulk orders already exist; use a fresh database for a new dataset.")
        started = time.monotonic()
        rng = random.Random(seed)  # noqa: S311 — synthetic data, not secrets
        now = datetime.now(UTC).replace(microsecond=0)
        park_rows = [
            Park(park_uuid=f"bulk-park-{n:04d}", name=f"压测停车场{n:02d}号", first_seen=now)
            for n in range(parks)
        ]
        plate_list = sorted({_plate(rng) for _ in range(plates)})
        # A holder per hundred plates (a company's cars), for the statements.
        holders = max(1, len(plate_list) // 100)
        with transaction.atomic():
            parks_by_uuid = {
                p.park_uuid: p.pk for p in Park.objects.bulk_create(park_rows, batch_size=1000)
            }
            entries = WhitelistEntry.objects.bulk_create(
                [
                    WhitelistEntry(
                        plate=plate,
                        valid_from=now - timedelta(days=days + 1),
                        holder=f"压测单位{n % holders:03d}",
                    )
                    for n, plate in enumerate(plate_list)
                ],
                batch_size=5000,
            )
        entry_ids = [entry.pk for entry in entries]
        if entry_ids[0] is None:  # a database that does not return ids from bulk inserts
            by_plate = dict(
                WhitelistEntry.objects.filter(plate__in=plate_list).values_list("plate", "pk")
            )
            entry_ids = [by_plate[plate] for plate in plate_list]
        park_ids = list(parks_by_uuid.values())
        # Progress on stderr: a bar per table on a terminal, log lines otherwise.
        progress = TerminalProgress(self.stderr)
        options = {
            "orders": orders,
            "days": days,
            "now": now,
            "park_ids": park_ids,
            "plates": plate_list,
            "entry_ids": entry_ids,
            "pushlog_per_order": pushlog_per_order,
            "stay_share": stay_share,
            "renewals": renewals,
        }
        if connection.vendor == "postgresql":
            written = self._seed_sql(rng=rng, seed=seed, progress=progress, **options)
        else:
            with self._timed("rows"):
                written = self._seed_python(rng=rng, progress=progress, **options)
        progress.stage(str(DailyTakings._meta.verbose_name_plural), None)
        with self._timed("roll-up"):
            roll_up(now=datetime.now(UTC), everything=True)
        progress.close()
        # From the rollup just built: a few rows per park and day.
        written[ReconciliationRun] = self._reconciliation_runs(now=now, days=days)
        self._reset_sequences()
        if connection.vendor == "postgresql":
            # The reads and the roll above restore the connection's statement limit when they
            # end: lifted again for the vacuum of tens of millions of rows.
            with (
                self._timed("vacuum"),
                without_statement_timeout(DEFAULT_DB_ALIAS),
                connection.cursor() as cursor,
            ):
                # As autovacuum would after such loads: statistics, and the visibility map
                # the index-only scans need.
                for model in (*written, DailyTakings, DailyCoupons, WhitelistEntry, Park):
                    cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
        counts = ", ".join(
            f"{count} {model._meta.verbose_name_plural}" for model, count in written.items()
        )
        stages = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.stages.items())
        self.stdout.write(
            f"Added {len(park_rows)} parks, {len(plate_list)} whitelisted plates, {counts} "
            f"in {time.monotonic() - started:.1f} s ({stages})."
        )

    @contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        """Add the time the block takes to ``stage``'s in the closing line."""
        began = time.monotonic()
        try:
            yield
        finally:
            self.stages[stage] = self.stages.get(stage, 0.0) + time.monotonic() - began

    def _seed_sql(
        self, *, rng, seed: int, progress: TerminalProgress, **options
    ) -> dict[type[models.Model], int]:
        """PostgreSQL: one statement per table (``orders.demo.bulk_sql``), the indexes and
        foreign keys built again after, all in one transaction."""
        first = {
            model: (model.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
            for model in (PayOrder, Stay)
        }
        plan = bulk_sql.Plan(
            orders=options["orders"],
            pushlog_per_order=options["pushlog_per_order"],
            stay_share=options["stay_share"],
            renewals=options["renewals"],
            days=options["days"],
            seed=(seed % 2_000_001) / 1_000_000 - 1,
            first_order=first[PayOrder],
            first_stay=first[Stay],
            park_ids=options["park_ids"],
            entry_ids=options["entry_ids"],
            channels=CHANNELS,
            stores=STORES,
            app_id="bulk",
            serial_prefix=SERIAL_PREFIX,
        )
        models_by_table = {
            model._meta.db_table: model
            for model in (PayOrder, Discount, MerchantCoupon, Stay, Renewal, PushLog)
        }
        written: dict[type[models.Model], int] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SELECT setseed(%s)", [plan.seed])
            rebuild = bulk_sql.set_aside(cursor)
            with self._timed("rows"):
                for table, sql in bulk_sql.statements(plan):
                    model = models_by_table[table]
                    total = options["orders"] if model is PayOrder else None
                    progress.stage(str(model._meta.verbose_name_plural), total)
                    cursor.execute(sql)
                    written[model] = cursor.rowcount
                    progress.advance(cursor.rowcount)
            progress.stage(gettext("indexes and foreign keys"), len(rebuild))
            with self._timed("indexes and foreign keys"):
                for sql in rebuild:
                    began = time.monotonic()
                    cursor.execute(sql)
                    progress.advance()
                    if self.verbosity >= 2:
                        self.stderr.write(f"{time.monotonic() - began:6.1f} s  {sql[:110]}")
        return written

    def _seed_python(
        self, *, rng, progress: TerminalProgress, **options
    ) -> dict[type[models.Model], int]:
        """Elsewhere (SQLite): the rows made here and bulk-inserted, for small datasets."""
        now = options["now"]
        plate_list, park_ids = options["plates"], options["park_ids"]
        entry_of = dict(zip(plate_list, options["entry_ids"], strict=True))
        orders = options["orders"]
        first_id = (PayOrder.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
        span = options["days"] * 86400

        def order_row(n: int) -> dict[str, Any]:
            plate = rng.choice(plate_list)
            # Oldest first, as a real table fills.
            pay_time = now - timedelta(seconds=60 + span * (orders - n - rng.random()) / orders)
            return {
                "id": first_id + n,
                "pay_serial": f"{SERIAL_PREFIX}{n:020d}",
                "parking_serial": f"{10**17 + n}",
                "park_id": rng.choice(park_ids),
                "plate": plate,
                "plate_raw": plate,
                "pay_value": rng.choice((300, 500, 800, 1000, 1500, 2000, 3000, 5000, 8000)),
                "pay_time": pay_time,
                "channel": rng.choice(CHANNELS),
                "identity": "",
                "app_id": "bulk",
                "extra": {},
                "received_at": pay_time + timedelta(seconds=1),
                "whitelist_entry_id": entry_of[plate],
                "fingerprint": f"{n:064x}",
            }

        discounts: list[dict[str, Any]] = []
        coupons: list[dict[str, Any]] = []
        made: list[dict[str, Any]] = []

        def order_rows() -> Iterator[dict[str, Any]]:
            for n in range(orders):
                row = order_row(n)
                made.append(row)
                if rng.random() < 0.3:
                    discounts.append(
                        {
                            "order_id": row["id"],
                            "type": "1",
                            "mobile": f"1{rng.randrange(3, 10)}{rng.randrange(10**9):09d}",
                            "relief_amount": 1,
                            "relief_value": rng.choice((200, 500, 1000)),
                        }
                    )
                if rng.random() < 0.25:
                    code, name = rng.choice(STORES)
                    coupons.append(
                        {
                            "order_id": row["id"],
                            "coupon_name": "停车券",
                            "coupon_code": f"C{n:09d}",
                            "store_name": name,
                            "store_code": code,
                            "coupon_type": rng.choice((1, 1, 1, 2, 3, 6)),
                            "coupon_value": rng.choice((500, 1000, 1500)),
                            "grant_serial": f"G{n:09d}",
                            "grant_time_raw": "",
                        }
                    )
                yield row

        written = {PayOrder: self._write(PayOrder, order_rows(), orders, progress)}
        written[Discount] = self._write(Discount, iter(discounts), len(discounts), progress)
        written[MerchantCoupon] = self._write(MerchantCoupon, iter(coupons), len(coupons), progress)
        stays, logs = [], []
        for row in made:
            logs.append(
                {
                    "received_at": row["received_at"],
                    "code": "1001",
                    "reason": "accepted",
                    "app_id": "bulk",
                    "pay_serial": row["pay_serial"],
                    "plate": row["plate"],
                    "order_id": row["id"],
                }
            )
            if rng.random() < options["stay_share"]:
                entered = row["pay_time"] - timedelta(minutes=20 + row["id"] % 280)
                stays.append(
                    {
                        "parking_serial": row["parking_serial"],
                        "park_id": row["park_id"],
                        "plate": row["plate"],
                        "plate_raw": row["plate"],
                        "app_id": "bulk",
                        "enter_time": entered,
                        "leave_time": row["pay_time"] + timedelta(minutes=5),
                        "parking_time": int(
                            (row["pay_time"] + timedelta(minutes=5) - entered).total_seconds()
                        ),
                        "total_value": row["pay_value"],
                        "entry_received_at": entered,
                        "exit_received_at": row["pay_time"] + timedelta(minutes=5),
                    }
                )
            for j in range(1, options["pushlog_per_order"]):
                logs.append(
                    {
                        "received_at": row["received_at"] + timedelta(seconds=7 * j),
                        "code": "1001",
                        "reason": "duplicate",
                        "app_id": "bulk",
                        "pay_serial": row["pay_serial"],
                        "plate": row["plate"],
                        "order_id": row["id"],
                    }
                )
        written[Stay] = self._write(Stay, iter(stays), len(stays), progress)
        renewal_rows = []
        for n in range(options["renewals"]):
            plate = rng.choice(plate_list)
            paid = now - timedelta(seconds=60 + rng.randrange(span))
            renewal_rows.append(
                {
                    "pay_serial": f"BULKR{n:015d}",
                    "park_id": rng.choice(park_ids),
                    "plate": plate,
                    "plate_raw": plate,
                    "vip_type": 1,
                    "quantity": 1,
                    "start_time": paid,
                    "end_time": paid + timedelta(days=30),
                    "pay_value": 30000,
                    "pay_time": paid,
                    "channel": rng.choice(CHANNELS),
                    "app_id": "bulk",
                    "received_at": paid + timedelta(seconds=1),
                    "fingerprint": f"{n:064x}",
                    "whitelist_entry_id": entry_of[plate],
                }
            )
        written[Renewal] = self._write(Renewal, iter(renewal_rows), len(renewal_rows), progress)
        written[PushLog] = self._write(PushLog, iter(logs), len(logs), progress)
        return written

    def _reconciliation_runs(self, *, now: datetime, days: int) -> int:
        """A completed reconciliation of every park's day before today (the nightly runs),
        its figures those of the day's orders."""
        from orders.rollup.selectors import takings

        today = now.astimezone(CHINA).date()
        runs = [
            ReconciliationRun(
                date=row.day,
                park_id=row.park_id,
                started_at=now,
                finished_at=now,
                status=ReconciliationRun.Status.OK,
                platform_count=row.orders,
                platform_value=row.paid,
                ours_count=row.orders,
                ours_value=row.paid,
                matched_count=row.orders,
                matched_value=row.paid,
            )
            for row in takings(
                date_from=today - timedelta(days=days + 1),
                date_to=today - timedelta(days=1),
                by=("r_day", "r_park"),
            )
        ]
        return len(ReconciliationRun.objects.bulk_create(runs, batch_size=5000))

    def _write(
        self,
        model: type[models.Model],
        rows: Iterator[dict[str, Any]],
        total: int,
        progress: TerminalProgress,
    ) -> int:
        """Bulk-insert the ``total`` rows (unset fields get defaults); ``progress`` shows the
        table's rows written."""
        progress.stage(str(model._meta.verbose_name_plural), total)
        count = 0
        batch: list[models.Model] = []
        for row in progress.iterate(rows, every=5000):
            batch.append(model(**row))
            if len(batch) >= 5000:
                count += len(model.objects.bulk_create(batch))
                batch = []
        return count + len(model.objects.bulk_create(batch))

    def _reset_sequences(self) -> None:
        if connection.vendor != "postgresql":
            return
        from django.core.management.color import no_style

        statements = connection.ops.sequence_reset_sql(
            no_style(),
            [Park, PayOrder, Discount, MerchantCoupon, WhitelistEntry, Stay, Renewal, PushLog],
        )
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
