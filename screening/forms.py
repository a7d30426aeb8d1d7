"""The questionnaire: one form per step, shape validation only (PRODUCT.md §2).

The same forms validate the web steps and the ``screen`` command (:func:`validate_answers`), so the two can
never disagree. Validation that depends on the date takes ``today`` from the caller; validation that depends on
an earlier step reads the ``answers`` already cleaned.
"""

import copy
import functools
import json
import math
import re
from dataclasses import dataclass
from typing import Callable

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.choices import BaseChoiceIterator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .facts import HIGH_EFFICACY_DMTS, inflammatory_activity, mri_activity
from .models import CODE_ALPHABET, CODE_LENGTH, normalise_code, reference_body

FIRST_DIAGNOSIS_YEAR = 1950
DONT_KNOW = ""  # the posted value of every "don't know" / "not sure" option


class AnswerRequiredMixin:
    """A field whose key must be present but whose empty value means "don't know" (``None``).

    An absent key (``None`` from the widget) is a missing answer; an empty string is "don't know".
    """

    def clean(self, value):
        if value is None:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return None
        if value == DONT_KNOW:
            return None
        return super().clean(value)


class NullableChoiceField(AnswerRequiredMixin, forms.TypedChoiceField):
    """With ``number=True`` the choices are numbers: "4", "4.0" and 4 are the same answer."""

    def __init__(self, *args, number=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.number = number

    def to_python(self, value):
        value = super().to_python(value)
        if self.number and value not in self.empty_values:
            try:
                return str(float(value))
            except ValueError:
                return value
        return value


class NullableIntegerField(AnswerRequiredMixin, forms.IntegerField):
    pass


class AgeField(forms.IntegerField):
    """An age: a whole number, alone or followed by a word for years ("52 years", "52 yrs", "52 years old"), which
    is that number. "-41" (a stray minus, a slip of the hand) gets the message for a typo, "Enter your age as a whole
    number", and not "This check is for people aged 16 and over", which speaks of a real age it is not. Shown again,
    what was typed comes without the spaces around it."""

    IN_YEARS = re.compile(r"(\d+)\s*(?:(?:years?|yrs?)\.?(?:\s+old)?)?", re.IGNORECASE)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("-"):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            in_years = self.IN_YEARS.fullmatch(value)
            value = in_years[1] if in_years else value
        return super().to_python(value)

    def prepare_value(self, value):
        return value.strip() if isinstance(value, str) else super().prepare_value(value)


class Choices(BaseChoiceIterator):
    """A question's fixed answers, shared by every copy of its field. Django deep-copies each field's choices for
    every form it builds, and the questionnaire builds every step's form on each request: sharing them (they never
    change) makes that several times cheaper."""

    def __init__(self, choices):
        self.choices = tuple(choices)

    def __iter__(self):
        return iter(self.choices)

    def __len__(self):
        return len(self.choices)

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


class RadioSelect(forms.RadioSelect):
    """Radios with nothing selected until the person chooses: Django would select the "" ("don't know") option
    for a missing value."""

    def format_value(self, value):
        return [] if value is None else super().format_value(value)


def radio(choices, *, label, help_text="", required=True, coerce=str, nullable=False, required_message=None,
          invalid_message=None, taken_as=None):
    """A question with one answer; ``taken_as``: the answer an optional one counts as when left unanswered."""
    if nullable:
        field_class, extra = NullableChoiceField, {"number": coerce is float}
    else:
        field_class, extra = forms.TypedChoiceField, {}
    field = field_class(**extra,
        choices=Choices(choices), coerce=coerce, label=label, help_text=help_text, required=required,
        widget=RadioSelect, empty_value=None,
        error_messages={"required": required_message or _("Choose one answer."),
                        "invalid_choice": invalid_message or _("“%(value)s” is not one of the answers shown.")},
    )
    field.taken_as = taken_as
    return field


NONE_OF_THESE = "none"  # a checkbox question's own "none" box; the answer it gives is the empty list


class TickWhatApplies(forms.MultipleChoiceField):
    """A checkbox question answered by ticking what applies, or its last box, "none" (never both). Nothing ticked
    is no answer: a tired Continue past the medicines is asked again, not read as "never treated"."""

    def __init__(self, choices, *, none_label, nothing_ticked, **kwargs):
        super().__init__(choices=Choices([*choices, (NONE_OF_THESE, none_label)]), widget=forms.CheckboxSelectMultiple,
                         error_messages={"required": nothing_ticked,
                                         "invalid_choice": _("“%(value)s” is not one of the answers shown."),
                                         "invalid_list": _("Give a list of answers.")}, **kwargs)

    @property
    def none_label(self):
        return dict(self.choices)[NONE_OF_THESE]  # as the box reads, reworded or not

    def clean(self, value):
        value = super().clean(value)
        if NONE_OF_THESE in value and len(value) > 1:
            raise forms.ValidationError(_("“%(none)s” is ticked with other answers: untick it, or untick the others.")
                                        % {"none": self.none_label}, code="none_and_more")
        return [] if value == [NONE_OF_THESE] else value


def yes_no(value):
    return value == "true"


YES_NO_UNSURE = [("yes", _("Yes")), ("no", _("No")), ("unsure", _("I'm not sure"))]
EDSS_CHOICES = [(DONT_KNOW, _("I don't know my score"))] + [
    (str(step / 2), f"{step / 2:.1f}") for step in range(0, 20)
]
MONTH_CHOICES = [(DONT_KNOW, _("I don't remember"))] + [
    (str(m), name) for m, name in enumerate(
        [_("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"), _("August"),
         _("September"), _("October"), _("November"), _("December")], start=1)
]
DMT_CHOICES = [
    ("interferon_beta", _("Interferon beta (Avonex, Rebif, Betaferon, Plegridy)")),
    ("glatiramer", _("Glatiramer acetate (Copaxone)")),
    ("teriflunomide", _("Teriflunomide (Aubagio)")),
    ("fumarate", _("Dimethyl or diroximel fumarate (Tecfidera, Vumerity)")),
    ("s1p_modulator", _("Fingolimod, siponimod, ozanimod or ponesimod (Gilenya, Mayzent, Zeposia, Ponvory)")),
    ("cladribine", _("Cladribine tablets (Mavenclad)")),
    ("natalizumab", _("Natalizumab (Tysabri)")),
    # rituximab (off-label, widely used in Scandinavia) is an anti-CD20 medicine too
    ("anti_cd20", _("Ocrelizumab, ofatumumab, ublituximab or rituximab (Ocrevus, Kesimpta, Briumvi, MabThera, "
                    "Truxima, Rixathon)")),
    ("alemtuzumab", _("Alemtuzumab (Lemtrada)")),
    ("other", _("Another MS medicine")),
]
HIGH_EFFICACY_NAMES = {  # as a question names them: no brand names, which the medicines step gave
    "natalizumab": _("natalizumab"), "anti_cd20": _("ocrelizumab, ofatumumab, ublituximab or rituximab"),
    "alemtuzumab": _("alemtuzumab"), "cladribine": _("cladribine"),
}
SEVERAL_MEDICINES = {"anti_cd20"}  # a choice whose name above is a list of medicines
COMORBIDITY_CHOICES = [
    ("heart", _("A heart condition")),
    ("lung", _("A lung condition")),
    ("kidney", _("A kidney condition")),
    ("liver", _("A liver condition")),
    ("cancer", _("Cancer, now or in the past")),
    ("chronic_infection", _("A long-term infection, such as hepatitis B or C, HIV or TB")),
    ("mental_health", _("A mental health condition, such as depression")),
]


class StepForm(forms.Form):
    """A questionnaire step. ``answers`` holds the earlier steps' cleaned answers; ``today`` the date of the check.

    With ``partial=True`` (a step that the earlier answers make irrelevant) only the keys supplied are checked,
    and none is required: such answers are kept but ignored by the facts. Someone helping a person with MS
    (``respondent`` "carer" in ``answers``) is asked each question about that person (``CARER_WORDING``).
    """

    use_required_attribute = False  # the server validates; "back" and "save" must post whatever was typed

    def __init__(self, *args, answers=None, today, partial=False, shared_fields=False, **kwargs):
        if shared_fields:  # see SharedFields
            self.base_fields = SharedFields(self.base_fields)
        super().__init__(*args, **kwargs)
        self.answers = answers or {}
        self.today = today
        respondent = self.answers.get("respondent")
        if respondent is None and "respondent" in self.fields:  # the first step asks it: once answered, its own
            respondent = self.data.get("respondent")  # age question is worded for them too (shown again, checked)
        if respondent == "carer":  # worded once per process; copied only to be rendered
            for name in CARER_WORDING.keys() & self.fields.keys():
                field = question_for(name, "carer")
                self.fields[name] = field if shared_fields else copy.deepcopy(field)
        if partial:
            for name in list(self.fields):
                if self.data.get(name) is None:
                    del self.fields[name]
                else:
                    self.fields[name] = copy.copy(self.fields[name])
                    self.fields[name].required = False

    # Rendering goes through these (crispy's filter iterates the form); checking does not.
    def __iter__(self):
        self.refuse_if_shared()
        return super().__iter__()

    def render(self, *args, **kwargs):
        self.refuse_if_shared()
        return super().render(*args, **kwargs)

    def refuse_if_shared(self):
        if isinstance(self.base_fields, SharedFields):  # rendering would change the step's widgets for everyone
            raise TypeError("This form shares its fields and only checks answers: render form_to_show()'s form.")

    def wording(self):
        """All that its questions say (labels, help, answers): two blank forms of a step worded alike render alike,
        so the step view keys the HTML it keeps of a blank step by this."""
        return [(name, str(field.label), str(field.help_text),
                 [str(label) for _value, label in getattr(field, "choices", ())])
                for name, field in self.fields.items()]

    def reword(self, name, **wording):
        """One question worded for this person (see :func:`reworded`): on a copy of its field, which may be shared
        by every form of the step (SharedFields)."""
        self.fields[name] = reworded(self.fields[name], **wording)


def reworded(field, *, choices=None, error_messages=None, **attributes):
    """A copy of ``field`` worded otherwise: ``choices`` ({value: label}) and ``error_messages`` ({code: message})
    replace some of its own, so its answers stay the same; other ``attributes`` (``label``, ``help_text``) are set."""
    field = copy.deepcopy(field)
    if choices:
        field.choices = [(value, choices.get(value, label)) for value, label in field.choices]
    if error_messages:
        field.error_messages = {**field.error_messages, **error_messages}
    for attribute, value in attributes.items():
        setattr(field, attribute, value)
    return field


class SharedFields(dict):
    """A form's fields, not copied for it: for a form that only checks answers and is never rendered.

    Django deep-copies every field and widget of every form it builds, because rendering may change a widget (crispy
    adds its classes to the widget's attributes). Checking answers changes neither, and the questionnaire checks
    each earlier step's answers on every step's page: without the copies, that takes a third of the time.
    """

    def __deepcopy__(self, memo):
        return dict(self)


class AboutYouForm(StepForm):
    respondent = radio(
        [("self", _("I am filling it in for myself")), ("carer", _("I am helping someone else fill it in"))],
        label=_("Who is filling in this check?"), required=False, taken_as="self",
    )
    age = AgeField(
        label=_("How old are you?"), help_text=_("In years. If you are helping someone, give their age."),
        min_value=16, max_value=99, widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={
            "required": _("Enter your age in years."),
            "invalid": _("Enter your age as a whole number, for example 34."),
            "min_value": _("This check is for people aged 16 and over. For a younger person, ask their MS team about "
                           "treatment options, HSCT included."),
            "max_value": _("Enter an age of 99 or under."),
        },
    )


class DiagnosisForm(StepForm):
    diagnosis_confirmed = radio(YES_NO_UNSURE, label=_("Has a neurologist confirmed that you have MS?"))
    ms_type = radio(
        [
            ("rrms", _("Relapsing-remitting MS: attacks (relapses) followed by full or partial recovery")),
            ("spms", _("Secondary progressive MS: started with relapses, now getting slowly worse over time")),
            ("ppms", _("Primary progressive MS: slowly getting worse from the start, without clear attacks")),
            ("cis", _("Clinically isolated syndrome (CIS): one attack so far")),
            ("unsure", _("I'm not sure")),
        ],
        label=_("Which type of MS do you have?"),
        help_text=_("Your neurologist's letters usually say which type."),
    )
    diagnosis_year = forms.IntegerField(
        label=_("In which year were you diagnosed?"),
        help_text=_("For example 2019. Not sure? Your neurologist's first letter gives it; otherwise give your best "
                    "guess and tell your neurologist it is one."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": _("Enter the year you were diagnosed. If you are not sure, your best guess "
                                      "will do."),
                        "invalid": _("Enter a year as four digits, for example 2019."),
                        "before_birth": _("That year is before you were born (you told us you are %(age)s).")},
    )
    diagnosis_month = forms.TypedChoiceField(
        choices=Choices(MONTH_CHOICES), coerce=int, empty_value=None, required=False,
        label=_("In which month? (if you remember)"),
        help_text=_("This makes the time since diagnosis more exact."),
        error_messages={"invalid_choice": _("Choose a month from the list.")},
    )

    def clean(self):
        cleaned = super().clean()
        year, month = cleaned.get("diagnosis_year"), cleaned.get("diagnosis_month")
        if year is None:
            return cleaned
        age = self.answers.get("age")
        earliest = max(FIRST_DIAGNOSIS_YEAR, self.today.year - age - 1) if age else FIRST_DIAGNOSIS_YEAR
        if not 1000 <= year <= 9999:  # "19" for 2019: not "before you were born"
            self.add_error("diagnosis_year", self.fields["diagnosis_year"].error_messages["invalid"])
        elif year > self.today.year or (year == self.today.year and month and month > self.today.month):
            self.add_error("diagnosis_year", _("The diagnosis date cannot be in the future."))
        elif year < earliest:
            if age and earliest > FIRST_DIAGNOSIS_YEAR:
                message = self.fields["diagnosis_year"].error_messages["before_birth"] % {"age": age}
            else:
                message = _("Enter a year from %(year)s onwards.") % {"year": FIRST_DIAGNOSIS_YEAR}
            self.add_error("diagnosis_year", message)
        return cleaned


class EdssForm(StepForm):
    edss = radio(
        EDSS_CHOICES, coerce=float, nullable=True,
        label=_("What is your most recent EDSS score?"),
        help_text=_("EDSS is the 0 to 10 disability score your neurologist may have recorded. "
                    "If you don't know it, choose “I don't know my score”: we will ask about walking instead."),
        required_message=_("Choose your score, or “I don't know my score”."),
        invalid_message=_("An EDSS score is from 0 to 9.5 in steps of 0.5, for example 3.5."),
    )


class WalkingAidForm(StepForm):
    walking_aid = radio(
        [
            ("none", _("I walk without any help")),
            ("one_sided", _("One stick or crutch, or I hold an arm or a wall, even some of the time")),
            ("two_sided", _("Two sticks or crutches, a walking frame or a rollator")),
            ("wheelchair", _("I use a wheelchair or scooter most of the time")),
        ],
        label=_("What help do you usually need to walk?"),
        # An ankle-foot brace alone counts as no help (Neurostatus, clinical.md §3a), but the neurologist should know.
        help_text=_("Think of a usual day, not during a relapse. An ankle brace or splint on its own does not count "
                    "as help here; if you wear one, tell your neurologist."),
    )


class WalkingDistanceForm(StepForm):
    walking_distance = radio(
        [
            ("500_plus", _("500 metres or more (about five football pitches)")),
            ("300_499", _("300 to 499 metres (about three football pitches)")),
            ("200_299", _("200 to 299 metres (about two football pitches)")),
            ("100_199", _("100 to 199 metres (about one football pitch)")),
            ("50_99", _("50 to 99 metres (about half a football pitch)")),
            ("20_49", _("20 to 49 metres (about the length of a tennis court)")),
            ("5_19", _("5 to 19 metres (a few rooms)")),
            ("under_5", _("Less than 5 metres (across a room)")),
            ("unsure", _("I'm not sure")),
        ],
        label=_("How far can you walk without stopping to rest?"),
        help_text=_("With the help you usually use, on a usual day."),
    )


def count_field(*, label, help_text, maximum, example):
    """A count where an empty answer means "not sure"."""
    return NullableIntegerField(
        label=label, help_text=help_text, min_value=0, max_value=maximum,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"invalid": _("Enter a whole number, for example %(example)s, or leave it empty.")
                        % {"example": example},
                        "min_value": _("Enter 0 or more."),
                        "max_value": _("Enter %(max)s or fewer.") % {"max": maximum},
                        "required": _("Enter a number, or leave it empty if you are not sure.")},
    )


class RelapsesForm(StepForm):
    relapses_12m = count_field(
        label=_("How many relapses have you had in the last 12 months?"),
        help_text=_("A relapse is new or worse symptoms lasting more than a day, without a fever or infection to "
                    "explain them. If there were none, enter 0; leave it empty only if you are not sure."),
        maximum=20, example=_("0 or 2"),
    )
    relapses_36m = count_field(
        label=_("How many relapses have you had in the last 3 years?"),
        help_text=_("Include the last 12 months. If there were none, enter 0; leave it empty only if you are not sure."),
        maximum=50, example=_("0 or 3"),
    )
    mri_activity_12m = radio(
        [("yes", _("Yes")), ("no", _("No")), ("unsure", _("I'm not sure")),
         ("no_mri", _("I have not had an MRI scan in the last 12 months"))],
        label=_("Has an MRI scan in the last 12 months shown new or active areas of inflammation (lesions)?"),
        help_text=_("Your neurologist may have called them new, enlarging or enhancing lesions."),
    )

    def clean(self):
        cleaned = super().clean()
        in_12m, in_36m = cleaned.get("relapses_12m"), cleaned.get("relapses_36m")
        if in_12m is not None and in_36m is not None and in_36m < in_12m:
            self.add_error("relapses_36m", _("The last 3 years include the last 12 months: enter %(n)s or more.")
                           % {"n": in_12m})
        return cleaned


class TreatmentsForm(StepForm):
    dmts = TickWhatApplies(
        DMT_CHOICES, none_label=_("I have never taken an MS medicine"),
        nothing_ticked=_("Tick the MS medicines you have taken, or “I have never taken an MS medicine”."),
        label=_("Which MS medicines have you ever taken?"),
        help_text=_("Tick all that apply. If you took one but do not remember which, tick “Another MS medicine”, "
                    "and ask your MS team its name if you can: the check counts a high-efficacy medicine only when it "
                    "is ticked by name."),
    )


class TreatmentResponseForm(StepForm):
    activity_on_dmt = radio(
        YES_NO_UNSURE,
        label=_("After at least 6 months on an MS medicine, did you still have a relapse or new MRI activity?"),
    )
    # Worded to stand on its own: "Did that happen…" left someone who had answered No guessing what "that" was.
    # Asked, it names only the high-efficacy medicines ticked; "from 6 months after you started" suits the ones
    # given as a short course (alemtuzumab, cladribine) too.
    activity_on_high_efficacy_dmt = radio(
        YES_NO_UNSURE,
        label=_("From 6 months after you started natalizumab, ocrelizumab, ofatumumab, ublituximab, rituximab, "
                "alemtuzumab or cladribine, did you still have a relapse or new MRI activity?"),
        help_text=_("These are MS medicines too: if you answered No to the question above, the answer here is No."),
    )
    # the question as asked, naming only the high-efficacy medicines ticked
    activity_on_high_efficacy_dmt.naming = _(
        "From 6 months after you started %(medicines)s, did you still have a relapse or new MRI activity?")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        taken = set(self.answers.get("dmts") or ())
        ticked = [code for code, _label in DMT_CHOICES if code in HIGH_EFFICACY_DMTS & taken]
        if not ticked:
            self.fields.pop("activity_on_high_efficacy_dmt", None)
        else:
            names = [str(HIGH_EFFICACY_NAMES[code]) for code in ticked]
            question = self.fields["activity_on_high_efficacy_dmt"].naming  # worded for a carer, or not
            self.reword("activity_on_high_efficacy_dmt", label=question % {
                "medicines": names[0] if len(names) == 1 else _("%(some)s or %(last)s") % {
                    "some": ", ".join(names[:-1]), "last": names[-1]}},
                help_text=ngettext(
                    "This is an MS medicine too: if you answered No to the question above, the answer here is No.",
                    "These are MS medicines too: if you answered No to the question above, the answer here is No.",
                    2 if len(ticked) > 1 or ticked[0] in SEVERAL_MEDICINES else 1))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("activity_on_dmt") == "no" and cleaned.get("activity_on_high_efficacy_dmt") == "yes":
            # Activity on one of these medicines is activity on an MS medicine: the two answers cannot both hold,
            # and which one is meant decides whether the MS counts as kept quiet by medicine.
            self.add_error("activity_on_high_efficacy_dmt", _(
                "This says Yes, but the question above says No. Activity on these medicines is activity on an MS "
                "medicine: check both answers."))
        return cleaned


class HealthForm(StepForm):
    comorbidities = TickWhatApplies(
        COMORBIDITY_CHOICES, none_label=_("None of these"),
        nothing_ticked=_("Tick the conditions you have, or “None of these”."),
        label=_("Do you have any of these health conditions?"), help_text=_("Tick all that apply."),
    )
    prior_hsct = radio([("true", _("Yes")), ("false", _("No"))], coerce=yes_no,
                       label=_("Have you had a stem cell transplant before?"))
    pregnancy = radio(
        [("no", _("No")), ("pregnant_or_breastfeeding", _("I am pregnant or breastfeeding")),
         ("planning", _("I am planning a pregnancy in the next 2 years"))],
        label=_("Are you pregnant, breastfeeding, or planning a pregnancy?"),
        help_text=_("HSCT can affect fertility, so this matters for everyone who may want children."),
    )


class RegionForm(StepForm):
    region = radio(
        [("us_canada", _("USA or Canada")), ("mexico", _("Mexico")), ("russia", _("Russia")), ("india", _("India")),
         ("europe", _("Europe, including the UK")), ("other", _("Somewhere else")),
         (DONT_KNOW, _("I'd rather not say"))],
        label=_("Where do you live?"), required=False,
        help_text=_("This only changes the information about where HSCT is offered and what it costs."),
    )


# Each question that speaks to the person with MS as "you" or "I", as someone helping them is asked it: about "the
# person you are helping" (the first question of a step) or "they", never "your". Asked "Are you pregnant?", a carer
# (who may be pregnant, or the partner of someone who is) answered for the wrong person. "I" and "you" that stand for
# whoever answers ("I'm not sure", "if you remember") stay. Only words change: the answers (keys, values) do not.
CARER_WORDING = {
    # Asked before anyone says who is answering, so its help speaks to both; once they have said, to the carer alone
    # (the step shown again, the review page, the neurologist's page), where "How old are you? 41" was the carer's.
    "age": {"label": _("How old is the person you are helping?"), "help_text": _("In years."),
            "error_messages": {"required": _("Enter their age in years."),
                               "invalid": _("Enter their age as a whole number, for example 34.")}},
    "diagnosis_confirmed": {"label": _("Has a neurologist confirmed that the person you are helping has MS?")},
    "ms_type": {"label": _("Which type of MS do they have?"),
                "help_text": _("Their neurologist's letters usually say which type.")},
    "diagnosis_year": {
        "label": _("In which year were they diagnosed?"),
        "help_text": _("For example 2019. Not sure? Their neurologist's first letter gives it; otherwise give a best "
                       "guess and tell their neurologist it is one."),
        "error_messages": {
            "required": _("Enter the year they were diagnosed. If you are not sure, a best guess will do."),
            "before_birth": _("That year is before they were born (you told us they are %(age)s).")}},
    "edss": {
        "label": _("What is the most recent EDSS score of the person you are helping?"),
        "help_text": _("EDSS is the 0 to 10 disability score their neurologist may have recorded. If you don't know "
                       "it, choose “I don't know their score”: we will ask about walking instead."),
        "choices": {DONT_KNOW: _("I don't know their score")},
        "error_messages": {"required": _("Choose their score, or “I don't know their score”.")}},
    "walking_aid": {
        "label": _("What help does the person you are helping usually need to walk?"),
        "help_text": _("Think of a usual day, not during a relapse. An ankle brace or splint on its own does not "
                       "count as help here; if they wear one, tell their neurologist."),
        "choices": {"none": _("They walk without any help"),
                    "one_sided": _("One stick or crutch, or they hold an arm or a wall, even some of the time"),
                    "wheelchair": _("They use a wheelchair or scooter most of the time")}},
    "walking_distance": {"label": _("How far can the person you are helping walk without stopping to rest?"),
                         "help_text": _("With the help they usually use, on a usual day.")},
    "relapses_12m": {"label": _("How many relapses has the person you are helping had in the last 12 months?")},
    "relapses_36m": {"label": _("How many relapses have they had in the last 3 years?")},
    "mri_activity_12m": {
        "help_text": _("Their neurologist may have called them new, enlarging or enhancing lesions."),
        "choices": {"no_mri": _("They have not had an MRI scan in the last 12 months")}},
    "dmts": {
        "label": _("Which MS medicines has the person you are helping ever taken?"),
        "help_text": _("Tick all that apply. If they took one whose name is not known, tick “Another MS medicine”, "
                       "and ask their MS team its name if possible: the check counts a high-efficacy medicine only "
                       "when it is ticked by name."),
        "choices": {NONE_OF_THESE: _("They have never taken an MS medicine")},
        "error_messages": {"required": _("Tick the MS medicines they have taken, or “They have never taken an MS "
                                         "medicine”.")}},
    "activity_on_dmt": {"label": _("After at least 6 months on an MS medicine, did the person you are helping still "
                                   "have a relapse or new MRI activity?")},
    "activity_on_high_efficacy_dmt": {"naming": _(
        "From 6 months after they started %(medicines)s, did they still have a relapse or new MRI activity?")},
    "comorbidities": {"label": _("Does the person you are helping have any of these health conditions?"),
                      "error_messages": {"required": _("Tick the conditions they have, or “None of these”.")}},
    "prior_hsct": {"label": _("Have they had a stem cell transplant before?")},
    "pregnancy": {"label": _("Is the person you are helping pregnant, breastfeeding, or planning a pregnancy?"),
                  "choices": {"pregnant_or_breastfeeding": _("They are pregnant or breastfeeding"),
                              "planning": _("They are planning a pregnancy in the next 2 years")}},
    "region": {"label": _("Where does the person you are helping live?")},
}


# Step conditions are three-valued, like the rules: True (asked), False (not asked) or None (not decidable yet,
# because the answers it depends on are not given yet). Validation asks only what is True; "Step n of N" counts
# what is not False.


def asks_walking(answers):
    """Walking questions replace the EDSS when the person answered "I don't know" to it."""
    return None if "edss" not in answers else answers["edss"] is None


def asks_walking_distance(answers):
    walking = asks_walking(answers)
    if not walking:
        return walking
    return None if "walking_aid" not in answers else answers["walking_aid"] != "wheelchair"


def asks_treatment_response(answers):
    return None if "dmts" not in answers else bool(answers["dmts"])


def activity_hint(answers):
    """Relapses or MRI activity this year beside a No to "still active after 6 months on a medicine" would count the
    MS as kept quiet by medicine (PRODUCT.md §3): a reminder of what was said, for the question to be read with it."""
    if inflammatory_activity(answers.get("relapses_12m"), mri_activity(answers.get("mri_activity_12m"))):
        names = dict(DMT_CHOICES)
        # The names hold commas and brackets of their own: listed with semicolons, after the sentence, not inside one
        return _("You told us about a relapse or new MRI activity in the last 12 months. If it came after at least "
                 "6 months on one of the MS medicines you ticked, answer Yes to the first question. You ticked: "
                 "%(medicines)s.") % {
            "medicines": "; ".join(str(names.get(code, code)) for code in answers.get("dmts") or [])}
    return None


@dataclass(frozen=True)
class Step:
    """One screen of the questionnaire; ``applies`` decides from earlier answers whether it is asked, ``hint`` what
    the earlier answers add to its questions (or ``None``)."""

    slug: str
    title: str
    form_class: type
    applies: Callable[[dict], bool] = lambda answers: True
    hint: Callable[[dict], str | None] = lambda answers: None
    carer_title: str = ""  # about the person a carer helps ("Their diagnosis"), where the title says "your"

    def title_for(self, answers: dict) -> str:
        """The step's title as whoever fills it in reads it, like its questions (CARER_WORDING)."""
        return self.carer_title if self.carer_title and answers.get("respondent") == "carer" else self.title


STEPS = (
    Step("about-you", _("About you"), AboutYouForm, carer_title=_("About you and the person you are helping")),
    Step("diagnosis", _("Your diagnosis"), DiagnosisForm, carer_title=_("Their diagnosis")),
    Step("edss", _("Your disability score"), EdssForm, carer_title=_("Their disability score")),
    Step("walking-aid", _("Walking"), WalkingAidForm, asks_walking),
    Step("walking-distance", _("Walking distance"), WalkingDistanceForm, asks_walking_distance),
    Step("relapses", _("Relapses and MRI"), RelapsesForm),
    Step("treatments", _("Your MS medicines"), TreatmentsForm, carer_title=_("Their MS medicines")),
    Step("treatment-response", _("How your medicines worked"), TreatmentResponseForm, asks_treatment_response,
         activity_hint, carer_title=_("How their medicines worked")),
    Step("health", _("Your health"), HealthForm, carer_title=_("Their health")),
    Step("region", _("Where you live"), RegionForm, carer_title=_("Where they live")),
)
ANSWER_FIELDS = {name: field for step in STEPS for name, field in step.form_class.base_fields.items()}
ANSWER_KEYS = tuple(ANSWER_FIELDS)
# Keys that must be present in an answers object even though their value may be null or an empty list.
KEYS_ALWAYS_REQUIRED = ("edss", "relapses_12m", "relapses_36m", "dmts", "comorbidities")


@functools.cache
def question_for(name, respondent):
    """A question as ``respondent`` ("self", "carer" or ``None``) is asked it, to read their answers back in its
    words. (A step's form may word it further from other answers: the medicines the high-efficacy one names.)"""
    field = ANSWER_FIELDS[name]
    return reworded(field, **CARER_WORDING[name]) if respondent == "carer" and name in CARER_WORDING else field


class StepForms(dict):
    """Each step's bound form by slug, built the first time it is asked for."""

    def __init__(self, build):
        super().__init__()
        self.build = build

    def __missing__(self, slug):
        form = self[slug] = self.build(slug)
        return form


class Questionnaire:
    """Every step bound to one set of form data, in order, each seeing the answers cleaned by the steps before it.

    ``data`` is form data (strings; lists for multiple choices): posted by the web steps and kept in a draft, or
    converted from JSON by :func:`as_form_data`. A step counts as answered once any of its fields is in ``data``
    (an unticked checkbox group is posted as ``[]``). A step that is not asked is checked leniently.
    """

    def __init__(self, data: dict, today):
        self.answers = {}
        self.applicable = []  # asked, given the answers so far
        self.expected = []  # asked or not decidable yet: what "Step n of N" counts
        self.incomplete = []  # asked but not (validly) answered
        self.to_correct = []  # of those, the ones with a typed answer that is not valid (say, after an earlier change)
        self.data = data
        self.builds = {}  # each step's form, bound as the questionnaire binds it
        # The forms that check the answers (a step with nothing to check yet only when asked for its "required"
        # errors); they are never rendered, so they share their fields: form_to_show gives one to render.
        self.forms = StepForms(lambda slug: self.builds[slug](shared_fields=True))
        for step in STEPS:
            applies = step.applies(self.answers)
            self.builds[step.slug] = functools.partial(step.form_class, data=data, answers=dict(self.answers),
                                                       today=today, partial=applies is not True)
            answered = any(name in data for name in step.form_class.base_fields)
            valid = answered and self.forms[step.slug].is_valid()
            if valid:
                self.answers.update(self.forms[step.slug].cleaned_data)
            if applies:
                self.applicable.append(step)
                if not valid:
                    self.incomplete.append(step)
                    if answered and self.typed_errors(step.slug):
                        self.to_correct.append(step)
            if applies is not False:
                self.expected.append(step)
        self.answers["respondent"] = self.answers.get("respondent") or AboutYouForm.base_fields["respondent"].taken_as

    def form_to_show(self, slug):
        """A step's form bound as in ``forms``, with fields of its own, to render."""
        return self.builds[slug]()

    def typed_errors(self, slug):
        """``{field: messages}`` for what was typed into a step and is not valid. A question not answered yet is left
        out: it asks for an answer only once the person presses Continue."""
        return {name: messages for name, messages in self.forms[slug].errors.items()
                if self.data.get(name) not in (None, "", [])}

    def form_to_correct(self, slug):
        """A step's form to render with the messages of what was typed only (see ``typed_errors``)."""
        form = self.form_to_show(slug)
        for name in set(form.errors) - set(self.typed_errors(slug)):
            del form.errors[name]
        return form

    def problems(self):
        """``(key, message)`` for every invalid answer, in question order."""
        return [(key, str(message)) for step in STEPS for key, messages in self.forms[step.slug].errors.items()
                for message in messages]

    def first_incomplete(self):
        """The first step that is asked and not yet validly answered, or ``None`` when all are."""
        return self.incomplete[0] if self.incomplete else None

    def neighbour(self, step, offset):
        """The asked step ``offset`` places before (−1) or after (+1) ``step``, or ``None``."""
        position = STEPS.index(step)
        others = [s for s in self.applicable if (STEPS.index(s) - position) * offset > 0]
        return (others[-1] if offset < 0 else others[0]) if others else None


STEPS_BY_SLUG = {step.slug: step for step in STEPS}


def as_form_data(raw: dict) -> dict:
    """JSON answers → form data: null is "don't know" (an empty string), booleans are "true"/"false"."""

    def one(value):
        if value is None:
            return DONT_KNOW
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    # an empty list (no medicine, no condition) is the question's own "none" box, ticked
    return {key: [one(v) for v in value] or [NONE_OF_THESE] if isinstance(value, list) else one(value)
            for key, value in raw.items()}


def step_data(step, post) -> dict:
    """The fields of one step as posted. A step sent with Continue counts as answered: an unticked checkbox group
    becomes [] (nothing ticked, which its form asks again), an optional radio left unchosen becomes "no answer"; a
    required radio stays absent.

    Back and "Save and finish later" keep what was typed and answer nothing more: an unticked group stays as it
    was, unless it had an answer before, which the page lists in ``answered_before`` (every box unticked then
    leaves it unanswered, as it looks); an unchosen radio stays as it was."""
    answering = post.get("action") not in ("back", "save")
    answered_before = post.getlist("answered_before")
    data = {}
    for name, field in step.form_class.base_fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            if answering or name in post or name in answered_before:
                data[name] = [storable(value) for value in post.getlist(name)]
        elif name in post:
            data[name] = storable(post.get(name))
        elif not field.required and answering:
            data[name] = DONT_KNOW
    return data


def storable(text):
    """What was typed, kept so that it can be shown again: a NUL (which PostgreSQL cannot store) becomes U+FFFD,
    so the answer stays visibly wrong and gets its message instead of vanishing."""
    return text.replace("\x00", "\ufffd")


def validate_answers(raw: dict, today) -> tuple[dict, list[tuple[str, str]]]:
    """Validate a whole answers object as the web steps would, relative to ``today``.

    Returns the cleaned answers and a list of ``(key, message)`` problems, empty when the answers are valid.
    """
    missing = [key for key in KEYS_ALWAYS_REQUIRED if key not in raw]
    problems = [(key, str(_("not a question of this check"))) for key in raw if key not in ANSWER_KEYS]
    problems += [(key, str(_("this answer is missing (use null for “don't know”, [] for none)"))) for key in missing]
    questionnaire = Questionnaire(as_form_data({key: value for key, value in raw.items() if key in ANSWER_KEYS}), today)
    problems += [(key, message) for key, message in questionnaire.problems() if key not in missing]
    return questionnaire.answers, problems


class NoSuchNumber(ValueError):
    """A number as typed (``text``) that no JSON number is (NaN, Infinity) or no float can hold (1e400)."""

    def __init__(self, text, message):
        super().__init__(message)
        self.text, self.message = text, message


def finite_float(text):
    value = float(text)
    if not math.isfinite(value):  # 1e400 overflows to infinity
        raise NoSuchNumber(text, f"{text} is a number too large to keep")
    return value


def no_constant(text):
    raise NoSuchNumber(text, f"{text} is not a number JSON allows")


def token_at(s, token):
    """Where ``token`` (a number as typed) first stands in the JSON text ``s`` outside a string, else 0."""
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[^\s\[\]{},:"]+', s):
        if match.group() == token:
            return match.start()
    return 0


class StrictJSONDecoder(json.JSONDecoder):
    """JSON as people type it (the admin's JSON fields, the ``screen`` command's answers), read so that what cannot be
    kept or shown again is refused like any typo, as a ``JSONDecodeError``: a number of over 4,300 digits and nesting
    too deep for Python's reader (which raise other errors), a number too large for a float (1e400, which Python reads
    as infinity) and Python's NaN, Infinity and -Infinity (not JSON: none can be written back as JSON), and a lone
    surrogate such as "\\ud800" (valid JSON, but not text: no page can show it)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs, parse_float=finite_float, parse_constant=no_constant)

    def decode(self, s, *args, **kwargs):
        try:
            value = super().decode(s, *args, **kwargs)
        except RecursionError:
            raise json.JSONDecodeError("Nested too deeply", s, 0) from None
        except NoSuchNumber as error:
            raise json.JSONDecodeError(error.message, s, token_at(s, error.text)) from None
        except ValueError as error:
            if isinstance(error, json.JSONDecodeError):
                raise
            raise json.JSONDecodeError("A number with too many digits", s, 0) from None
        try:
            json.dumps(value, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise json.JSONDecodeError("A character that is not text (a lone surrogate)", s, 0) from None
        return value


class TextLimit(MaxLengthValidator):
    """At most ``limit_value`` characters, said in plain words: how many too many, and the limit written as the box's
    hint writes it ("3,000"). Django's own "Ensure this value has at most 3000 characters (it has 3500)." read as a
    programmer's message to someone tired, beside a hint that said "3,000"."""

    def __call__(self, value):
        over = len(value) - self.limit_value  # as the server receives it: a line break counts two, as counter.js
        if over > 0:
            raise forms.ValidationError(
                ngettext("This is %(over)s character too long. Shorten it to %(limit)s characters or fewer.",
                         "This is %(over)s characters too long. Shorten it to %(limit)s characters or fewer.", over)
                % {"over": f"{over:,}", "limit": f"{self.limit_value:,}"}, code="max_length")


# Consent: the wording is versioned; a change of wording needs a new version. Both are stored with the submission.
CONSENT_VERSION = "2026-11-2"
# What the person agrees to: the details as a list above the tick box, whose own label stays short enough to take in
# (one 14-line label was hard to read, with the box lost in its middle); stored with the submission as one text.
CONSENT_POINTS = (
    _("What is shared: the answers you gave, the result, and the name and contact details below if you give them."),
    _("Who sees it: the neurologists who use HSCT Self-Check and the service's administrators. Every access is "
      "recorded."),
    _("How to withdraw: at any time, on the status page with your reference and access code. Your answers and contact "
      "details are then erased."),
)
CONSENT_LABEL = _("I agree to send my answers and my result to the neurologists who use HSCT Self-Check, as set out "
                  "above, so that one of them can review them and send me a message.")
CONSENT_TEXT = format_lazy("{} {} {} {}", *CONSENT_POINTS, CONSENT_LABEL)
# Someone helping a person with MS sends that person's health data: they confirm that the person agrees. The points
# say "the answers about the person with MS", not "the answers you gave ... Your answers": the carer's own, read so.
CARER_CONSENT_VERSION = "2026-12-7-carer"  # each carer version ends "-carer" (carer_consent)
CARER_CONSENT_POINTS = (
    _("What is shared: the answers about the person with MS, the result, and the name and contact details below if "
      "you give them."),
    CONSENT_POINTS[1],
    _("How to withdraw: at any time, on the status page with the reference and access code you will be given. The "
      "answers and contact details are then erased."),
)
CARER_CONSENT_LABEL = _("I confirm that the person with MS agrees to send their answers and result to the neurologists "
                        "who use HSCT Self-Check, as set out above, so that one of them can review them and send a "
                        "message.")
CARER_CONSENT_TEXT = format_lazy("{} {} {} {}", *CARER_CONSENT_POINTS, CARER_CONSENT_LABEL)


def carer_consent(consent_version: str) -> bool:
    """Sent with the carer's wording (this version or a later one: each ends "-carer"): the sender confirmed that the
    person with MS agrees, and the name asked for was that person's. Earlier, a carer agreed for themselves and was
    asked for their own name."""
    return consent_version.endswith("-carer")


class SubmitForm(forms.Form):
    """Consent and optional contact. With ``carer=True`` (the check was filled in for someone else) the person
    sending confirms the person with MS agrees, and the name asked for is theirs."""

    consent = forms.BooleanField(
        label=CONSENT_LABEL,
        error_messages={"required": _("Tick the box to agree, or go back to your result without sending it.")},
    )
    # Validators, not max_length: the browser would cut pasted text short at maxlength without a word.
    contact_name = forms.CharField(label=_("Your name (optional)"), required=False,
                                   validators=[TextLimit(200)],
                                   widget=forms.TextInput(attrs={"autocomplete": "name"}))
    contact_details = forms.CharField(
        label=_("Email or phone number (optional)"), required=False, validators=[TextLimit(300)],
        help_text=_("Only if you would like the neurologist to be able to contact you."),
        widget=forms.TextInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, carer=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent_version, self.consent_points, self.consent_text = (
            (CARER_CONSENT_VERSION, CARER_CONSENT_POINTS, CARER_CONSENT_TEXT) if carer else
            (CONSENT_VERSION, CONSENT_POINTS, CONSENT_TEXT))
        if carer:
            self.fields["consent"].label = CARER_CONSENT_LABEL
            self.fields["consent"].error_messages["required"] = _(
                "Tick the box to confirm, or go back to the result without sending it.")
            self.fields["contact_name"].label = _("Name of the person with MS (optional)")
            self.fields["contact_name"].widget.attrs["autocomplete"] = "off"  # not the helper's own name
            self.fields["contact_details"].help_text = _(
                "Only if you would like the neurologist to be able to contact the person with MS, or you.")


class CodeField(forms.CharField):
    """A code as people type it (case, spaces and dashes forgiven). One that cannot be a code (a missed or doubled
    key, a character codes never use, the other code) is told so here, before any lookup: a slip of the hand costs
    none of the tries that the lookup limit allows."""

    def __init__(self, label, help_text="", *, reference=False, if_reference=""):
        super().__init__(
            label=label, help_text=help_text, max_length=40,
            widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                          "spellcheck": "false"}),
            error_messages={"required": _("Enter the code.")},
        )
        self.reference = reference  # this box takes a reference (R and a code)
        self.if_reference = if_reference  # what to say when a reference is typed in a box for another code

    def validate(self, value):
        super().validate(value)
        body = reference_body(value) if self.reference else normalise_code(value)
        if not self.reference and body.startswith("R") and len(body) == CODE_LENGTH + 1:
            raise forms.ValidationError(self.if_reference)
        unused = sorted(set(body) - set(CODE_ALPHABET))
        if unused:
            raise forms.ValidationError(
                _("Codes use only the letters A to Z (but not I, L, O or U) and the numbers 2 to 9. Check the code: "
                  "this one has %(characters)s.") % {"characters": ", ".join(unused)})
        if len(body) != CODE_LENGTH:
            raise forms.ValidationError(
                (_("After the R, a reference has %(expected)d letters and numbers; this one has %(typed)d. Check "
                   "for a missed or doubled character.") if self.reference else
                 _("A code has %(expected)d letters and numbers; this one has %(typed)d. Check for a missed or "
                   "doubled character.")) % {"expected": CODE_LENGTH, "typed": len(body)})


class StatusLookupForm(forms.Form):
    reference = CodeField(_("Reference code"), _("It starts with R-, for example R-K7M3Q-…"), reference=True)
    access_code = CodeField(_("Private access code"), if_reference=_(
        "This looks like the reference code, which starts with R. Type the private access code here."))

    def __init__(self, data=None, *args, **kwargs):
        """The two codes typed in each other's boxes (both long, both alike) are taken the right way round: refused,
        only the access box was marked, and "correcting" that one alone cost a try of the lookup limit."""
        if data is not None and self.swapped(data.get("reference", ""), data.get("access_code", "")):
            data = data.copy()
            data["reference"], data["access_code"] = data["access_code"], data["reference"]
        super().__init__(data, *args, **kwargs)

    @staticmethod
    def swapped(reference, access_code):
        """A whole reference (its R written) in the access box, and another code alone in the reference box (the
        same one twice is the reference typed in both: the access box says so, at no cost of a try)."""
        body, other = reference_body(access_code), normalise_code(reference)
        return (body != normalise_code(access_code) and len(body) == len(other) == CODE_LENGTH and body != other
                and not reference.lstrip().upper().startswith("R-"))


class ResumeForm(forms.Form):
    resume_code = CodeField(
        _("Resume code"), _("The code you were given when you saved your answers."),
        if_reference=_("This looks like the reference code of a result you sent. To see that result, use the status "
                       "page with both of its codes."))


def limited_text(label, rows, limit, **kwargs):
    """A box for up to ``limit`` characters, checked by a validator, not max_length: the browser would cut pasted
    text short at maxlength without a word. Its hint says the limit; as it is typed, it counts the characters left
    (counter.js, in the words given here)."""
    return forms.CharField(label=label, validators=[TextLimit(limit)],
                           help_text=format_lazy(_("Up to {limit} characters."), limit=f"{limit:,}"),
                           widget=forms.Textarea(attrs={
                               "rows": rows, "data-limit": limit,
                               "data-left": _("{n} characters left"), "data-left-one": _("1 character left"),
                               "data-over": _("{n} characters too many"), "data-over-one": _("1 character too many"),
                           }), **kwargs)


class ReplyForm(forms.Form):
    message = limited_text(_("Your reply to the neurologist"), 6, 3000,
                           error_messages={"required": _("Write your reply before sending it.")})
    answering = forms.CharField(required=False, widget=forms.HiddenInput)  # the message shown: newer ones refuse it
    after = forms.CharField(required=False, widget=forms.HiddenInput)  # the newest reply shown: a double click's mark


class WithdrawForm(forms.Form):
    """With ``carer=True`` (sent by someone helping) the box erases "the answers", not "my answers": the carer's own."""

    confirm = forms.BooleanField(
        label=_("I want to withdraw my submission and erase my answers and contact details."),
        error_messages={"required": _("Tick the box to confirm that you want to withdraw.")},
    )

    def __init__(self, *args, carer=False, **kwargs):
        super().__init__(*args, **kwargs)
        if carer:
            self.fields["confirm"].label = _("I want to withdraw this submission and erase the answers and contact "
                                             "details.")
