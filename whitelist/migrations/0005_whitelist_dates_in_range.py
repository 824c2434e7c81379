"""Bring every stored validity window into the product's span, then keep it there.

An entry stored before the span was enforced may start in year 1 (stored by PostgreSQL as 1 BC,
which Python cannot load) or end in year 9999 (which China time cannot show): the whitelist's
pages then failed for everyone. The rows are moved into ``parkingops.timerange``'s span with
SQL comparisons only, never loading a bad value into Python, and check constraints keep them in:

- an end after the span becomes no end (NULL): the entry behaves the same for the product's
  whole life, and "no end" is how the product spells it, rather than a 2099 date nobody typed;
- an end before the span becomes one minute after its start (the window stays non-empty and
  the entry stays expired, as it was);
- a start before the span becomes the span's first moment (the entry still applies from the
  beginning); a start after it becomes its last moment (still never valid).

The history table gets the same treatment, so every past version of an entry can be opened.
"""

import datetime
from datetime import timedelta

import django.utils.timezone
from django.db import migrations, models

import parkingops.timerange
from parkingops.timerange import EARLIEST, LATEST


def clamp(queryset) -> None:
    # The order matters for the live table's window check (valid_until > valid_from): ends
    # first, so that no start is moved past its end.
    queryset.filter(valid_until__gt=LATEST).update(valid_until=None)
    queryset.filter(valid_until__lt=EARLIEST).update(valid_until=EARLIEST + timedelta(minutes=1))
    queryset.filter(valid_from__lt=EARLIEST).update(valid_from=EARLIEST)
    queryset.filter(valid_from__gt=LATEST).update(valid_from=LATEST)


def clamp_windows(apps, schema_editor):
    for name in ("WhitelistEntry", "HistoricalWhitelistEntry"):
        clamp(apps.get_model("whitelist", name).objects.using(schema_editor.connection.alias))


class Migration(migrations.Migration):
    dependencies = [
        ("whitelist", "0004_park"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalwhitelistentry",
            name="valid_from",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                validators=[parkingops.timerange.validate_moment],
                verbose_name="valid from",
            ),
        ),
        migrations.AlterField(
            model_name="historicalwhitelistentry",
            name="valid_until",
            field=models.DateTimeField(
                blank=True,
                help_text="Exclusive end of the window; leave blank for no end.",
                null=True,
                validators=[parkingops.timerange.validate_moment],
                verbose_name="valid until",
            ),
        ),
        migrations.AlterField(
            model_name="whitelistentry",
            name="valid_from",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                validators=[parkingops.timerange.validate_moment],
                verbose_name="valid from",
            ),
        ),
        migrations.AlterField(
            model_name="whitelistentry",
            name="valid_until",
            field=models.DateTimeField(
                blank=True,
                help_text="Exclusive end of the window; leave blank for no end.",
                null=True,
                validators=[parkingops.timerange.validate_moment],
                verbose_name="valid until",
            ),
        ),
        migrations.RunPython(clamp_windows, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="whitelistentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "valid_from__gte",
                        datetime.datetime(1999, 12, 31, 16, 0, tzinfo=datetime.UTC),
                    ),
                    (
                        "valid_from__lte",
                        datetime.datetime(2099, 12, 31, 15, 59, 59, 999999, tzinfo=datetime.UTC),
                    ),
                ),
                name="whitelist_valid_from_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="whitelistentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("valid_until__isnull", True),
                    models.Q(
                        (
                            "valid_until__gte",
                            datetime.datetime(1999, 12, 31, 16, 0, tzinfo=datetime.UTC),
                        ),
                        (
                            "valid_until__lte",
                            datetime.datetime(
                                2099, 12, 31, 15, 59, 59, 999999, tzinfo=datetime.UTC
                            ),
                        ),
                    ),
                    _connector="OR",
                ),
                name="whitelist_valid_until_in_range",
            ),
        ),
    ]
