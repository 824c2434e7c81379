"""PlatformCall moves here from the orders app; its table and rows stay as they are."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('parkingops', '0001_initial'),
    ]

    operations = [
        # The table was created by the orders app (its name is kept with db_table): this only
        # tells Django the model lives here now. orders 0007 removes it from the orders app's state.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='PlatformCall',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('called_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='called at')),
                        ('method', models.CharField(max_length=8, verbose_name='method')),
                        ('endpoint', models.CharField(max_length=128, verbose_name='endpoint')),
                        ('params', models.JSONField(blank=True, default=dict, verbose_name='parameters')),
                        ('code', models.CharField(max_length=16, verbose_name='code')),
                        ('message', models.CharField(blank=True, max_length=500, verbose_name='message')),
                        ('duration_ms', models.PositiveIntegerField(default=0, verbose_name='duration (ms)')),
                    ],
                    options={
                        'verbose_name': 'platform call',
                        'verbose_name_plural': 'platform calls',
                        'db_table': 'orders_platformcall',
                        'ordering': ['-called_at', '-pk'],
                        'indexes': [models.Index(fields=['endpoint'], name='platformcall_endpoint'), models.Index(fields=['code'], name='platformcall_code')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
