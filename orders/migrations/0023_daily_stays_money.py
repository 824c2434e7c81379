# The stay rollup keeps the left stays' money too (the stay list's totals at any size).

from django.db import migrations, models


def forget_the_watermark(apps, schema_editor):
    """The stay rollup's rows lack their money: without a watermark the reads add up the
    stays themselves until the next ``roll_up`` (within a minute) rebuilds every day."""
    apps.get_model("orders", "RollupMark").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0022_sync_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="dailystays",
            name="autopay",
            field=models.BigIntegerField(default=0, verbose_name="autopay (fen)"),
        ),
        migrations.AddField(
            model_name="dailystays",
            name="discounts",
            field=models.BigIntegerField(default=0, verbose_name="discounts (fen)"),
        ),
        migrations.AddField(
            model_name="dailystays",
            name="fee",
            field=models.BigIntegerField(default=0, verbose_name="fee (fen)"),
        ),
        migrations.AddField(
            model_name="dailystays",
            name="gap",
            field=models.BigIntegerField(default=0, verbose_name="gap (fen)"),
        ),
        migrations.AddField(
            model_name="dailystays",
            name="gapped",
            field=models.BigIntegerField(default=0, verbose_name="stays with a gap"),
        ),
        migrations.AddField(
            model_name="dailystays",
            name="left_count",
            field=models.BigIntegerField(default=0, verbose_name="stays that left"),
        ),
        migrations.AddField(
            model_name="dailystays",
            name="paid",
            field=models.BigIntegerField(default=0, verbose_name="paid by pay orders (fen)"),
        ),
        migrations.RunPython(forget_the_watermark, migrations.RunPython.noop),
    ]
