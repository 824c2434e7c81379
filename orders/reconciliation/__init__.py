"""The daily check of our orders against the platform's payment list (PLATFORM_API.md).

- ``models``: ``ReconciliationRun`` (one park's China-time day) and ``ReconciliationItem``
  (one difference);
- ``payments``: the platform's payment list, read and checked;
- ``selectors``: comparing a day's list with our orders, and the reads for the admin;
- ``services``: running a reconciliation and creating an order missing here;
- ``exports``: the runs and differences CSVs.

The ``reconcile`` command and the admin's "Run a reconciliation" page call the services.
"""
