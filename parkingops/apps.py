from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParkingOpsConfig(AppConfig):
    """The project package as an app: the integration API's keys, the platform's call log,
    the background jobs."""

    name = "parkingops"
    verbose_name = _("System")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI descriptions of our authentication classes (drf-spectacular
        # finds extensions by import), the deployment checks, and this package's kinds of job:
        # every admin list's export, the jobs' own pruning.
        from parkingops import adminexport_jobs, checks, schema  # noqa: F401
        from parkingops.jobs import housekeeping  # noqa: F401
        from parkingops.jobs.kinds import discover

        discover()  # each app's jobs.py registers its kinds of background job
