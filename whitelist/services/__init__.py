"""Writes to the whitelist, one module per job.

``entries``: the admin's single and bulk writes; ``upsert``: adding or updating many entries by
their identity (the API's bulk endpoint and the file import); ``importing``: reading a
spreadsheet into upsert rows; ``sync``: keeping the platform's copy of the whitelist in step;
``sync_job``: the same as a background job (the schedule's, and "Sync now" of many plates).
"""
