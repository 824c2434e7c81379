"""The integration API's reads of orders, merchant coupons and the daily summary (docs/api.md).

``views`` (thin), ``serializers`` (what is answered), ``filters`` (the query parameters); the
shared building blocks (keyset paging, CSV variants, permissions) are in ``parkingops.api``.
"""
