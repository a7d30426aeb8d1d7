"""Admin: criteria sets with their criteria, notes and reference cases, with history, previews and audit.

Criteria, notes and reference cases are edited here; the audit log is read-only. Screenings and reviews are not
here at all: patients are told that nobody sees a result they do not send and that every access to one they send is
recorded, so they are read only in the review workspace (/review/), which audits every view.
Every admin change to criteria, notes and reference cases is also written to the audit log.
"""

import json
import re

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Max, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _, ngettext
from simple_history.admin import SimpleHistoryAdmin

from . import rules, services
from .forms import StrictJSONDecoder, validate_answers
from .models import (AuditEvent, CriteriaSet, Criterion, Note, ReferenceCase, User, normalise_code,
                     one_version_per_set, saved_fields, whole_number, with_reference_typed)

admin.site.site_header = _("HSCT Self-Check administration")
admin.site.site_title = _("HSCT Self-Check admin")  # the tab's title, after each page's own


# Typed JSON that Python cannot read back or a page cannot show is a message on the field, not a 500; and the
# message says how JSON is written, the mistakes people make with it ("5,5", a bare no) in mind.
STRICT_JSON = {models.JSONField: {"decoder": StrictJSONDecoder, "error_messages": {"invalid": _(
    "This is not JSON. Write a number with a dot (5.5, not 5,5), text in double quotes (\"no\", not no), true or "
    "false, a list in square brackets ([\"rrms\", \"spms\"] or [2, 6]).")}}}


class ChosenRowsChecked:
    """An action on a chosen row whose id no row could have (made up: "abc", or beyond the database's integers) is a
    message over the list, as one on a row that is gone is, not a 500."""

    def response_action(self, request, queryset):
        try:
            for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                self.opts.pk.clean(pk, None)
        except ValidationError:
            self.message_user(request, _("Nothing was changed: a chosen row is not in the list. Choose again."),
                              messages.ERROR)
            return None
        return super().response_action(request, queryset)


class AuditedChanges:
    """An audit entry (``audit_action``) for every addition, change and deletion made here."""

    audit_action = "criteria_changed"

    def audit(self, request, obj, verb):
        services.audit(self.audit_action, request=request, detail=f"{verb} {obj._meta.model_name} “{obj}”"[:200])

    def log_addition(self, request, obj, message):
        self.audit(request, obj, "added")
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self.audit(request, obj, "changed")
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self.audit(request, obj, "deleted")
        return super().log_deletions(request, queryset)


class ChoicesWithinIntegers(forms.ModelMultipleChoiceField):
    """A list of rows chosen by id (groups, permissions) that refuses an id past the database's integers with the
    field's own message: SQLite refused to look one up (an OverflowError, a 500) where it should find no row."""

    def _check_values(self, value):
        for pk in value or ():
            try:
                self.queryset.model._meta.pk.clean(pk, None)  # as ChosenRowsChecked checks a chosen row
            except ValidationError:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                      params={"value": pk}) from None
        return super()._check_values(value)


class ChosenChoicesChecked:
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(db_field, request, form_class=ChoicesWithinIntegers, **kwargs)


# Who may read health data is decided here (accounts, their groups and permissions): audited like the criteria.
@admin.register(User)
class StaffUserAdmin(AuditedChanges, ChosenRowsChecked, ChosenChoicesChecked, UserAdmin):
    audit_action = "access_changed"


admin.site.unregister(Group)


@admin.register(Group)
class StaffGroupAdmin(AuditedChanges, ChosenRowsChecked, ChosenChoicesChecked, GroupAdmin):
    audit_action = "access_changed"


# django-axes' lists (sign-in attempts and lockouts), registered by django-axes itself, take the same check.
for model, model_admin in ((AccessAttempt, AccessAttemptAdmin), (AccessLog, AccessLogAdmin),
                           (AccessFailureLog, AccessFailureLogAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, type(model_admin.__name__, (ChosenRowsChecked, model_admin), {}))


def same_as_stored(obj):
    """Whether saving ``obj`` would change nothing of its row (the times a save sets aside)."""
    names = saved_fields(obj)
    return type(obj).objects.filter(pk=obj.pk).values(*names).first() == {name: getattr(obj, name) for name in names}


class OneLineTextarea(forms.Textarea):
    """A box that wraps a long line of text; a line break typed or pasted into it is saved as a space."""

    def __init__(self):
        super().__init__(attrs={"rows": 2, "class": "vLargeTextField one-line"})

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return re.sub(r"[ \t]*[\r\n]+[ \t]*", " ", value) if isinstance(value, str) else value


class LongTextShownWhole:
    """A line of text that may be long (a citation, a source, a label: 200 characters or more) is a box as wide as the
    form that wraps, not Django's one-line box of 20em: a citation cut off after its first words cannot be checked
    without scrolling inside the box."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.CharField) and not db_field.choices and db_field.max_length >= 200:
            kwargs["widget"] = OneLineTextarea()
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class AuditedAdmin(LongTextShownWhole, AuditedChanges, ChosenRowsChecked, SimpleHistoryAdmin):
    """History for every change (who, when, a readable diff) and an audit entry for each."""

    formfield_overrides = STRICT_JSON
    object_history_list_template = "admin/screening/object_history_list.html"  # in a box that scrolls sideways

    def save_model(self, request, obj, form, change):
        """A Save that changed nothing adds no history entry: one with an empty Changes column sent admins looking for
        a change nobody made. Decided on the row as stored, not on the form: a revert's form starts from the old
        version, and a form may tidy what it saves."""
        if not change or not same_as_stored(obj):
            return super().save_model(request, obj, form, change)
        obj.skip_history_when_saving = True  # simple-history's switch: its presence, whatever its value
        try:
            super().save_model(request, obj, form, change)
        finally:
            del obj.skip_history_when_saving

    def history_view(self, request, object_id, extra_context=None):
        if whole_number(object_id) is None:  # simple-history reads it as a number: "abc" was a 500
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if whole_number(object_id) is None or whole_number(version_id) is None:  # as above
            raise Http404
        with transaction.atomic():  # as the change page: a revert's checks lock the row until it is saved
            return super().history_form_view(request, object_id, version_id, extra_context)

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # simple-history's select_related() without names follows only keys that cannot be null, and drops its own
        # "history_user": its history page then read the user of every entry one query at a time
        records = super().get_history_queryset(request, history_manager, pk_name, object_id)
        return records.select_related(*(field.name for field in records.model._meta.concrete_fields
                                        if field.many_to_one))

    def refuse_deletion(self, queryset):
        """Why the chosen rows may not be deleted together, or ``None``."""
        return None

    def get_actions(self, request):
        """"Delete selected" refuses the whole choice, with the reason, when some rows may not go: deleting the rest
        said "Successfully deleted" over them all, and audited them all as deleted."""
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            delete_selected, name, description = actions["delete_selected"]

            def checked(modeladmin, request, queryset):
                reason = modeladmin.refuse_deletion(queryset)
                if reason:
                    modeladmin.message_user(request, _("Nothing was deleted. %(reason)s") % {"reason": reason},
                                            messages.ERROR)
                    return None
                return delete_selected(modeladmin, request, queryset)

            actions["delete_selected"] = (checked, name, description)
        return actions


# With no active criterion, the verdict rules (PRODUCT.md §4) read every patient's answers as "likely".
NO_CRITERIA_LEFT = _("An active set needs at least one active criterion: with none, every patient's answers would "
                     "read as a match. Keep a criterion active, or make the set inactive first.")


def leaves_set_empty(criterion):
    """Whether taking this criterion out of its set (deactivating, moving or deleting it) leaves an active set with
    no active criterion."""
    criteria_set = CriteriaSet.objects.get(pk=criterion.criteria_set_id)
    return criteria_set.active and not criteria_set.criteria.filter(active=True).exclude(pk=criterion.pk).exists()


def numbers_in(value):
    """The numbers a criterion's value holds: 6.0, or both ends of [2, 6]."""
    values = value if isinstance(value, list) else [value]
    return {float(x) for x in values if rules.is_number(x)}


NUMBER = re.compile(r"\d+(?:\.\d+)?")


def is_test(cleaned):
    """Whether a form's fact, operator and value make a test the rules can evaluate (else the model says what is
    wrong)."""
    try:
        rules.check_condition(cleaned.get("fact"), cleaned.get("operator"), cleaned.get("value"))
    except rules.RuleError:
        return False
    return True


class CriterionWordsForm(forms.ModelForm):
    """A criterion's words follow its test. One whose threshold changes while its label or explanation still quotes
    the old one is not saved (patients would read "below 6.0" beside "below 6.5" in what the criteria look for, and
    the verdict from 6.5), nor one whose fact, operator, answer tested or kind changes under the same label."""

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        def turned_round(name):  # a number's change is checked below, against the words that quote it
            if name not in cleaned or cleaned[name] == getattr(self.instance, name):
                return False
            return name != "value" or not numbers_in(cleaned[name]) | numbers_in(self.instance.value)

        # what is tested, how, against which answer ("rrms" → "spms", true → false), and which way it counts
        turned = [name for name in ("fact", "operator", "value", "kind") if turned_round(name)]
        testable = is_test(cleaned)
        # "Aged under 45" over "age gte 45"; a test that is not one (a choice that is no value of its fact) is the
        # model's message, on its field, alone
        if turned and cleaned.get("label") == self.instance.label and testable:
            self.add_error("label", _("The label is unchanged, but the test is not (%(fields)s): patients read this "
                                      "label as what the test looks for. Change it to match.")
                           % {"fields": ", ".join(str(self.fields[name].label).lower() for name in turned)})
        # a value that is no threshold for its fact ("abc", NaN, [1, 2] under "lt") has its own message, on the value
        stale = numbers_in(self.instance.value) - numbers_in(cleaned["value"]) \
            if "value" in cleaned and testable else set()
        for name in ("label", "explanation"):
            words = cleaned.get(name)
            if not stale or words != getattr(self.instance, name) or name in self.errors:
                continue
            quoted = list(dict.fromkeys(text for text in NUMBER.findall(words) if float(text) in stale))  # each once
            if quoted:
                self.add_error(name, _("The %(field)s still says %(old)s, but the threshold is now %(new)s. "
                                       "Patients read it beside the threshold: change it to match.")
                               % {"field": str(self.fields[name].label).lower(), "old": " and ".join(quoted),
                                  "new": json.dumps(cleaned["value"])})
        return cleaned


CODE_STILL_HELD = _("Another criterion in this set still has the code “%(code)s”: codes cannot be swapped, or taken "
                    "from a criterion being deleted, in one save. Give this one a code no criterion has yet and "
                    "save first.")


class CriterionFormSet(forms.BaseInlineFormSet):
    """The criteria of the set being edited: an active set keeps at least one active criterion, and a criterion
    takes no code another one still holds (criteria are saved one at a time: the database would refuse the first,
    a 500)."""

    def clean(self):
        super().clean()
        held = dict(self.get_queryset().values_list("code", "pk"))
        for form in self.forms:  # the new ones too: a page posted with its criteria as new rows was a 500
            code = getattr(form, "cleaned_data", {}).get("code")
            if code and held.get(code, form.instance.pk) != form.instance.pk and not self._should_delete_form(form) \
                    and "code" not in form.errors:
                form.add_error("code", CODE_STILL_HELD % {"code": code})
        set_active = forms.CheckboxInput().value_from_datadict(self.data, self.files, "active")
        if set_active and not any(form.cleaned_data.get("active") for form in self.forms
                                  if not self._should_delete_form(form)):
            raise forms.ValidationError(NO_CRITERIA_LEFT)


class CriterionInline(LongTextShownWhole, admin.StackedInline):
    model = Criterion
    form = CriterionWordsForm
    formset = CriterionFormSet

    def get_queryset(self, request):  # each criterion's heading names its set
        return super().get_queryset(request).select_related("criteria_set")
    formfield_overrides = STRICT_JSON
    extra = 0
    ordering = ["order", "code"]
    fieldsets = [
        (None, {"fields": [("order", "code", "active"), "label"]}),
        (_("The test"), {"fields": [("fact", "operator", "value"), ("kind", "severity")]}),
        (_("For patients"), {"fields": ["explanation", "source"]}),
    ]


class SavedOverWhatWasSeen(forms.ModelForm):
    """Saved only over what the page showed: two admins (or two tabs) each saving a whole page would otherwise undo
    each other's edits without a word ("changed successfully" both times). The page carries the newest history entry
    it was opened on, checked with the row locked until the save ends (two at once take turns)."""

    seen = forms.CharField(widget=forms.HiddenInput, required=False)
    stale = _("Someone saved changes to this %(thing)s after you opened this page. Nothing was saved: open it again "
              "to see their changes, then make yours again.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:  # a posted page is checked against it in clean()
            self.fields["seen"].initial = self.last_change()

    def last_change(self):
        return str(self.instance.history.aggregate(newest=Max("history_id"))["newest"] or 0)

    def lock(self):
        """Lock the row until the save ends: two saves of it at once take turns."""
        type(self.instance).objects.select_for_update().filter(pk=self.instance.pk).exists()

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            self.lock()
            self.fields["seen"].initial = self.last_change()  # also what "changed?" compares with
            if cleaned.get("seen") != self.fields["seen"].initial:
                raise forms.ValidationError(self.stale % {"thing": self.instance._meta.verbose_name})
        return cleaned


class CriteriaSetForm(SavedOverWhatWasSeen):
    """A set with its criteria: the newest change to the set or to any of its criteria."""

    stale = _("Someone saved changes to this set or its criteria after you opened this page. Nothing was saved: open "
              "the set again to see their changes, then make yours again.")

    def last_change(self):
        newest = [model.history.filter(**{key: self.instance.pk}).aggregate(newest=Max("history_id"))["newest"]
                  for model, key in ((CriteriaSet, "id"), (Criterion, "criteria_set_id"))]
        return "-".join(str(history_id or 0) for history_id in newest)


BACK_TO_EDITS = "_back_to_edits"  # the preview's button that posts the edits back to their change page


class ShownAgain:
    """A change page's form posted back from its preview: shown again as typed, each message beside its field, and
    never saved (an error of its own keeps Django's change page from saving it)."""

    def full_clean(self):
        super().full_clean()
        self.add_error(None, _("These are your edits as you typed them. Nothing has been saved yet: correct any "
                               "problem marked on this page, then preview or save."))


CONFIRMING = "_confirming"  # marks a Save posted from the preview, where the tick and the reason are
REASON_LENGTH = 100  # simple-history's history_change_reason


class SaveConfirmation(forms.Form):
    """The preview's tick and reason. When a reference case would disagree with its expected verdict, both are needed
    to save (patients' results follow the criteria at once); otherwise a reason may be given, or not."""

    disagreements_checked = forms.BooleanField(required=False)
    change_reason = forms.CharField(
        label=_("Reason for this change"), max_length=REASON_LENGTH, required=False,
        widget=OneLineTextarea(),
        help_text=_("Kept in the history beside this change, for whoever reads it later."))

    def __init__(self, data=None, *, disagreeing):
        super().__init__(data)
        self.disagreeing = disagreeing
        if disagreeing:
            checked = self.fields["disagreements_checked"]
            checked.required = True
            checked.label = ngettext(
                "I have checked that %(count)d reference case now disagrees with its expected result, and want to "
                "save anyway.",
                "I have checked that %(count)d reference cases now disagree with their expected result, and want to "
                "save anyway.", disagreeing) % {"count": disagreeing}
            checked.error_messages["required"] = _(
                "Tick this box to save with reference cases that disagree, or go back and change your edits.")
            reason = self.fields["change_reason"]
            reason.required = True
            reason.error_messages["required"] = _(
                "Write why you are saving with reference cases that disagree: it is kept in the history.")
        else:
            del self.fields["disagreements_checked"]

    def is_valid(self):
        """Never valid unbound: a Save from the change page is shown the preview first, when a case disagrees."""
        return super().is_valid() if self.is_bound else not self.disagreeing


# what the preview's form does not carry on as edits: the buttons pressed, and its own tick and reason
NOT_REPOSTED = {"_preview", "_save", "_continue", "_addanother", BACK_TO_EDITS, CONFIRMING,
                *SaveConfirmation.base_fields}


class PreviewsEdits:
    """A change page's "Preview" button: the effect of its edits on the reference cases, from the posted (unsaved)
    form, with a button that saves what was previewed or, when the edits have problems, one that takes them back to
    the change page to correct. The preview writes nothing. Each admin says which sets the posted page changes:
    ``edited_sets(request, obj, form)`` gives ``({set: its criteria as the page would leave them}, [problems])``."""

    change_form_template = "admin/screening/change_form_with_preview.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        """Going back from a preview saves nothing, even edits that would save by then (someone else's save may
        have taken away the problem the preview listed)."""
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (ShownAgain, form), {}) if BACK_TO_EDITS in request.POST else form

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [path("<int:object_id>/preview/", preview, name=f"screening_{self.opts.model_name}_preview")] + \
            super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change:
            context["preview_url"] = reverse(f"admin:screening_{self.opts.model_name}_preview", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def preview_view(self, request, object_id):
        obj = get_object_or_404(self.model, pk=object_id)
        if request.method != "POST":  # a preview opened again (a new tab, a bookmark) has no edits: the saved page
            return HttpResponseRedirect(reverse(f"admin:screening_{self.opts.model_name}_change", args=[obj.pk]))
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return TemplateResponse(request, "admin/screening/preview.html", self.preview_context(request, obj))

    def preview_context(self, request, obj):
        """What the preview shows for the posted page: its problems, or each reference case before and after, with
        the confirmation a save needs (``confirm``: a tick and a reason when a case would disagree)."""
        # the row's own fields too (a blanked field, a page opened before someone else saved): checked on a copy,
        # since checking a form writes its values into the instance
        with transaction.atomic():  # the form's check locks the row, as a save does
            form = self.get_form(request, obj, change=True)(
                request.POST, request.FILES, instance=self.model.objects.get(pk=obj.pk))
            errors = [f"{capfirst(form.fields[name].label)}: {error}" if name in form.fields else str(error)
                      for name, field_errors in form.errors.items() for error in field_errors]
        edited, problems = self.edited_sets(request, obj, form)
        errors += problems
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "original": obj, "sets": list(edited),
            "previewed": form.instance if form.is_valid() else obj,  # named as edited, if it can be
            "title": _("Preview: effect of your edits on the reference cases"), "errors": errors,
            "posted": [(key, value) for key, values in request.POST.lists() for value in values
                       if key not in NOT_REPOSTED],
            "change_url": reverse(f"admin:screening_{self.opts.model_name}_change", args=[obj.pk]),
            "back_to_edits": BACK_TO_EDITS, "confirming": CONFIRMING,
        }
        if not errors:
            before = services.reference_case_results(services.saved_rules(edited))
            after = services.reference_case_results({s.code: [c.to_rule() for c in sorted(
                (c for c in criteria if c.active), key=lambda c: (c.order, c.code))] for s, criteria in edited.items()})
            context["rows"] = [{"case": b["case"], "set": s, "before": b["verdicts"][s.code],
                                "after": a["verdicts"][s.code]} for s in edited for b, a in zip(before, after)]
            disagreeing = sum(not row["after"]["agrees"] for row in context["rows"])
            # checked only when posted from the preview: a Save on the change page comes here first, unmarked
            context["confirm"] = SaveConfirmation(request.POST if CONFIRMING in request.POST else None,
                                                  disagreeing=disagreeing)
        return context

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A Save that leaves a reference case disagreeing with its expected verdict is saved only with the preview's
        tick and a reason: without them (or from the change page) the preview is shown, with the edits as typed."""
        if request.method == "POST" and whole_number(object_id) is not None and BACK_TO_EDITS not in request.POST:
            obj = self.get_object(request, object_id)
            if obj is not None and self.has_change_permission(request, obj):
                context = self.preview_context(request, obj)
                confirm = context.get("confirm")
                if confirm is not None and not confirm.is_valid():
                    return TemplateResponse(request, "admin/screening/preview.html", context)
                if confirm is not None and confirm.is_bound:
                    request.change_reason = confirm.cleaned_data["change_reason"]  # as checked, for the save
        return super().changeform_view(request, object_id, form_url, extra_context)

    def change_reason(self, request):
        return getattr(request, "change_reason", "")

    def save_model(self, request, obj, form, change):
        obj._change_reason = self.change_reason(request)  # simple-history's reason for the entry this save writes
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:  # the set's criteria, each saved (or deleted) with the set's reason
            inline_form.instance._change_reason = self.change_reason(request)
        super().save_formset(request, form, formset, change)


@admin.register(CriteriaSet)
class CriteriaSetAdmin(PreviewsEdits, AuditedAdmin):
    form = CriteriaSetForm
    list_display = ("name", "code", "kind", "is_primary", "active", "version", "order")
    history_list_display = ["version"]
    list_filter = ("active", "kind")
    search_fields = ("name", "code")
    readonly_fields = ("version", "is_primary")
    fieldsets = [
        (None, {"fields": ["name", "code", "kind", "citation", "description", "seen"]}),
        (_("Use"), {"fields": [("active", "order"), ("is_primary", "version")],
                    "description": _("To change which set is primary, use the action “Make the primary set” "
                                     "in the list of sets.")}),
    ]
    inlines = [CriterionInline]
    actions = ["make_primary"]

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_primary)

    def save_model(self, request, obj, form, change):
        """A change is saved in save_related(), after its criteria, with the version they make."""
        if not change:  # a new set is saved first: its criteria need it
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        """One Save of the page is one entry in the set's history: its own fields and the version its criteria make
        are saved together, after the criteria (saved first, the set had an entry for its fields at the old version,
        then one for the version). A new set's criteria are part of it: it starts at version 1."""
        obj = form.instance
        with one_version_per_set() as pending:  # each criterion saved or deleted would move the version once more
            super().save_related(request, form, formsets, change)
            moved = obj.pk in pending
            pending.discard(obj.pk)
            if change:
                if moved:  # the row has been locked since the form was checked (SavedOverWhatWasSeen)
                    obj.version = CriteriaSet.objects.values_list("version", flat=True).get(pk=obj.pk) + 1
                super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request, obj=None):
        """A set's code names it in every stored result and in the reference cases' expected verdicts: renamed, the
        cases would expect nothing of it (the check on an edit's effect went quiet) and every result would count it
        as changed. It is fixed once the set exists."""
        return self.readonly_fields + (("code",) if obj else ())

    # A set's history holds its version and whether it was primary, not its criteria (they have histories of their
    # own): reverting one would put an old version number beside today's criteria, hiding from neurologists that a
    # result was scored with other ones, or take away the primary set. A set's history is for reading.
    def revert_disabled(self, request, obj=None):
        return True

    object_history_template = "admin/screening/criteriaset/object_history.html"

    def history_view(self, request, object_id, extra_context=None):
        """The set's own history, and below it every change to its criteria (a version a result quotes is made by
        those): one query for all of them, each compared with the one before it."""
        if whole_number(object_id) is None:
            raise Http404
        records = list(Criterion.history.filter(criteria_set_id=object_id).select_related("history_user")
                       .order_by("id", "history_date", "history_id"))
        changes = [(record, field_changes(record, previous) if previous.id == record.id else [])
                   for previous, record in zip(records[:1] + records, records)]
        changes.sort(key=lambda change: (change[0].history_date, change[0].history_id), reverse=True)
        return super().history_view(request, object_id, {**(extra_context or {}), "criteria_changes": changes})

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_deleted_objects(self, objs, request):
        """A set goes with its criteria: its last active one is not "left" without it (the criteria's own delete
        permission refuses that one, which read as "you do not have permission" to an admin who has it)."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if request.user.has_perm("screening.delete_criterion"):
            perms_needed.discard(Criterion._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    def refuse_deletion(self, queryset):
        if queryset.filter(is_primary=True).exists():
            return _("The primary set cannot be deleted. Make another set primary first.")
        return None

    @admin.action(description=_("Make the primary set (the patients' headline result)"))
    def make_primary(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one set to make primary."), messages.ERROR)
            return
        criteria_set = queryset.get()
        if criteria_set.is_primary:  # saved again, it was an entry with no change in its history, and an audit
            self.message_user(request, _("“%(name)s” is already the primary set: nothing was changed.")
                              % {"name": criteria_set.name}, messages.WARNING)
            return
        if not criteria_set.active:  # a retired set may have no active criteria left: it is checked, then made active
            self.message_user(request, _("“%(name)s” is inactive. Make it active first (its criteria are checked "
                                         "then), then make it primary.") % {"name": criteria_set.name},
                              messages.ERROR)
            return
        services.criteria_set_make_primary(criteria_set=criteria_set, request=request)
        self.message_user(request, _("“%(name)s” is now the primary set.") % {"name": criteria_set.name})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        criteria_set = self.get_object(request, object_id)
        extra = {}
        if criteria_set is not None:
            extra = {"case_results": case_rows(criteria_set.code, services.reference_case_results(
                services.saved_rules([criteria_set])))}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def edited_sets(self, request, criteria_set, form):
        """The set with its criteria (the inline) as posted."""
        [(formset_class, _inline)] = self.get_formsets_with_inlines(request, criteria_set)
        formset = formset_class(request.POST, request.FILES, instance=criteria_set,
                                prefix=formset_class.get_default_prefix())
        problems = formset_errors(formset)
        return {criteria_set: [] if problems else edited_criteria(formset)}, problems


def field_changes(record, previous):
    """``[(field's name as the forms show it, old, new)]`` from one historical record to the next."""
    return [(capfirst(record.instance_type._meta.get_field(change.field).verbose_name), change.old, change.new)
            for change in record.diff_against(previous).changes]


def formset_errors(formset):
    if formset.is_valid():
        return []
    found = [str(e) for e in formset.non_form_errors()]
    for form in formset.forms:
        code = form.data.get(form.add_prefix("code"), "")
        found += [f"{code} · {field}: {error}" for field, field_errors in form.errors.items() for error in field_errors]
    return found


def edited_criteria(formset):
    """The criteria as they would be after saving the (valid) inline formset, without saving anything."""
    deleted = {id(form) for form in formset.deleted_forms}
    return [form.save(commit=False) if form.has_changed() else form.instance
            for form in formset.forms if id(form) not in deleted and (form.has_changed() or form.instance.pk)]


def case_rows(code, results):
    return [{"case": row["case"], **row["verdicts"][code]} for row in results]


class CriterionForm(CriterionWordsForm, SavedOverWhatWasSeen):
    class Meta:
        model = Criterion
        fields = "__all__"

    def lock(self):
        # Its set first (and the set it moves to, in id order), as the set's page locks them (the set, then each
        # criterion it saves): saved from both pages at once, the two take turns instead of each waiting for the
        # other (a deadlock, and a 500, on PostgreSQL).
        moving_to = getattr(self.cleaned_data.get("criteria_set"), "pk", None)
        sets = CriteriaSet.objects.select_for_update().filter(pk__in={self.instance.criteria_set_id, moving_to})
        list(sets.order_by("pk").values_list("pk", flat=True))
        super().lock()

    def clean(self):
        cleaned = super().clean()
        moved = getattr(cleaned.get("criteria_set"), "pk", None) != self.instance.criteria_set_id
        taken_out = self.instance.pk and self.instance.active and (not cleaned.get("active") or moved)
        if taken_out and leaves_set_empty(self.instance):
            raise forms.ValidationError(NO_CRITERIA_LEFT)
        return cleaned


@admin.register(Criterion)
class CriterionAdmin(PreviewsEdits, AuditedAdmin):
    form = CriterionForm
    list_display = ("label", "criteria_set", "code", "fact", "operator", "value", "kind", "severity", "active")

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.active and leaves_set_empty(obj))

    def refuse_deletion(self, queryset):
        emptied = CriteriaSet.objects.filter(active=True, criteria__in=queryset.filter(active=True)).exclude(
            criteria__in=Criterion.objects.filter(active=True).exclude(pk__in=queryset)).distinct()
        if emptied:
            return f"{', '.join(map(str, emptied))}: {NO_CRITERIA_LEFT}"
        return None

    def edited_sets(self, request, criterion, form):
        """Its set with it as posted, and the set it is moved to, if it is."""
        if form.errors:
            return {}, []
        sets = {criteria_set: [c for c in criteria_set.criteria.all() if c.pk != criterion.pk]
                for criteria_set in (criterion.criteria_set, form.instance.criteria_set)}
        sets[form.instance.criteria_set].append(form.instance)
        return sets, []

    def delete_queryset(self, request, queryset):
        with one_version_per_set():  # one by one, so that each set's version goes up, once
            for criterion in queryset.order_by("criteria_set_id", "pk"):  # their sets locked in id order
                criterion.delete()
    list_filter = ("criteria_set", "kind", "severity", "active")
    search_fields = ("code", "label")
    fieldsets = CriterionInline.fieldsets[:1] + [(None, {"fields": ["criteria_set", "seen"]})] + \
        CriterionInline.fieldsets[1:]


@admin.register(Note)
class NoteAdmin(AuditedAdmin):
    form = SavedOverWhatWasSeen
    list_display = ("title", "kind", "code", "order", "active")
    list_filter = ("kind", "active")
    search_fields = ("title", "code", "body")
    fieldsets = [
        (None, {"fields": [("kind", "order", "active"), "code", "title", "body", "source", "seen"]}),
        (_("When it shows (optional)"), {
            "fields": [("condition_fact", "condition_operator", "condition_value"), "verdicts"],
            "description": _("Without a condition or verdicts, the note shows on every result. A condition is "
                             "written like a criterion, e.g. pregnancy · ne · \"no\".")}),
    ]


class ReferenceCaseForm(SavedOverWhatWasSeen):
    class Meta:
        model = ReferenceCase
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        answers, scored_on = cleaned.get("answers"), cleaned.get("scored_on")
        if isinstance(answers, dict) and scored_on:
            clean_answers, problems = validate_answers(answers, scored_on)
            if problems:
                self.add_error("answers", [f"{key}: {message}" for key, message in problems])
            else:
                cleaned["answers"] = clean_answers
        elif "answers" in cleaned and not isinstance(answers, dict):
            self.add_error("answers", _("Enter the answers as a JSON object of answer keys and values."))
        expected = cleaned.get("expected")
        if isinstance(expected, dict):
            unknown = set(expected) - set(CriteriaSet.objects.values_list("code", flat=True))
            if unknown:
                self.add_error("expected", _("No criteria set with code: %s") % ", ".join(sorted(unknown)))
        return cleaned


@admin.register(ReferenceCase)
class ReferenceCaseAdmin(AuditedAdmin):
    form = ReferenceCaseForm
    list_display = ("name", "code", "scored_on", "active")
    search_fields = ("name", "code")

    def get_changeform_initial_data(self, request):
        return {"scored_on": timezone.localdate(), "expected": {}}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to admins, changed only by the application's own services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor", "screening", "ip_address", "detail")
    list_filter = ("action",)
    date_hierarchy = "created_at"
    search_fields = ("actor__username",)
    search_help_text = _("Who opened R-…? A screening's reference (any case, with or without dashes), or a member of "
                         "staff's username.")

    def get_search_results(self, request, queryset, search_term):
        """By staff member, or by screening as its reference is typed (as in the queue)."""
        by_actor, _duplicates = super().get_search_results(request, queryset, search_term)
        if not normalise_code(search_term):
            return by_actor, False
        by_reference = with_reference_typed(queryset, search_term, "screening__reference")
        return queryset.filter(Q(pk__in=by_actor.values("pk")) | Q(pk__in=by_reference.values("pk"))), False

    def get_queryset(self, request):  # each entry names its actor and screening: read with it, without the answers
        return super().get_queryset(request).select_related("actor", "screening").defer(
            "screening__answers", "screening__facts", "screening__snapshot", "screening__consent_text")
