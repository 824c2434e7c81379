"""Build a large, realistic dataset for benchmarks: parks, plates, orders, discounts, coupons."""

import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, models, transaction

from orders.models import Discount, MerchantCoupon, PayOrder
from parkingops.db_timeouts import without_statement_timeout
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
        "Uses COPY on PostgreSQL; bulk inserts elsewhere."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--parks", type=int, default=20)
        parser.add_argument("--plates", type=int, default=50_000)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--seed", type=int, default=20261126)

    def handle(self, *args, **options):
        # Loading and indexing a million rows takes longer than DATABASE_STATEMENT_TIMEOUT.
        with without_statement_timeout(DEFAULT_DB_ALIAS):
            self._seed(**options)

    def _seed(self, *, orders: int, parks: int, plates: int, days: int, seed: int, **opts):
        if orders < 1 or parks < 1 or plates < 1 or days < 1:
            raise CommandError("--orders, --parks, --plates and --days must be positive.")
        if PayOrder.objects.filter(pay_serial__startswith=SERIAL_PREFIX).exists():
            raise CommandError("Bulk orders already exist; use a fresh database for a new dataset.")
        started = time.monotonic()
        rng = random.Random(seed)  # noqa: S311 — synthetic data, not secrets
        now = datetime.now(UTC).replace(microsecond=0)
        park_rows = [
            Park(park_uuid=f"bulk-park-{n:04d}", name=f"压测停车场{n:02d}号", first_seen=now)
            for n in range(parks)
        ]
        plate_list = list({_plate(rng) for _ in range(plates)})
        with transaction.atomic():
            parks_by_uuid = {
                p.park_uuid: p.pk for p in Park.objects.bulk_create(park_rows, batch_size=1000)
            }
            WhitelistEntry.objects.bulk_create(
                [
                    WhitelistEntry(plate=plate, valid_from=now - timedelta(days=days + 1))
                    for plate in plate_list
                ],
                batch_size=5000,
            )
        park_ids = list(parks_by_uuid.values())
        first_id = (PayOrder.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
        span = days * 86400

        def order_row(n: int) -> dict[str, Any]:
            plate = rng.choice(plate_list)
            pay_time = now - timedelta(seconds=rng.randrange(span))
            return {
                "id": first_id + n,
                "pay_serial": f"{SERIAL_PREFIX}{n:020d}",
                "parking_serial": f"{rng.randrange(10**17, 10**18)}",
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
                "whitelist_entry_id": None,
                "fingerprint": f"{n:064x}",
            }

        discounts: list[dict[str, Any]] = []
        coupons: list[dict[str, Any]] = []

        def order_rows() -> Iterator[dict[str, Any]]:
            for n in range(orders):
                row = order_row(n)
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

        # Progress on stderr: a bar per table on a terminal, log lines otherwise.
        progress = TerminalProgress(self.stderr)
        written = self._write(PayOrder, order_rows(), orders, progress)
        written_discounts = self._write(Discount, iter(discounts), len(discounts), progress)
        written_coupons = self._write(MerchantCoupon, iter(coupons), len(coupons), progress)
        progress.close()
        self._reset_sequences()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE")
        self.stdout.write(
            f"Added {len(park_rows)} parks, {len(plate_list)} whitelisted plates, "
            f"{written} orders, {written_discounts} discounts, {written_coupons} coupons "
            f"in {time.monotonic() - started:.1f} s."
        )

    def _write(
        self,
        model: type[models.Model],
        rows: Iterator[dict[str, Any]],
        total: int,
        progress: TerminalProgress,
    ) -> int:
        """Write the ``total`` rows with COPY on PostgreSQL, bulk_create elsewhere; unset fields
        get defaults. ``progress`` shows the table's rows written.

        Rows carry ``id`` for orders (children refer to it), and none for the children.
        """
        progress.stage(str(model._meta.verbose_name_plural), total)
        rows = progress.iterate(rows, every=5000)
        if connection.vendor != "postgresql":
            count = 0
            batch: list[models.Model] = []
            for row in rows:
                batch.append(model(**row))
                if len(batch) >= 5000:
                    count += len(model.objects.bulk_create(batch))
                    batch = []
            return count + len(model.objects.bulk_create(batch))
        fields = list(model._meta.concrete_fields)
        with_id = model is PayOrder
        fields = [f for f in fields if with_id or f.attname != "id"]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        count = 0
        with connection.cursor() as cursor, transaction.atomic():
            sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    values = []
                    for field in fields:
                        value = row[field.attname] if field.attname in row else field.get_default()
                        if isinstance(value, dict | list):
                            value = json.dumps(value, ensure_ascii=False)
                        values.append(value)
                    copy.write_row(values)
                    count += 1
        return count

    def _reset_sequences(self) -> None:
        if connection.vendor != "postgresql":
            return
        from django.core.management.color import no_style

        statements = connection.ops.sequence_reset_sql(
            no_style(), [Park, PayOrder, Discount, MerchantCoupon, WhitelistEntry]
        )
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
