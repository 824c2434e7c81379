"""The reconciliation's fixtures, for an order created from a "missing here" payment."""

from orders.tests.reconciliation.conftest import (  # noqa: F401 (fixtures)
    missing_item,
    park,
    pay,
    whitelisted_plate,
)
