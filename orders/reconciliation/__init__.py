"""The daily check of our orders against the platform's payment list (PLATFORM_API.md).

- ``models``: ``ReconciliationRun`` (one park's China-time day) and ``ReconciliationItem``
  (one difference: a payment missing on one side, or one listed field that differs);
- ``payments``: the platform's payment list, read and checked;
- ``fields``: which listed field corresponds to what we hold, compared field by field;
- ``selectors``: comparing a day's list with our orders, and the reads for the admin;
- ``services``: running a reconciliation (one park's day, or days × parks with progress),
  creating an order missing here, resolving differences with a note;
- ``summaries``: what a run found, as data and as the line a clerk reads;
- ``exports``: the runs and differences CSVs;
- ``admin`` (runs), ``admin_items`` (differences), ``admin_resolve``, ``admin_run``,
  ``admin_report`` (days not reconciled): the admin's pages.

The ``reconcile`` command and the admin's "Run a reconciliation" page call the services; several
days or parks run as the job ``orders.reconcile`` (``orders.jobs``), which the nightly schedule
starts too.
"""
