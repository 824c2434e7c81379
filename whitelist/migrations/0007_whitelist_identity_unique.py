"""The database holds an entry's identity (``whitelist.models.IDENTITY``) unique."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("whitelist", "0006_whitelist_merge_duplicates"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="whitelistentry",
            constraint=models.UniqueConstraint(
                fields=("plate", "park_uuid", "valid_from"),
                name="whitelist_identity_unique",
                violation_error_code="identity_taken",
                violation_error_message=(
                    "Another entry for this plate and park already starts at this time: "
                    "change that entry instead."
                ),
            ),
        ),
    ]
