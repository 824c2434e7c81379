"""When a plate's sync started failing (``PlateSync.failing_since``), for the sync alert.

Plates failing already are taken as failing since their last attempt: the alert may start
late for them, never early.
"""

from django.db import migrations, models
from django.db.models import F


def start_clocks(apps, schema_editor):
    PlateSync = apps.get_model("whitelist", "PlateSync")
    PlateSync.objects.filter(state="failed").update(failing_since=F("attempted_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("whitelist", "0007_whitelist_identity_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="platesync",
            name="failing_since",
            field=models.DateTimeField(blank=True, null=True, verbose_name="failing since"),
        ),
        migrations.RunPython(start_clocks, migrations.RunPython.noop, elidable=True),
    ]
