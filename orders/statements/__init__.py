"""Statements per holder: for a month (or any range of China-time days), every order a
whitelist entry admitted, per holder and plate — what a company reimburses or recharges.

- ``selectors``: the query's rules (``read_query``), the subtotals (``statement``) and the
  orders beneath (``statement_orders``);
- ``exports``: the statement's columns and its CSV (holder and plate subtotal rows, order rows,
  a ``row_kind`` column);
- ``admin``: the page ``/admin/orders/statement/`` and its CSV export.

The API's endpoint (``GET /api/v1/statements/``) is in ``orders.api``, like the other reads.
"""
