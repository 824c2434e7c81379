# The indexes behind the order search on PostgreSQL, and the push log's plate index.
#
# The order list finds a plate by its beginning (LIKE '川A66%') and by its ending, which is
# searched as the reversed plate's beginning (reverse(plate) LIKE '1P066%'). A plain btree
# serves LIKE prefixes only under the "C" collation, so both get a pattern_ops index. These are
# PostgreSQL features (SQLite has neither operator classes nor a built-in reverse()), so they
# are created by SQL on PostgreSQL only and are not part of the model state. CONCURRENTLY keeps
# pushes flowing while a large table is indexed, which needs a non-atomic migration.

from django.db import migrations, models

PATTERN_INDEXES = [
    ("payorder_plate_like", "(plate varchar_pattern_ops)"),
    ("payorder_plate_reversed_like", "(reverse(plate) text_pattern_ops)"),
]


def create_pattern_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("orders", "PayOrder")._meta.db_table)
    for name, columns in PATTERN_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {schema_editor.quote_name(name)} "
            f"ON {table} {columns}"
        )


def drop_pattern_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _columns in PATTERN_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0002_permissions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="pushlog",
            index=models.Index(fields=["plate"], name="pushlog_plate"),
        ),
        migrations.RunPython(create_pattern_indexes, drop_pattern_indexes),
    ]
