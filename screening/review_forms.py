"""Forms of the neurologist workspace: queue filters, the decision, the export options."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import VERDICT_CHOICES, Review, Screening

REVIEWABLE_STATUSES = [(s.value, s.label) for s in Screening.Status if s != Screening.Status.SCORED]


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Waiting (submitted or in review)"))] + REVIEWABLE_STATUSES)
    verdict = forms.ChoiceField(label=_("Primary verdict"), required=False, choices=[("", _("Any"))] + VERDICT_CHOICES)
    submitted_from = forms.DateField(label=_("Submitted from"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    submitted_to = forms.DateField(label=_("Submitted to"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Reference"), required=False, max_length=40)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("submitted_from"), cleaned.get("submitted_to")
        if start and end and start > end:
            self.add_error("submitted_to", _("The end date is before the start date."))
        return cleaned

    def filters(self):
        """The valid filters (invalid ones are ignored and shown as errors)."""
        return self.cleaned_data if self.is_valid() else {}

    def statuses(self):
        """The statuses shown: the one chosen, or those still waiting."""
        status = self.filters().get("status")
        return [status] if status else [Screening.Status.SUBMITTED, Screening.Status.IN_REVIEW]

    def count_from(self, counts):
        """How many screenings match, read from the per-status counts when the status is the only filter, else
        ``None`` (they must be counted)."""
        if any(value for name, value in self.filters().items() if name != "status"):
            return None
        return sum(counts.get(status, 0) for status in self.statuses())

    def filter(self, queryset):
        """The queryset narrowed by the valid filters."""
        data = self.filters()
        queryset = queryset.filter(status__in=self.statuses())
        if data.get("verdict"):
            queryset = queryset.filter(primary_verdict=data["verdict"])
        if data.get("submitted_from"):
            queryset = queryset.filter(submitted_at__date__gte=data["submitted_from"])
        if data.get("submitted_to"):
            queryset = queryset.filter(submitted_at__date__lte=data["submitted_to"])
        if data.get("reference"):
            queryset = queryset.filter(reference__icontains=data["reference"].strip())
        return queryset


class DecisionForm(forms.ModelForm):
    decision = forms.ChoiceField(label=_("Decision"), choices=Review.Decision.choices, widget=forms.RadioSelect)
    revision = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Review
        fields = ["decision", "message", "internal_note"]
        widgets = {"message": forms.Textarea(attrs={"rows": 5}), "internal_note": forms.Textarea(attrs={"rows": 3})}
        labels = {"message": _("Message to the patient"),
                  "internal_note": _("Internal note (not shown to the patient)")}


class ExportForm(QueueFilterForm):
    include_contact = forms.BooleanField(label=_("Include names and contact details"), required=False)
