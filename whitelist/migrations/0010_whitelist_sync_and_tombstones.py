# The incremental sync of the whitelist (docs/api.md#incremental-sync): an index behind
# ordering=updated_at, and the tombstones of deleted entries (kept WHITELIST_TOMBSTONE_DAYS).
# The whitelist is small (thousands of rows): a plain index build is quick.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("whitelist", "0009_park_address"),
    ]

    operations = [
        migrations.CreateModel(
            name="WhitelistTombstone",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("entry_id", models.BigIntegerField(verbose_name="entry id")),
                ("plate", models.CharField(max_length=16, verbose_name="plate")),
                ("park_uuid", models.CharField(blank=True, max_length=64, verbose_name="park")),
                ("valid_from", models.DateTimeField(verbose_name="valid from")),
                (
                    "valid_until",
                    models.DateTimeField(blank=True, null=True, verbose_name="valid until"),
                ),
                ("holder", models.CharField(blank=True, max_length=100, verbose_name="holder")),
                (
                    "deleted_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="deleted at"
                    ),
                ),
            ],
            options={
                "verbose_name": "deleted whitelist entry",
                "verbose_name_plural": "deleted whitelist entries",
                "ordering": ["deleted_at", "pk"],
            },
        ),
        migrations.AddIndex(
            model_name="whitelistentry",
            index=models.Index(fields=["updated_at", "id"], name="whitelist_updated_at"),
        ),
        migrations.AddIndex(
            model_name="whitelisttombstone",
            index=models.Index(fields=["deleted_at", "id"], name="wl_tombstone_deleted_at"),
        ),
    ]
