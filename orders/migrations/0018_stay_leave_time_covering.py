# The index behind the dashboard's stays (orders/dashboard/selectors.py, ``stay_figures``).
#
# On PostgreSQL the stays' exit-time index carries the park and the pushed length (INCLUDE), so
# the mean length of stay per park and week is read from the index alone (an index-only scan
# over the 8 weeks' exits), never from the table's rows. Same name, same key: the model state
# does not change, and every other use of the index (the stay list's exit-date filter, the cars
# in the park: exit IS NULL) is served as before.
#
# INCLUDE is PostgreSQL's (SQLite has no covering indexes): elsewhere nothing changes. On
# PostgreSQL the index is built and the old one dropped CONCURRENTLY (exits keep flowing while a
# table of millions of stays is indexed), which needs a non-atomic migration (as 0014).

from django.db import migrations


def _replace(schema_editor, *, table: str, old: str, new: str, definition: str) -> None:
    """Build ``new`` from ``definition`` concurrently, drop ``old``, and give ``new`` its name."""
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(new)} ON {quote(table)} {definition}"
    )
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(old)}")
    schema_editor.execute(f"ALTER INDEX {quote(new)} RENAME TO {quote(old)}")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _replace(
        schema_editor,
        table=apps.get_model("orders", "Stay")._meta.db_table,
        old="stay_leave_time",
        new="stay_leave_time_covering",
        definition="(leave_time) INCLUDE (park_id, parking_time)",
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _replace(
        schema_editor,
        table=apps.get_model("orders", "Stay")._meta.db_table,
        old="stay_leave_time",
        new="stay_leave_time_plain",
        definition="(leave_time)",
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0017_stay_reconciliation"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
