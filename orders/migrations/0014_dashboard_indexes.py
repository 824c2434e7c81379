# The indexes behind the home page's dashboard (orders/dashboard/selectors.py).
#
# - The push log's time index gains the reason as its second column, for the pushes per hour
#   and outcome; it still serves every range on received_at, so it replaces the old one rather
#   than adding an index to each push. On PostgreSQL it also carries the plate (INCLUDE), so the
#   plates refused most often are read from the index too, never from the table's rows.
# - On PostgreSQL the orders' pay-time index carries the park and the amount (INCLUDE), so the
#   takings per park and day are read from the index alone. Same name, same key: the model
#   state does not change.
#
# INCLUDE is PostgreSQL's (SQLite has no covering indexes), so on PostgreSQL the indexes are
# written in SQL, built and dropped CONCURRENTLY (pushes keep flowing while tables of millions
# of rows are indexed), which needs a non-atomic migration; elsewhere the schema editor adds the
# push log's index. The model state changes the same either way.

from django.db import migrations, models

OLD = models.Index(fields=["received_at"], name="pushlog_received_at")
NEW = models.Index(fields=["received_at", "reason"], name="pushlog_received_at_reason")


def _replace(schema_editor, *, table: str, old: str, new: str, definition: str) -> None:
    """Build ``new`` from ``definition`` concurrently, then drop ``old`` (PostgreSQL)."""
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(new)} ON {quote(table)} {definition}"
    )
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(old)}")


def forwards(apps, schema_editor):
    pushlog = apps.get_model("orders", "PushLog")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(pushlog, NEW)
        schema_editor.remove_index(pushlog, OLD)
        return
    _replace(
        schema_editor,
        table=pushlog._meta.db_table,
        old=OLD.name,
        new=NEW.name,
        definition="(received_at, reason) INCLUDE (plate)",
    )
    table = apps.get_model("orders", "PayOrder")._meta.db_table
    _replace(
        schema_editor,
        table=table,
        old="payorder_pay_time",
        new="payorder_pay_time_covering",
        definition="(pay_time) INCLUDE (park_id, pay_value)",
    )
    schema_editor.execute('ALTER INDEX "payorder_pay_time_covering" RENAME TO "payorder_pay_time"')


def backwards(apps, schema_editor):
    pushlog = apps.get_model("orders", "PushLog")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(pushlog, OLD)
        schema_editor.remove_index(pushlog, NEW)
        return
    _replace(
        schema_editor,
        table=pushlog._meta.db_table,
        old=NEW.name,
        new=OLD.name,
        definition="(received_at)",
    )
    table = apps.get_model("orders", "PayOrder")._meta.db_table
    _replace(
        schema_editor,
        table=table,
        old="payorder_pay_time",
        new="payorder_pay_time_plain",
        definition="(pay_time)",
    )
    schema_editor.execute('ALTER INDEX "payorder_pay_time_plain" RENAME TO "payorder_pay_time"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0013_pushlog_refusal_detail"),
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
