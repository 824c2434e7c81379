# The push log's time index gains the reason as its second column, for the home page's pushes
# per hour and outcome (an index-only scan of the last day); it still serves every range on
# received_at, so it replaces the old one rather than adding a twentieth index to each push.
#
# On PostgreSQL both are built and dropped CONCURRENTLY (pushes keep flowing while a log of
# millions of rows is indexed), which needs a non-atomic migration; elsewhere the schema editor
# does it. The model state changes the same either way.

from django.db import migrations, models

OLD = models.Index(fields=["received_at"], name="pushlog_received_at")
NEW = models.Index(fields=["received_at", "reason"], name="pushlog_received_at_reason")


def _swap(apps, schema_editor, *, add: models.Index, drop: models.Index) -> None:
    model = apps.get_model("orders", "PushLog")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(model, add)
        schema_editor.remove_index(model, drop)
        return
    table = schema_editor.quote_name(model._meta.db_table)
    columns = ", ".join(schema_editor.quote_name(name) for name in add.fields)
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {schema_editor.quote_name(add.name)} "
        f"ON {table} ({columns})"
    )
    schema_editor.execute(
        f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(drop.name)}"
    )


def forwards(apps, schema_editor):
    _swap(apps, schema_editor, add=NEW, drop=OLD)


def backwards(apps, schema_editor):
    _swap(apps, schema_editor, add=OLD, drop=NEW)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0012_channel"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.RemoveIndex(model_name="pushlog", name="pushlog_received_at"),
                migrations.AddIndex(model_name="pushlog", index=NEW),
            ],
        ),
    ]
