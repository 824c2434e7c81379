"""API keys in the admin: create one (its key shown once), revoke, see when each was last used.

The platform's call log registers from ``parkingops.pcloud.admin``, the background jobs from
``parkingops.jobs.admin``, both imported here. Django's own
user and group admins are registered again with the query-string checks every list here has
(``parkingops.adminquery``).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

import parkingops.jobs.admin  # noqa: F401 (registers 我的任务 and the schedules' runs)
import parkingops.pcloud.admin  # noqa: F401 (registers PlatformCallAdmin)
from parkingops import api_keys
from parkingops.adminquery import QueryStringMixin
from parkingops.models import ApiKey


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["user", "name"]


@admin.register(ApiKey)
class ApiKeyAdmin(QueryStringMixin, admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "user", "prefix_display", "created_at", "last_used_at", "state"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    actions = ["revoke"]
    readonly_fields = ["prefix_display", "created_at", "last_used_at", "revoked_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name"]
        return ["user", "name", "prefix_display", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The user of an existing key never changes: make a new key instead.
        return ["user", *self.readonly_fields]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            # Someone allowed to make keys, but not a superuser, makes keys only for themself:
            # otherwise a key could act as a more powerful user.
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new key: the service gives the form's instance its prefix and hash and saves it,
        # so the admin goes on with a saved row (its log entry and redirect need the pk).
        new = api_keys.save_new_api_key(api_key=obj)
        messages.warning(
            request,
            format_html(
                '{} <code class="api-key" style="user-select:all">{}</code>',
                gettext(
                    "The new API key is below. Copy it now: it is shown only this once "
                    "(only its hash is kept). Send it as the header “Authorization: Api-Key "
                    "<key>”."
                ),
                new.key,
            ),
        )

    @admin.display(description=_("prefix"))
    def prefix_display(self, obj: ApiKey) -> str:
        return f"{obj.prefix}…"

    @admin.display(description=_("state"))
    def state(self, obj: ApiKey) -> str:
        return gettext("Revoked") if obj.is_revoked else gettext("Active")

    @admin.action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        count = api_keys.revoke_api_keys(keys=queryset)
        self.message_user(
            request,
            ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", count) % {"count": count},
            messages.SUCCESS,
        )


admin.site.unregister(get_user_model())
admin.site.unregister(Group)


@admin.register(get_user_model())
class UserAdmin(QueryStringMixin, auth_admin.UserAdmin):
    """Django's user admin; its list takes only the parameters it offers."""


@admin.register(Group)
class GroupAdmin(QueryStringMixin, auth_admin.GroupAdmin):
    """Django's group admin; its list takes only the parameters it offers."""
