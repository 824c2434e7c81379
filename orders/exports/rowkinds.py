"""The ``row_kind`` column of the files that mix detail rows with subtotals (the daily summary,
its pivot, the statements per holder): a system reading the file keeps the ``detail`` (or
``order``) rows and skips the rest; a clerk filters on it in Excel.

The values are codes, the same in every language, so a system never has to read Chinese.
"""

import enum

from django.utils.translation import pgettext_lazy

from parkingops.tabular import Column, Kind


class RowKind(enum.StrEnum):
    """What a row of a file with subtotals is."""

    DETAIL = "detail"  # one group the database made (a day × park × channel, a day of the pivot)
    ORDER = "order"  # one order (the statement)
    DAY_SUBTOTAL = "day_subtotal"
    PARK_SUBTOTAL = "park_subtotal"
    PLATE_SUBTOTAL = "plate_subtotal"
    HOLDER_SUBTOTAL = "holder_subtotal"
    TOTAL = "total"


ROW_KIND = Column(pgettext_lazy("CSV header", "row_kind"), Kind.TEXT, "row_kind")
