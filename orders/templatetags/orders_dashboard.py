"""The home page's dashboard (``templates/admin/index.html``): ``{% dashboard %}`` renders the
sections the user may see (``orders.dashboard.sections``)."""

from django import template

from orders.dashboard import sections

register = template.Library()


@register.inclusion_tag("admin/orders/dashboard/dashboard.html", takes_context=True)
def dashboard(context) -> dict:
    """Render the user's sections; nothing at all when they may see none."""
    return {**sections.dashboard(context["request"]), "perms": context.get("perms")}
