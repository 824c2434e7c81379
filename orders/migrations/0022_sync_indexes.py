# The indexes behind the incremental sync (docs/api.md#incremental-sync): orders (and their
# coupons) and renewals by arrival, stays by their last change, each with the id that breaks
# ties, so a page is a range scan of the index.
#
# On PostgreSQL they are built CONCURRENTLY (pushes keep flowing while tables of millions of
# rows are indexed), which needs a non-atomic migration (as 0014); elsewhere the schema editor
# adds them. The model state is the same either way.

from django.db import migrations, models

INDEXES = [
    ("payorder", models.Index(fields=["received_at", "id"], name="payorder_received_at")),
    ("renewal", models.Index(fields=["received_at", "id"], name="renewal_received_at")),
    ("stay", models.Index(fields=["updated_at", "id"], name="stay_updated_at")),
]


def forwards(apps, schema_editor):
    for model_name, index in INDEXES:
        model = apps.get_model("orders", model_name)
        if schema_editor.connection.vendor != "postgresql":
            schema_editor.add_index(model, index)
            continue
        quote = schema_editor.quote_name
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in index.fields)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(index.name)} "
            f"ON {quote(model._meta.db_table)} ({columns})"
        )


def backwards(apps, schema_editor):
    for model_name, index in INDEXES:
        model = apps.get_model("orders", model_name)
        if schema_editor.connection.vendor != "postgresql":
            schema_editor.remove_index(model, index)
            continue
        schema_editor.execute(
            f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(index.name)}"
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0021_stay_updated_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AddIndex(model_name=model_name, index=index)
                for model_name, index in INDEXES
            ],
        ),
    ]
