"""Payment channels in the admin: finance names the codes the platform pushes.

The one table of the orders admin that is edited by hand: the platform sends bare codes, and a
code it never documented (``200102``) gets its name here. Deleting a name is left to
administrators; an order whose channel has no name shows the code.
"""

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from orders.models import Channel, PayOrder
from parkingops.adminkit import QueryStringMixin


@admin.register(Channel)
class ChannelAdmin(QueryStringMixin, admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "order_count"]
    list_display_links = ["code", "name"]
    search_fields = ["code", "name", "name_en"]
    search_help_text = _("A channel code, or part of its name.")
    fields = ["code", "name", "name_en"]
    list_per_page = 100

    def get_queryset(self, request):
        # How many orders use the code: the count of an indexed column, for a table of a few rows.
        orders = (
            PayOrder.objects.filter(channel=OuterRef("code"))
            .order_by()
            .values("channel")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(order_count=Coalesce(Subquery(orders), 0))

    @admin.display(description=_("orders"))
    def order_count(self, obj):
        return obj.order_count
