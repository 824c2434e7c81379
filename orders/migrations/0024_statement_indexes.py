# The new indexes first: the foreign key's own index goes once (entry, pay time) serves it.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0023_daily_stays_money"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="payorder",
            index=models.Index(
                fields=["whitelist_entry", "pay_time"], name="payorder_entry_pay_time"
            ),
        ),
        migrations.AddIndex(
            model_name="payorder",
            index=models.Index(
                condition=models.Q(("whitelist_entry", None)),
                fields=["pay_time"],
                name="payorder_no_entry_pay_time",
            ),
        ),
        migrations.AlterField(
            model_name="payorder",
            name="whitelist_entry",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="orders",
                to="whitelist.whitelistentry",
                verbose_name="whitelist entry",
            ),
        ),
    ]
