"""The park keeps its address and position (the entry and exit pushes say them).

The park's table is still named ``orders_park`` (created by the orders app's 0001, moved here
in state by its 0007). A lower app's migration may not depend on a higher one's, so nothing
declares that the table exists first; ``migrate`` plans the apps' leaves in label order, and
"orders" comes before "whitelist", so on a new database the orders app has created the table by
the time this runs.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("whitelist", "0008_platesync_failing_since"),
    ]

    operations = [
        migrations.AddField(
            model_name="park",
            name="address",
            field=models.CharField(blank=True, max_length=64, verbose_name="address"),
        ),
        migrations.AddField(
            model_name="park",
            name="area_code",
            field=models.CharField(blank=True, max_length=64, verbose_name="region code"),
        ),
        migrations.AddField(
            model_name="park",
            name="latitude",
            field=models.FloatField(blank=True, null=True, verbose_name="latitude"),
        ),
        migrations.AddField(
            model_name="park",
            name="longitude",
            field=models.FloatField(blank=True, null=True, verbose_name="longitude"),
        ),
    ]
