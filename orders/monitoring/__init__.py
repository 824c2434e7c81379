"""Metrics and alerts: is the push stream alive, the platform sync working, the nightly
reconciliation done, a worker running?

``readings`` reads the state from the database (cheap, indexed reads); ``conditions`` turns it
into the health conditions, each with a code and a message; ``metrics`` counts the pushes and
exports both as Prometheus metrics, which ``views.metrics`` serves at ``/metrics``;
``manage.py check_health`` prints the same conditions for sites without Prometheus. In the
``orders`` app because it reads every app's tables (orders, whitelist, jobs) and imports point
down only.
"""
