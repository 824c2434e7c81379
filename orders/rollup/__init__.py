"""The orders added up per China-time day, park and channel (``DailyTakings``), kept beside the
orders so the pages that total millions of them (the order list's totals, the daily summary,
the home page's takings) read a few thousand rows instead.

The rollup holds every order received before its watermark (``RollupMark``); ``services``
moves the watermark and rebuilds the days the newly covered orders touched (the scheduler,
every minute), and ``selectors`` adds the orders received since, read from the orders
themselves in the same statement: the figures are always exact.
"""
