"""Park moved to the whitelist app and PlatformCall to parkingops (beside the platform client).

Both tables keep their names and rows (``db_table``): this migration only changes Django's state,
pointing the foreign keys at the new homes, and relabels the two content types so the groups'
permissions (``view_park``, ``view_platformcall`` ...) and admin history stay attached.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED = {"park": "whitelist", "platformcall": "parkingops"}


def relabel_content_types(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        # A fresh database has no content types yet: post_migrate creates them under the new
        # labels, so there is nothing to move.
        if not content_types.objects.filter(app_label=app_label, model=model).exists():
            content_types.objects.filter(app_label="orders", model=model).update(
                app_label=app_label
            )


def restore_content_types(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        content_types.objects.filter(app_label=app_label, model=model).update(app_label="orders")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0006_pushlog_reason_labels"),
        ("parkingops", "0002_platformcall"),
        ("whitelist", "0004_park"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="payorder",
                    name="park",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to="whitelist.park",
                        verbose_name="park",
                    ),
                ),
                migrations.AlterField(
                    model_name="reconciliationrun",
                    name="park",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reconciliation_runs",
                        to="whitelist.park",
                        verbose_name="park",
                    ),
                ),
                migrations.DeleteModel(name="PlatformCall"),
                migrations.DeleteModel(name="Park"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_content_types, restore_content_types),
    ]
