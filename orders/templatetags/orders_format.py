"""Template filters for the back-office pages: the same formatting as the admin and the CSV."""

from django import template

from parkingops import formatting

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """``{{ 1250|yuan }}`` → ``¥12.50``."""
    return formatting.yuan(fen)


@register.filter
def china_time(moment) -> str:
    """``{{ order.pay_time|china_time }}`` → ``2026-11-26 08:00:00`` (Asia/Shanghai)."""
    return formatting.china_time(moment)
