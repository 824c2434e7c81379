"""The project's URLs with the jobs' admin pages, which the import pages redirect to.

Until this branch meets 我的任务 (``parkingops.jobs.admin``, the lead's), the tests register a
plain admin for ``Job`` (``test_import_jobs.job_pages``) before this module is first imported;
with that admin present this is the project's own URLconf.
"""

from django.contrib import admin
from django.urls import path

from parkingops.urls import urlpatterns as project

urlpatterns = [
    path("admin/", admin.site.urls),
    *(pattern for pattern in project if getattr(pattern, "namespace", None) != "admin"),
]
