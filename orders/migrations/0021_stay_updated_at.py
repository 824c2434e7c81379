# A stay's last change (``updated_at``): the incremental sync reads stays by it, so a stay comes
# again when its exit arrives (docs/api.md#incremental-sync).
#
# Added nullable, filled from the stays' pushes — the later of the entry's and the exit's
# received_at (a stay has at least one; the entry time as a last resort) — then made required.
# Every later push writes its own received_at there (orders/stays/storing.py).

import datetime

import django.utils.timezone
from django.db import migrations, models
from django.db.models import Case, F, Q, When


def backfill(apps, schema_editor):
    Stay = apps.get_model("orders", "Stay")
    Stay.objects.filter(updated_at__isnull=True).update(
        updated_at=Case(
            When(
                Q(exit_received_at__isnull=False)
                & (
                    Q(entry_received_at__isnull=True)
                    | Q(exit_received_at__gt=F("entry_received_at"))
                ),
                then=F("exit_received_at"),
            ),
            When(entry_received_at__isnull=False, then=F("entry_received_at")),
            default=F("enter_time"),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0020_daily_takings_rollup"),
    ]

    operations = [
        migrations.AddField(
            model_name="stay",
            name="updated_at",
            field=models.DateTimeField(null=True, verbose_name="last push received at"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="stay",
            name="updated_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="last push received at"
            ),
        ),
        migrations.AddConstraint(
            model_name="stay",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "updated_at__gte",
                        datetime.datetime(1999, 12, 31, 16, 0, tzinfo=datetime.UTC),
                    ),
                    (
                        "updated_at__lte",
                        datetime.datetime(2099, 12, 31, 15, 59, 59, 999999, tzinfo=datetime.UTC),
                    ),
                ),
                name="stay_updated_at_in_timerange",
            ),
        ),
    ]
