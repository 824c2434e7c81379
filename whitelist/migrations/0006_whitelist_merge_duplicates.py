"""Merge the entries that share an identity (plate, park, start), before 0007 makes it unique.

Simultaneous identical upserts used to write the same entry several times, after which every
upsert naming it was refused as ambiguous. Of each group the entry changed last is kept (the
highest id among equals: deterministic); whatever pointed at the others (the orders it let in)
is pointed at it, and the others are deleted. Their history stays in the history table.

A migration of its own: on PostgreSQL the deletions leave deferred foreign-key checks pending,
and a table with pending checks cannot be altered in the same transaction.
"""

from django.db import migrations
from django.db.models import Count


def merge_duplicates(apps, schema_editor):
    alias = schema_editor.connection.alias
    entries = apps.get_model("whitelist", "WhitelistEntry").objects.using(alias)
    # Every foreign key to an entry that the project's state knows, whichever app holds it
    # (an order records the entry that let it in); none is named here, so none is imported.
    references = [
        relation for relation in entries.model._meta.related_objects if not relation.many_to_many
    ]
    groups = (
        entries.order_by()
        .values("plate", "park_uuid", "valid_from")
        .annotate(count=Count("id"))
        .filter(count__gt=1)
    )
    for group in groups:
        ids = list(
            entries.filter(
                plate=group["plate"], park_uuid=group["park_uuid"], valid_from=group["valid_from"]
            )
            .order_by("-updated_at", "-id")
            .values_list("id", flat=True)
        )
        kept, dropped = ids[0], ids[1:]
        for relation in references:
            field = relation.field
            relation.related_model._base_manager.using(alias).filter(
                **{f"{field.attname}__in": dropped}
            ).update(**{field.attname: kept})
        entries.filter(id__in=dropped).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("whitelist", "0005_whitelist_dates_in_range"),
    ]

    operations = [
        migrations.RunPython(merge_duplicates, migrations.RunPython.noop, elidable=False),
    ]
