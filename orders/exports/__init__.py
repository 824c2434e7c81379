"""The finance CSV exports, one module per file; the columns of each are described once.

- ``columns``: the order CSV's columns, read by both of its writers;
- ``orders``: the order CSV (``orders_csv``), written in Python, or by ``copy`` on PostgreSQL;
- ``copy``: the order CSV's rows written by one PostgreSQL COPY, the same bytes;
- ``coupons``: the merchant-coupon CSV (``coupons_csv``);
- ``summary``: the daily summary CSV (``summary_csv``).

The reconciliation's CSVs are in ``orders.reconciliation.exports``; what every CSV shares
(BOM, formula escaping, the column description, streaming, file names) in
``parkingops.tabular``. They are used by the admin's export views, the integration API's
export operations (which add a file for machines: the ``*_MACHINE_COLUMNS`` of each module)
and the ``export_orders`` command.
"""
