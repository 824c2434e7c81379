"""A whitelist call's plate gets its own indexed column, so the call log is searched by plate;
the calls already recorded get theirs from their stored parameters."""

from django.db import migrations, models

WHITELIST_ENDPOINT = "gate/1.0/parking/whitelist"


def copy_plates(apps, schema_editor):
    """Fill ``plate`` of the whitelist calls recorded so far from ``params``, a batch at a time."""
    PlatformCall = apps.get_model("parkingops", "PlatformCall")
    calls = PlatformCall.objects.filter(endpoint=WHITELIST_ENDPOINT, plate="").order_by("pk")
    last = 0
    while True:
        batch = list(calls.filter(pk__gt=last).only("pk", "params")[:1000])
        if not batch:
            return
        for call in batch:
            params = call.params if isinstance(call.params, dict) else {}
            call.plate = str(params.get("plate") or "")[:16]
        PlatformCall.objects.bulk_update(batch, ["plate"])
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("parkingops", "0003_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="platformcall",
            name="plate",
            field=models.CharField(blank=True, default="", max_length=16, verbose_name="plate"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="platformcall",
            name="code",
            field=models.CharField(max_length=16, verbose_name="code as sent"),
        ),
        migrations.AlterField(
            model_name="platformcall",
            name="message",
            field=models.CharField(blank=True, max_length=500, verbose_name="message as sent"),
        ),
        migrations.AddIndex(
            model_name="platformcall",
            index=models.Index(fields=["plate"], name="platformcall_plate"),
        ),
        migrations.RunPython(copy_plates, migrations.RunPython.noop, elidable=True),
    ]
