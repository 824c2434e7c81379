# Why a push was refused, kept with its log row (issue 13): the invalid field's path, and for
# not_whitelisted why no entry let the plate in (whitelist.selectors.why_not_covered), the
# entry's id, its end or start and another park's uuid. Old rows keep these blank.
#
# The push log is large (millions of rows): the new columns are nullable or have a constant
# default, which PostgreSQL adds without rewriting the table; the partial index of refused rows
# is built CONCURRENTLY there so pushes keep flowing, which needs a non-atomic migration.

from django.db import migrations, models

INDEX = models.Index(
    condition=models.Q(("reason__in", ("accepted", "duplicate")), _negated=True),
    fields=["received_at"],
    name="pushlog_refused_received_at",
)


def create_index(apps, schema_editor):
    model = apps.get_model("orders", "PushLog")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(model, INDEX)
        return
    sql = str(INDEX.create_sql(model, schema_editor)).replace(
        "CREATE INDEX", "CREATE INDEX CONCURRENTLY IF NOT EXISTS", 1
    )
    schema_editor.execute(sql, params=None)


def drop_index(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("orders", "PushLog"), INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0012_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="pushlog",
            name="field_path",
            field=models.CharField(blank=True, max_length=255, verbose_name="field at fault"),
        ),
        migrations.AddField(
            model_name="pushlog",
            name="refusal",
            field=models.CharField(
                blank=True,
                choices=[
                    ("no_entry", "No entry for this plate"),
                    ("disabled", "The entry is disabled"),
                    ("expired", "The entry had expired"),
                    ("not_yet_valid", "The entry had not started yet"),
                    ("other_park", "The entry is for another park"),
                ],
                max_length=16,
                verbose_name="why not whitelisted",
            ),
        ),
        migrations.AddField(
            model_name="pushlog",
            name="refusal_date",
            field=models.DateTimeField(blank=True, null=True, verbose_name="entry's end or start"),
        ),
        migrations.AddField(
            model_name="pushlog",
            name="refusal_entry_id",
            field=models.PositiveBigIntegerField(
                blank=True, null=True, verbose_name="whitelist entry"
            ),
        ),
        migrations.AddField(
            model_name="pushlog",
            name="refusal_park",
            field=models.CharField(blank=True, max_length=64, verbose_name="entry's park"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="pushlog", index=INDEX)],
            database_operations=[migrations.RunPython(create_index, drop_index)],
        ),
    ]
