"""The orders app's permission names, written once: the admin, the API and the reconciliation
check these (the roles in ``parkingops.roles`` grant them by the same names)."""

VIEW_ORDERS = "orders.view_payorder"
VIEW_PERSONAL_DATA = "orders.view_personal_data"
EXPORT_ORDERS = "orders.export_orders"
REPLAY_PUSHLOG = "orders.replay_pushlog"
VIEW_RECONCILIATION = "orders.view_reconciliationrun"
RUN_RECONCILIATION = "orders.run_reconciliation"
RESOLVE_RECONCILIATION = "orders.resolve_reconciliation"
RESOLVE_DIFFERENCE = "orders.resolve_difference"
VIEW_STAYS = "orders.view_stay"
VIEW_RENEWALS = "orders.view_renewal"
