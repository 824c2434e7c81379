"""Template tags of the reconciliation's pages: the open differences on the admin home page."""

from django import template

from orders.reconciliation import selectors

register = template.Library()


@register.simple_tag
def open_differences() -> int:
    """``{% open_differences as count %}``: differences of every run not resolved yet."""
    return selectors.open_differences()
