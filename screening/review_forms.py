"""Forms of the neurologist workspace: queue filters, the decision, the export options."""

from django import forms
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .forms import limited_text
from .models import SENT, VERDICT_CHOICES, WAITING, Review, Screening, normalise_code, with_reference_typed

ANY = "any"
NO_DECISION = "none"
HEALTH_FILTERS = ("verdict", "decision")  # never recorded beside a reference searched (QueueFilterForm.audited)
WITHHELD = "withheld"
REFERENCE = "reference"  # searched in a form of its own ("Find a submission by reference")
LIST_FILTERS = ("status", "verdict", "submitted_from", "submitted_to", "decision")  # the list's form: no reference
DATES = ("submitted_from", "submitted_to")  # one range: used together or not at all (QueueFilterForm.filters)


def searches_reference(query: QueryDict) -> bool:
    """Whether ``query`` searches a reference: anything but spaces typed in it, a reference the form finds valid or
    not."""
    return any(value.strip() for value in query.getlist(REFERENCE))


def reference_alone(query: QueryDict, *, keep=()) -> str | None:
    """The query string to send ``query`` to instead when it searches a reference with any of the list's filters
    beside it (an old bookmark, a hand-made address; the queue's two forms never send both), or ``None``: the
    reference alone, with the names in ``keep`` (the export's ``include_contact``). ``reference=R-…&verdict=unlikely``
    pairs a person's reference with their result in the browser's history and in any log of addresses; the filters
    could only have hidden that row, and a reference is found whatever its status."""
    if not searches_reference(query) or not any(name in query for name in LIST_FILTERS):
        return None
    alone = QueryDict(mutable=True)
    for name in (REFERENCE, *keep):
        if name in query:
            alone.setlist(name, query.getlist(name))
    return alone.urlencode()


class QueueFilterForm(forms.Form):
    """Reads the queue's query: the list's filters (``LIST_FILTERS``, the page's filter form) or a reference (the
    page's search form); the views answer a query with both by ``reference_alone``."""

    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Waiting (submitted or in review)")), (ANY, _("Any status"))]
                               + [(status.value, status.label) for status in SENT])
    verdict = forms.ChoiceField(label=_("Primary verdict"), required=False, choices=[("", _("Any"))] + VERDICT_CHOICES,
                                help_text=_("As submitted or as last re-scored."))
    submitted_from = forms.DateField(label=_("Submitted from"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    submitted_to = forms.DateField(label=_("Submitted to"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    decision = forms.ChoiceField(label=_("Last decision"), required=False,
                                 choices=[("", _("Any")), (NO_DECISION, _("None yet"))] + Review.Decision.choices,
                                 help_text=_("Looks in every status except withdrawn, unless you choose a status."))
    reference = forms.CharField(label=_("Reference"), required=False, max_length=40,
                                help_text=_("Finds it whatever its status. Part of the code will do."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if (self.is_bound and not self.filters().get("status") and not self.searched_reference()
                and self.statuses() != WAITING):
            # no status chosen, and not the waiting ones shown: the list says which it shows, not "Waiting"
            default = _("Any but withdrawn (searching by decision)")
            self.fields["status"].choices = [("", default)] + self.fields["status"].choices[1:]

    def list_fields(self):
        """The list's filters, for the page's filter form (the reference has a form of its own)."""
        return [self[name] for name in LIST_FILTERS]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("submitted_from"), cleaned.get("submitted_to")
        if start and end and start > end:
            self.add_error("submitted_to", _("The end date is before the start date."))
            # the start is half of what is wrong: marked invalid and described by the one message (not given twice)
            self.fields["submitted_from"].widget.attrs.update({
                "class": "is-invalid", "aria-invalid": "true",
                "aria-describedby": f"{self['submitted_to'].auto_id}_error"})
        return cleaned

    def filters(self):
        """The valid filters: one that is not is shown with its message and left out, never all the others with it.
        The two dates are one range: when either is not valid (not a date, or the end before the start) neither is
        used, and the page says so (:meth:`dates_not_used`); half a range would list what was not asked for while the
        message is read."""
        if not self.is_bound:
            return {}
        self.is_valid()  # what fails to clean is kept out of cleaned_data
        if self.dates_not_used():
            return {name: value for name, value in self.cleaned_data.items() if name not in DATES}
        return self.cleaned_data

    def dates_not_used(self):
        """The names of the dates typed, when the range is not valid and so not used (:meth:`filters`); else []."""
        if not self.is_bound or self.is_valid() or not any(name in self.errors for name in DATES):
            return []
        return [name for name in DATES if name in self.errors or self.data.get(name, "").strip()]

    def statuses(self):
        """The statuses shown: the one chosen; any, when asked for or when looking for a reference; any but withdrawn
        (erased, nothing to decide) when looking for a decision (one needing more information has been reviewed);
        else those still waiting."""
        data = self.filters()
        if data.get("status"):
            return SENT if data["status"] == ANY else [data["status"]]
        if self.searched_reference():
            return SENT
        if data.get("decision"):
            return [status for status in SENT if status != Screening.Status.WITHDRAWN]
        return WAITING

    def searched_reference(self):
        """The reference searched for, as people type codes (any case, spaces or dashes anywhere), or ""."""
        return normalise_code(self.filters().get("reference", ""))

    def applied(self):
        """The filters as applied: what was exported, not what was typed."""
        return {name: str(value) for name, value in self.filters().items() if value}

    def audited(self):
        """The filters as applied, for the audit log, which is kept after a withdrawal erases the answers. A reference
        searched is kept (whose red flags may have been seen: the question an auditor, or the patient, asks), but the
        values of the health filters used with it are not: ``verdict=unlikely&reference=R-…`` would say what that
        person's result was, for good. Their names stay, as used: ``reference=R-…&verdict=withheld``."""
        applied = {name: value for name, value in self.applied().items() if name != "include_contact"}
        if applied.get("reference"):
            applied = {name: WITHHELD if name in HEALTH_FILTERS else value for name, value in applied.items()}
        return applied

    def count_from(self, counts, queue_counts=()):
        """How many screenings match, read from the counts the database keeps: the per-status ``counts`` when the
        status is the only filter; the ``queue_counts`` (rows of status, verdict, re-scored verdict, last decision and
        their count, "" for none: ``QueueCount``, read only here) when the others are the verdict and the decision, as
        :meth:`filter` matches them. ``None`` with a date or a reference: they must be counted."""
        data = self.filters()
        others = {name for name, value in data.items() if value and name != "status"}
        if not others:
            return sum(counts.get(status, 0) for status in self.statuses())
        if others - {"verdict", "decision"}:
            return None
        statuses, verdict, decision = set(self.statuses()), data.get("verdict"), data.get("decision")
        last_decision = "" if decision == NO_DECISION else decision
        return sum(screenings for status, primary, rescored, last, screenings in queue_counts
                   if status in statuses and (not verdict or verdict in (primary, rescored))
                   and (not decision or last == last_decision))

    def filter(self, queryset):
        """The queryset narrowed by the valid filters."""
        data = self.filters()
        queryset = queryset.filter(status__in=self.statuses())
        if data.get("verdict"):  # as submitted, or as last re-scored: the queue shows both
            queryset = queryset.filter(Q(primary_verdict=data["verdict"]) | Q(rescored_verdict=data["verdict"]))
        if data.get("submitted_from"):
            queryset = queryset.filter(submitted_at__date__gte=data["submitted_from"])
        if data.get("submitted_to"):
            queryset = queryset.filter(submitted_at__date__lte=data["submitted_to"])
        if data.get("decision"):
            queryset = queryset.filter(last_decision=None if data["decision"] == NO_DECISION else data["decision"])
        if data.get("reference", "").strip(" -") and not self.searched_reference():  # typed, nothing a code holds
            return queryset.none()
        if self.searched_reference():
            queryset = with_reference_typed(queryset, self.searched_reference())
        return queryset


TEXT_LIMIT = 5000  # characters: a letter's worth


class DecisionForm(forms.ModelForm):
    """A decision and its message. With ``carer=True`` (``Screening.by_carer``: a carer sent it and holds its codes)
    the message is said to be to the carer and the patient, who may each read it on the status page; the page's
    history names past messages with the same label."""

    # under the heading "Decision": the legend says what is chosen, not the heading again
    decision = forms.ChoiceField(label=_("Your decision"), choices=Review.Decision.choices, widget=forms.RadioSelect,
                                 error_messages={"required": _("Choose a decision.")})
    message = limited_text(_("Message to the patient"), 5, TEXT_LIMIT,
                           error_messages={"required": _("Write a message to the patient.")})
    internal_note = limited_text(_("Internal note (not shown to the patient)"), 3, TEXT_LIMIT, required=False)
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1)

    class Meta:
        model = Review
        fields = ["decision", "message", "internal_note"]

    def __init__(self, *args, carer=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.carer = carer
        if carer:
            message = self.fields["message"]
            message.label = _("Message to the carer and the patient")
            message.error_messages = {**message.error_messages,
                                      "required": _("Write a message to the carer and the patient.")}
            self.fields["internal_note"].label = _("Internal note (not shown to the carer or the patient)")

    @property
    def fields_cache_key(self):
        """Names the visible fields' HTML while nothing has been typed into them, for the page to make it once per
        process (crispy is slow): the same for every screening but for whom the message is to. None once posted: what
        was typed is never cached."""
        if self.is_bound or any(name in self.initial for name in ("decision", "message", "internal_note")):
            return None
        return "decision-carer" if self.carer else "decision"


class ExportForm(QueueFilterForm):
    include_contact = forms.BooleanField(label=_("Include names and contact details"), required=False)
