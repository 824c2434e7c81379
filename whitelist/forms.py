"""Forms of the whitelist admin: the entry form, the "valid until" action's form and the
change reason asked by the pages that disable, delete or shorten entries (``reasons``)."""

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from parkingops.timerange import validate_moment
from whitelist import plates, selectors
from whitelist.models import WhitelistEntry
from whitelist.services import reasons
from whitelist.services.entries import MAX_EXTENSION_DAYS


def reason_field() -> forms.CharField:
    """The change reason's field (``reasons.REASON_FIELD``), checked by ``clean_reason``."""
    return forms.CharField(
        label=reasons.REASON_LABEL,
        required=False,
        strip=False,  # ``reasons.clean_reason`` trims, and says what is wrong
        help_text=reasons.REASON_HELP,
        widget=forms.TextInput(attrs={"size": 60, "maxlength": reasons.REASON_MAX_LENGTH}),
    )


class ReasonForm(forms.Form):
    """Asks the change reason: required when ``required`` (a delete, a disable), else
    checked only for its length (the service then says whether it was needed)."""

    reason = reason_field()

    def __init__(self, *args, required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason_required = required
        if required:
            # Marked as required for the eye; ``clean_reason`` gives the message.
            self.fields["reason"].widget.attrs["required"] = True

    def clean_reason(self) -> str:
        return reasons.clean_reason(self.cleaned_data.get("reason"), required=self.reason_required)


class ParkWidget(forms.MultiWidget):
    """A list of the known parks plus "all parks", and a box for a park not seen yet.

    Posts as ``<name>`` (the list) and ``<name>_other`` (the box); a uuid typed in the box wins.
    A posted ``<name>`` outside the list is taken as it is, so scripts may post any uuid.
    """

    def __init__(self, choices=(), attrs=None):
        other = forms.TextInput(
            attrs={"placeholder": _("or type another park's uuid"), "size": 40, "maxlength": 64}
        )
        super().__init__({"": forms.Select(choices=choices), "other": other}, attrs)

    def decompress(self, value):
        value = value or ""
        known = {str(choice) for choice, _label in self.widgets[0].choices}
        return [value, ""] if value in known else ["", value]

    def value_from_datadict(self, data, files, name):
        listed, typed = super().value_from_datadict(data, files, name)
        return (typed or "").strip() or (listed or "").strip()

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_other" not in data


def park_choices(current: str = "") -> list[tuple[str, str]]:
    """Return the park list's choices: all parks, then the known parks by name.

    ``current`` (the entry's park) is kept in the list even when no push has named it yet.
    """
    parks = selectors.known_parks()
    choices = [("", _("All parks"))]
    choices += [(uuid, f"{name} ({uuid})") for uuid, name in parks]
    if current and current not in {uuid for uuid, _name in parks}:
        choices.append((current, current))
    return choices


class WhitelistEntryForm(forms.ModelForm):
    """The add/change form: a checked, normalised plate and a park list with a free box."""

    class Meta:
        model = WhitelistEntry
        fields = ["plate", "park_uuid", "valid_from", "valid_until", "is_active", "holder", "note"]
        help_texts = {
            "plate": _(
                "Any spelling is accepted and stored normalised: 川a 660p1 is kept as 川A660P1."
            ),
            "park_uuid": _(
                "Choose a park, or “All parks” to allow the plate everywhere. For a park no "
                "order has named yet, type its uuid in the box."
            ),
            "valid_from": _("China time. The entry applies from this moment on."),
            "valid_until": _(
                "China time, exclusive: the entry stops applying at this moment. Leave blank "
                "for no end."
            ),
            "is_active": _("Untick to suspend the entry without deleting it."),
            "holder": _("Who the plate belongs to, e.g. the tenant or the driver."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Absent when the admin shows the entry read-only (a user with the view permission
        # only): the admin then leaves every field out of the form.
        field = self.fields.get("park_uuid")
        if field is not None:
            field.widget = ParkWidget(choices=park_choices(self.instance.park_uuid))
            field.strip = True

    reason = reason_field()

    def clean_plate(self) -> str:
        """Return the plate normalised, or raise the rule it breaks, naming the plate."""
        return plates.validate(self.cleaned_data.get("plate") or "")

    def clean(self):
        """Ask the change reason when the change disables or shortens the entry
        (``reasons.needs_reason``), against the entry as stored: a revert's form holds an
        older version of it."""
        cleaned = super().clean()
        compared = ["plate", "park_uuid", "valid_from", "valid_until", "is_active"]
        required = False
        stored = None
        if self.instance.pk is not None and all(name in cleaned for name in compared):
            stored = WhitelistEntry.objects.filter(pk=self.instance.pk).first()
        if stored is not None:
            new = reasons.changed(stored, **{name: cleaned[name] for name in compared})
            required = reasons.needs_reason(stored, new)
        if "reason" in self.fields:
            try:
                cleaned["reason"] = reasons.clean_reason(cleaned.get("reason"), required=required)
            except ValidationError as error:
                self.add_error("reason", error)
        return cleaned


class ValidUntilForm(forms.Form):
    """The "set or extend valid until" action's question: a new end, or days to add."""

    valid_until = forms.SplitDateTimeField(
        label=_("New “valid until”"),
        required=False,
        widget=admin_widgets.AdminSplitDateTime,
        validators=[validate_moment],
        help_text=_("China time, exclusive. Every selected entry gets this end."),
    )
    extend_days = forms.IntegerField(
        label=_("Or extend by (days)"),
        required=False,
        min_value=1,
        max_value=MAX_EXTENSION_DAYS,
        help_text=_(
            "Added to each entry's current end. Entries without an end stay without an end."
        ),
    )
    reason = reason_field()

    def clean_reason(self) -> str:
        # Whether it is needed depends on the entries (an earlier end): the service says.
        return reasons.clean_reason(self.cleaned_data.get("reason"), required=False)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        has_date = cleaned.get("valid_until") is not None
        has_days = cleaned.get("extend_days") is not None
        if has_date == has_days:
            raise forms.ValidationError(
                _("Enter either a new “valid until” or a number of days to extend by, not both."),
                code="one_of",
            )
        return cleaned
