# The daily rollups (orders/rollup: orders per day, park and channel; coupons per store and
# type; stays that left), and on PostgreSQL BRIN indexes on the orders' received time and the
# stays' exit time: the rollup's reads and rebuilds look up what was received since its
# watermark (the last minutes'). Orders arrive in received-time order, so a block-range index
# serves that range at a few kilobytes per million rows and next to no cost per push, where a
# btree would add some 300 MB at 10 million orders and an insertion to every push. SQLite has
# no BRIN and needs no index at its sizes. Built CONCURRENTLY (pushes keep flowing), so the
# migration is not atomic.

import django.db.models.deletion
from django.db import migrations, models

# (index, model, column): the stays' exit time too, for the stay rollup (an exit is written
# once, and its row's new version lands among the recent ones, so the ranges stay tight).
BRIN = [
    ("payorder_received_at_brin", "PayOrder", "received_at"),
    ("stay_exit_received_at_brin", "Stay", "exit_received_at"),
]


def create_brin(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, model, column in BRIN:
        table = schema_editor.quote_name(apps.get_model("orders", model)._meta.db_table)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
            f"USING brin ({column}) WITH (autosummarize = on)"
        )


def drop_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _model, _column in BRIN:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0019_pushlog_partitioned_by_month"),
        ("whitelist", "0004_park"),  # the park, as orders migrations since 0007 see it
    ]

    operations = [
        migrations.CreateModel(
            name="RollupMark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("received_before", models.DateTimeField(verbose_name="orders received before")),
                ("rolled_at", models.DateTimeField(verbose_name="rolled up at")),
            ],
            options={
                "verbose_name": "rollup watermark",
                "verbose_name_plural": "rollup watermarks",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="rollupmark_single_row"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="DailyTakings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="date")),
                ("channel", models.CharField(max_length=64, verbose_name="channel")),
                ("order_count", models.BigIntegerField(verbose_name="orders")),
                ("paid", models.BigIntegerField(verbose_name="amount paid (fen)")),
                ("relief", models.BigIntegerField(verbose_name="discount relief (fen)")),
                ("coupon_count", models.BigIntegerField(verbose_name="merchant coupons")),
                (
                    "coupon_value",
                    models.BigIntegerField(verbose_name="amount coupons' value (fen)"),
                ),
                (
                    "park",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="whitelist.park",
                        verbose_name="park",
                    ),
                ),
            ],
            options={
                "verbose_name": "daily takings",
                "verbose_name_plural": "daily takings",
                "indexes": [models.Index(fields=["park", "day"], name="dailytakings_park_day")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "park", "channel"), name="dailytakings_day_park_channel"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="DailyCoupons",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="date")),
                ("store_code", models.CharField(max_length=255, verbose_name="store code")),
                ("store_name", models.CharField(max_length=255, verbose_name="store name")),
                ("coupon_type", models.IntegerField(null=True, verbose_name="coupon type")),
                ("coupon_count", models.BigIntegerField(verbose_name="merchant coupons")),
                ("value_total", models.BigIntegerField(verbose_name="coupon values added up")),
                (
                    "park",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="whitelist.park",
                        verbose_name="park",
                    ),
                ),
            ],
            options={
                "verbose_name": "daily coupons",
                "verbose_name_plural": "daily coupons",
                "indexes": [
                    models.Index(fields=["day"], name="dailycoupons_day"),
                    models.Index(fields=["park", "day"], name="dailycoupons_park_day"),
                ],
            },
        ),
        migrations.CreateModel(
            name="DailyStays",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="date")),
                ("stay_count", models.BigIntegerField(verbose_name="stays")),
                ("seconds", models.BigIntegerField(verbose_name="length of stay (s)")),
                (
                    "park",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="whitelist.park",
                        verbose_name="park",
                    ),
                ),
            ],
            options={
                "verbose_name": "daily stays",
                "verbose_name_plural": "daily stays",
                "indexes": [models.Index(fields=["park", "day"], name="dailystays_park_day")],
                "constraints": [
                    models.UniqueConstraint(fields=("day", "park"), name="dailystays_day_park")
                ],
            },
        ),
        migrations.RunPython(create_brin, drop_brin),
    ]
