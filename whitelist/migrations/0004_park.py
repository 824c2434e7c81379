"""Park moves here from the orders app; its table and rows stay as they are."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('whitelist', '0003_platesync'),
    ]

    operations = [
        # The table was created by the orders app (its name is kept with db_table): this only
        # tells Django the model lives here now. orders 0007 removes it from the orders app's state.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Park',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('park_uuid', models.CharField(max_length=64, verbose_name='park uuid')),
                        ('name', models.CharField(max_length=128, verbose_name='name')),
                        ('first_seen', models.DateTimeField(default=django.utils.timezone.now, verbose_name='first seen')),
                        ('last_seen', models.DateTimeField(default=django.utils.timezone.now, verbose_name='last seen')),
                    ],
                    options={
                        'verbose_name': 'park',
                        'verbose_name_plural': 'parks',
                        'db_table': 'orders_park',
                        'ordering': ['name'],
                        'constraints': [models.UniqueConstraint(fields=('park_uuid',), name='park_uuid_unique')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
