"""Bring stored times back inside the product's span before 0010 constrains them there.

Before the push read its times inside ``parkingops.timerange``, a coupon's ``grant_time`` of
253402300799999 ms (year 9999 in UTC, year 10000 in China time) was stored, and broke every
page, export and API answer that listed it. A coupon's parsed grant time becomes NULL (its
``grant_time_raw`` keeps what was pushed); any other time is clamped to the nearest end.

Plain SQL comparisons only: loading such a value into Python is what fails. On SQLite a time
is text, and a five-digit year ("10000-01-01 ...") sorts before "1999-...": there it is told
from an early time by the length of its year.
"""

from django.db import migrations

from parkingops import timerange

# (table, column, nullable): nullable columns are cleared, the others clamped.
COLUMNS = [
    ("orders_merchantcoupon", "grant_time", True),
    ("orders_reconciliationitem", "pay_time", True),
    ("orders_payorder", "pay_time", False),
    ("orders_payorder", "received_at", False),
    ("orders_pushlog", "received_at", False),
]


def bring_into_range(apps, schema_editor):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    earliest = connection.ops.adapt_datetimefield_value(timerange.EARLIEST)
    latest = connection.ops.adapt_datetimefield_value(timerange.LATEST)
    sqlite = connection.vendor == "sqlite"
    with connection.cursor() as cursor:
        for table, column, nullable in COLUMNS:
            table, column = quote(table), quote(column)
            outside = f"({column} < %s OR {column} > %s)"
            if nullable:
                cursor.execute(
                    f"UPDATE {table} SET {column} = NULL WHERE {outside}", [earliest, latest]
                )
                continue
            # A year of five digits or more sorts low as SQLite text, but is late.
            late = f"({column} > %s OR instr({column}, '-') > 5)" if sqlite else f"{column} > %s"
            cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {late}", [latest, latest])
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE {column} < %s", [earliest, earliest]
            )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0008_pushlog_reason_bad_method"),
    ]

    operations = [migrations.RunPython(bring_into_range, migrations.RunPython.noop)]
