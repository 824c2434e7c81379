"""``manage.py migrate``, Django's own, without the statement time limit.

Building an index or rewriting a table of millions of rows may take longer than
``DATABASE_STATEMENT_TIMEOUT``; a migration cut off halfway would stop the deployment.
"""

from django.core.management.commands import migrate

from parkingops.db_timeouts import without_statement_timeout


class Command(migrate.Command):
    def handle(self, *args, **options):
        with without_statement_timeout(options["database"]):
            return super().handle(*args, **options)
