"""The stored things: criteria sets and their criteria, teaching notes, and scored screenings."""

import hashlib
import re
import secrets
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from functools import reduce
from operator import or_

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Replace
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords as SimpleHistoricalRecords

from . import rules
from .facts import FACTS

FACT_CHOICES = [(name, name) for name in FACTS]
OPERATOR_CHOICES = [(code, f"{code} ({words})") for code, words in rules.OPERATORS.items()]
VERDICT_CHOICES = [(rules.LIKELY, _("Likely")), (rules.POSSIBLE, _("Possible")), (rules.UNLIKELY, _("Unlikely"))]


class HistoricalRecords(SimpleHistoricalRecords):
    """django-simple-history's records, with no change reason where none was given (an admin's Save) rather than
    none at all: its history page prints a missing reason as the word "None", as if someone had written it."""

    def get_change_reason_for_object(self, instance, history_type, using):
        return super().get_change_reason_for_object(instance, history_type, using) or ""


class User(AbstractUser):
    """A person who signs in: a neurologist or an admin. Patients have no account."""

    def __str__(self):  # "Dr Ana Silva" in the queue and the histories, where a name is given
        return self.get_full_name() or self.username


class CriteriaSetManager(models.Manager):
    def get_by_natural_key(self, code):
        return self.get(code=code)

    def current_versions(self) -> dict:
        """{code: version} of the sets scored today (one query): what a stored result is compared with."""
        return dict(self.filter(active=True).values_list("code", "version"))


class CriteriaSet(models.Model):
    """A named, sourced group of criteria: the article's profile, a guideline, or a trial's entry window."""

    code = models.SlugField(unique=True, help_text=_("A stable short name, e.g. “ebmt-2020”."))
    name = models.CharField(max_length=120, help_text=_("Shown to patients, e.g. “EBMT guideline (2020)”."))
    citation = models.CharField(
        max_length=400, help_text=_("The source, e.g. “Sharrack B, et al. Bone Marrow Transplant 2020;55:283”.")
    )
    description = models.TextField(blank=True, help_text=_("Plain language: what this set is and whom it is for."))
    # Short: they are the list's column and filter. What each means for patients is the field's help.
    KIND_CHOICES = [("profile", _("Profile")), ("guideline", _("Guideline")), ("trial", _("Trial entry rules"))]
    kind = models.CharField(max_length=10, choices=KIND_CHOICES, default="guideline",
                            help_text=_("How patients read the result. A profile: the usual candidate for HSCT (e.g. "
                                        "the article's). A trial's entry rules: patients read whether their answers "
                                        "fit the people it took; falling outside them is not a verdict on HSCT."))
    active = models.BooleanField(default=True, help_text=_("Inactive sets are not scored or shown."))
    is_primary = models.BooleanField(
        default=False, help_text=_("The patient's headline result. Exactly one active set is primary.")
    )
    order = models.PositiveIntegerField(default=0, help_text=_("Position beside the other sets."))
    version = models.PositiveIntegerField(default=1, editable=False, help_text=_("Goes up on every criteria change."))
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = CriteriaSetManager()

    class Meta:
        ordering = ["-is_primary", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["is_primary"], condition=Q(is_primary=True), name="one_primary_set"),
            models.CheckConstraint(condition=Q(is_primary=False) | Q(active=True), name="primary_set_is_active"),
        ]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)

    def clean(self):
        if self.is_primary and not self.active:
            raise ValidationError({"active": _("The primary set must stay active. Make another set primary first.")})

    def bump_version(self):
        """One more version, saved through the model so that the set's history shows it (who and when); inside
        :func:`one_version_per_set`, once at its end."""
        pending = _PENDING_BUMPS.get()
        if pending is not None:
            pending.add(self.pk)
            return
        with transaction.atomic():
            fresh = CriteriaSet.objects.select_for_update().get(pk=self.pk)
            fresh.version += 1
            fresh.save(update_fields=["version", "updated_at"])
        self.version = fresh.version


def saved_fields(obj):
    """The names of the fields a save writes as ``obj`` holds them: not the times a save sets by itself."""
    return [field.attname for field in obj._meta.concrete_fields
            if not getattr(field, "auto_now", False) and not getattr(field, "auto_now_add", False)]


_PENDING_BUMPS = ContextVar("pending_bumps", default=None)  # the sets whose version goes up when the block ends


@contextmanager
def one_version_per_set():
    """Criteria saved and deleted in this block move each of their sets' versions once, at its end, in the same
    transaction: one admin Save is one version, however many criteria it changes. Gives the set of the sets' ids
    whose version is to go up: one taken out of it inside the block is left to the caller."""
    pending = set()
    token = _PENDING_BUMPS.set(pending)
    with transaction.atomic():
        try:
            yield pending
        finally:
            _PENDING_BUMPS.reset(token)
        for pk in sorted(pending):  # several sets are locked in id order, as making a set primary locks them
            CriteriaSet(pk=pk).bump_version()


class CriterionManager(models.Manager):
    def get_by_natural_key(self, set_code, code):
        return self.get(criteria_set__code=set_code, code=code)

    def for_scoring(self):
        """Active criteria in the order they are scored and shown."""
        return self.filter(active=True).order_by("order", "code")


class ConditionFields:
    """Validation shared by a criterion and a note's condition: the fact exists, the operator suits it,
    the value parses for it. The rule itself lives in :func:`rules.check_condition`."""

    def check_condition(self, fact, operator, value, prefix=""):
        missing = {"fact": _("Choose a fact"), "operator": _("Choose an operator"), "value": _("Enter a value")}
        for name, given in (("fact", fact), ("operator", operator), ("value", value)):
            if given in ("", None):  # a condition half written: say what is missing, not "no fact called ''"
                message = _("%(what)s, or clear the whole condition.") if prefix else "%(what)s."
                raise ValidationError({prefix + name: message % {"what": missing[name]}})
        try:
            rules.check_condition(fact, operator, value)
        except rules.RuleError as error:
            raise ValidationError({prefix + error.field: error.message}) from None


class Criterion(ConditionFields, models.Model):
    """One test in a criteria set: ``fact operator value``, favourable or unfavourable for HSCT."""

    KIND_CHOICES = [(rules.INCLUSION, _("inclusion: favourable when it holds")),
                    (rules.EXCLUSION, _("exclusion: unfavourable when it holds"))]
    SEVERITY_CHOICES = [(rules.UNLIKELY, _("unlikely: an unfavourable outcome makes HSCT unlikely")),
                        (rules.POSSIBLE, _("possible: an unfavourable outcome needs a closer look"))]

    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="criteria")
    code = models.SlugField(help_text=_("Stable, unique in its set, e.g. “edss_below_6”."))
    label = models.CharField(max_length=200, help_text=_("Plain language for patients, e.g. “EDSS below 6.0”."))
    fact = models.CharField(max_length=40, choices=FACT_CHOICES, help_text=_("What the criterion tests, e.g. edss."))
    operator = models.CharField(max_length=10, choices=OPERATOR_CHOICES)
    value = models.JSONField(
        help_text=_('JSON: a number (6.0), a range for between ([2, 6]), a choice ("rrms"), true/false, '
                    'or a list for in / not_in (["breakthrough", "breakthrough_high_efficacy"]).')
    )
    kind = models.CharField(max_length=10, choices=KIND_CHOICES, default=rules.INCLUSION)
    severity = models.CharField(max_length=10, choices=SEVERITY_CHOICES, default=rules.POSSIBLE)
    explanation = models.TextField(help_text=_("Plain language: why this matters for HSCT."))
    source = models.CharField(max_length=400, help_text=_("Citation for this threshold, e.g. “Muraro 2025”."))
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    objects = CriterionManager()

    class Meta:
        ordering = ["criteria_set", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["criteria_set", "code"], name="criterion_code_unique_in_set")]
        verbose_name_plural = "criteria"

    def __str__(self):
        return f"{self.criteria_set.code}: {self.label}"

    def natural_key(self):
        return (self.criteria_set.code, self.code)

    natural_key.dependencies = ["screening.criteriaset"]

    def clean(self):
        self.check_condition(self.fact, self.operator, self.value)

    # What a result shows of a criterion: a change to any of them is a new version of its set.
    SCORED_FIELDS = ("criteria_set_id", "code", "label", "fact", "operator", "value", "kind", "severity",
                     "explanation", "source", "order", "active")

    def save(self, *args, **kwargs):
        """Saved; its set's version goes up only if something a result shows changed (a Save with no change would
        tell neurologists that the criteria had changed since every result). Moved to another set: both go up."""
        before = Criterion.objects.filter(pk=self.pk).values(*self.SCORED_FIELDS).first() if self.pk else None
        super().save(*args, **kwargs)
        if before is None or any(before[name] != getattr(self, name) for name in self.SCORED_FIELDS):
            self.criteria_set.bump_version()
        if before and before["criteria_set_id"] != self.criteria_set_id:
            CriteriaSet.objects.get(pk=before["criteria_set_id"]).bump_version()

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            # Its set locked first, as saving it locks them (the set, then the criterion): deleted while someone saves
            # it, the two take turns instead of each waiting for the other (a deadlock, and a 500, on PostgreSQL).
            CriteriaSet.objects.select_for_update().filter(pk=self.criteria_set_id).exists()
            result = super().delete(*args, **kwargs)
            self.criteria_set.bump_version()
        return result

    def to_rule(self):
        return rules.Rule(
            code=self.code, label=self.label, fact=self.fact, operator=self.operator, value=self.value,
            kind=self.kind, severity=self.severity, explanation=self.explanation, source=self.source,
        )


class NoteManager(models.Manager):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class Note(ConditionFields, models.Model):
    """A piece of teaching on the result page (a risk, an expectation, a question to ask), shown to everyone or
    only when its condition holds and the headline verdict is one of its verdicts."""

    KIND_CHOICES = [(kind, _(kind)) for kind in ("risk", "expectation", "cost", "availability", "question", "general")]

    code = models.SlugField(unique=True, help_text=_("Stable short name, e.g. “mortality-risk”."))
    kind = models.CharField(max_length=15, choices=KIND_CHOICES)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text=_("Plain language, about a reading age of 12. A blank line starts a new "
                                       "paragraph: keep each to 2 or 3 sentences."))
    source = models.CharField(max_length=600, help_text=_("Citations, e.g. “Sormani 2017; Burt 2021”."))
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    condition_fact = models.CharField(max_length=40, choices=FACT_CHOICES, blank=True,
                                      help_text=_("Optional: show only when this fact… e.g. pregnancy"))
    condition_operator = models.CharField(max_length=10, choices=OPERATOR_CHOICES, blank=True)
    condition_value = models.JSONField(null=True, blank=True, help_text=_('e.g. "no" (with ne)'))
    verdicts = models.JSONField(default=list, blank=True,
                                help_text=_('Optional: show only for these headline verdicts, e.g. ["unlikely"].'))
    history = HistoricalRecords()

    objects = NoteManager()

    class Meta:
        ordering = ["kind", "order", "code"]

    def __str__(self):
        return self.title

    def natural_key(self):
        return (self.code,)

    def clean(self):
        if self.condition_fact or self.condition_operator or self.condition_value is not None:
            self.check_condition(self.condition_fact, self.condition_operator, self.condition_value, "condition_")
        if self.verdicts is None:  # the optional box left empty: every verdict
            self.verdicts = []
        if not isinstance(self.verdicts, list) or any(v not in rules.VERDICTS for v in self.verdicts):
            raise ValidationError({"verdicts": _("Use a list of verdicts: likely, possible, unlikely.")})

    @property
    def shown_open(self) -> bool:
        """Open on the result page: a note shown because of an answer or only beside some verdicts, and every risk;
        a general one (what HSCT involves, costs…) is a title that opens, so the page stays short."""
        return bool(self.condition_fact or self.verdicts) or self.kind == "risk"

    def to_rule(self):
        condition = None
        if self.condition_fact:
            condition = rules.Condition(self.condition_fact, self.condition_operator, self.condition_value)
        return rules.NoteRule(condition=condition, verdicts=tuple(self.verdicts))


class ReferenceCaseManager(models.Manager):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class ReferenceCase(models.Model):
    """A named answer set with the verdict each criteria set is expected to give: the admin's test case for edits."""

    code = models.SlugField(unique=True, help_text=_("Stable short name, e.g. “active-rrms-failed-natalizumab”."))
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text=_("Who this person is, in a sentence."))
    answers = models.JSONField(help_text=_("The answers as the screen command takes them (PRODUCT.md §2)."))
    scored_on = models.DateField(help_text=_("The day to score on, so that durations do not drift over time."))
    expected = models.JSONField(default=dict, help_text=_('Expected verdict per set code, e.g. {"article": "likely"}.'))
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    objects = ReferenceCaseManager()

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)

    def clean(self):
        """The verdicts here; the answers are checked by the questionnaire's forms (admin.ReferenceCaseForm)."""
        if not isinstance(self.expected, dict) or any(v not in rules.VERDICTS for v in self.expected.values()):
            raise ValidationError({"expected": _('Use {"set code": "likely" | "possible" | "unlikely", …}.')})


CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # what codes are typed with: no 0/O, 1/I/L, U
# New codes also leave out the digits that look like letters (2/Z, 5/S, 6/G, 8/B): read with blurred vision or from a
# smudged printout, either one typed finds the code. Codes given before may hold those digits, and work as typed.
NEW_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ3479"
LOOK_ALIKES = str.maketrans("2568", "ZSGB")
CODE_LENGTH = 20  # the characters of a code people type (resume, access, and a reference after its R)


def new_code(groups=4, size=5):
    """A random code of ``groups × size`` characters (≈94 bits for 4×5), grouped for reading: ``K7M3Q-…``."""
    return "-".join("".join(secrets.choice(NEW_CODE_ALPHABET) for _ in range(size)) for _ in range(groups))


def code_spellings(typed: str) -> list[str]:
    """What a typed code may stand for: itself, and itself with look-alike digits read as the letters new codes use."""
    code = normalise_code(typed)
    return list(dict.fromkeys([code, code.translate(LOOK_ALIKES)]))


def with_reference_typed(queryset, typed: str, field: str = "reference"):
    """The rows whose reference (``field``) holds a typed code, as people type codes: any case, dashes anywhere or
    none, and look-alike digits read as the letters new codes use (as the patients' lookups do)."""
    return queryset.alias(typed_reference=Replace(field, Value("-"), Value(""))).filter(
        reduce(or_, (Q(typed_reference__contains=spelling) for spelling in code_spellings(typed))))


def whole_number(text) -> int | None:
    """A whole number as a URL or a form gives it (a row id, a count), or ``None`` when it cannot be one: "²" and
    "٣" pass ``isdigit()``, and 4,301 digits or 2**63 are numbers no database row has (each was a 500)."""
    text = str(text)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def normalise_code(typed: str) -> str:
    """A code as typed, forgiving case, spaces, dashes and full-width characters: "k7m2q k7m2q" → "K7M2QK7M2Q"."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", typed).upper() if ch.isalnum())


def hash_code(code: str) -> str:
    """The stored form of a code: codes are long random strings, so a plain SHA-256 is enough."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def reference_body(typed: str) -> str:
    """A reference's characters after its R, which is optional to type: the R is taken off when a dash or a space
    follows it, or when there is one character more than a code has."""
    text = unicodedata.normalize("NFKC", typed)  # a full-width "Ｒ－" is an R and a dash too
    body = normalise_code(text)
    written = re.match(r"\s*r[\s-]", text, re.IGNORECASE)
    return body[1:] if body.startswith("R") and (written or len(body) == CODE_LENGTH + 1) else body


def reference_from_typed(typed: str, size=5) -> str:
    """A reference as typed → its printed form, "R-" and four groups of five."""
    body = reference_body(typed)
    return "-".join(["R"] + [body[i:i + size] for i in range(0, len(body), size)])


class Draft(models.Model):
    """A questionnaire in progress: the form data typed so far, reached through a token in its own cookie,
    or through a resume code the person printed. Purged after ``DRAFT_RETENTION_DAYS``."""

    token_hash = models.CharField(max_length=64, unique=True)
    resume_code_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    data = models.JSONField(default=dict, help_text=_("Form data as posted, field by field, valid or not."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self):
        return f"Draft {self.pk}"


class CriteriaEdition(models.Model):
    """The teaching text (explanation and source) of one set's criteria as they were when something was scored.

    Content-addressed: the key is a hash of the text, so it is stored once however many screenings use it, and a
    screening's snapshot refers to it by key. Rows are never changed.
    """

    key = models.CharField(max_length=64, primary_key=True)
    texts = models.JSONField(help_text=_('{criterion code: {"explanation": …, "source": …}}'))
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.key[:12]


class Decision(models.TextChoices):
    """A neurologist's decision on a submission (Review.Decision)."""

    REFER = "refer", _("Refer for transplant assessment")
    MORE_INFO = "more_info", _("More information needed")
    NOT_SUITABLE = "not_suitable", _("Not suitable now")


class Status(models.TextChoices):
    """Where a screening is (Screening.Status): the one place its stored values and their labels are written."""

    SCORED = "scored", _("Result shown, not submitted")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    REVIEWED = "reviewed", _("Reviewed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Sent for review, whatever became of it since: what the review queue lists and counts, and its index holds.
SENT = [status for status in Status if status != Status.SCORED]
# Waiting for a neurologist (no decision yet, or the patient replied to one): the review queue's default view
WAITING = [Status.SUBMITTED, Status.IN_REVIEW]


def filled_in_by_carer(facts: dict | None) -> bool:
    """A screening's facts say it was filled in by someone helping the person with MS (answer ``respondent``
    "carer"). Read from the facts, which the queue and the export load for the red flags anyway; a withdrawn
    screening's are erased, so it no longer says. The rule behind ``Screening.by_carer``, for rows read as values,
    and for answers still being given (their ``respondent`` is the same key)."""
    return (facts or {}).get("respondent") == "carer"


def scored_under_older_criteria(scored_set: str | None, scored_version: int | None, current_versions: dict) -> bool:
    """The set that was primary when a screening was scored (``scored_set`` at ``scored_version``, none once
    withdrawn) has a new version since (a criterion edited, added or removed), or is no longer scored.
    ``current_versions``: {code: version} of the active sets (``CriteriaSet.objects.current_versions``), read once for
    a whole page or file. The rule behind ``Screening.scored_under_older_criteria``, for rows read as values."""
    return scored_version is not None and current_versions.get(scored_set) != scored_version


class Screening(models.Model):
    """One person's answers scored against every active criteria set, kept as an immutable snapshot."""

    Status = Status

    answers = models.JSONField()
    facts = models.JSONField()
    snapshot = models.JSONField(help_text=_("Per set: the criteria as they were, each outcome, verdict, version."))
    scored_on = models.DateField(help_text=_("The ‘today’ the facts were derived for."))
    primary_verdict = models.CharField(max_length=10, choices=VERDICT_CHOICES, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCORED)
    reference = models.CharField(max_length=30, unique=True, null=True, blank=True,
                                 help_text=_("Given on submission; quoted by the patient and searched by reviewers."))
    access_code_hash = models.CharField(max_length=64, blank=True)
    consent_version = models.CharField(max_length=20, blank=True)
    consent_text = models.TextField(blank=True, help_text=_("The consent wording exactly as the patient saw it."))
    contact_name = models.CharField(max_length=200, blank=True)
    contact_details = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    revision = models.PositiveIntegerField(default=0, help_text=_("Goes up on every review decision and patient "
                                                                  "reply (concurrency)."))
    # Who took it from "submitted" to "in review", so that colleagues working the queue can see who is on it.
    opened_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(null=True, blank=True)
    # Copied from the newest review and re-score when they are saved (services.review_decide, rescore_save), so that
    # the queue filters and shows them from this row alone: a subquery per screening made a filter over 100,000
    # submissions take a quarter of a second. Empty (NULL): none yet. A withdrawal erases the re-scores, and so the
    # re-scored verdict; the decisions' bare outcomes stay.
    last_decision = models.CharField(max_length=20, choices=Decision.choices, null=True, blank=True)
    rescored_verdict = models.CharField(max_length=10, choices=VERDICT_CHOICES, null=True, blank=True,
                                        help_text=_("The latest re-score's verdict, under the set that "
                                                    "was primary when the screening was scored."))
    # The set that was primary when it was scored and that set's version then, copied from the snapshot's headline
    # when it is made (services.screening_create): the queue marks the submissions scored under criteria changed
    # since from these, not by reading each row's snapshot. Erased with the snapshot on withdrawal. NULL, not "", when
    # there is none: a column that may not be NULL is added on SQLite by rebuilding the table, which drops the status
    # counts' triggers (0004).
    scored_primary_set = models.CharField(max_length=50, null=True, blank=True,
                                          help_text=_("The primary set's code when it was scored, e.g. “article”."))
    scored_primary_version = models.PositiveIntegerField(null=True, blank=True,
                                                         help_text=_("That set's version when it was scored."))
    # The answers in progress it was scored from: deleted when it is sent (the answers then live only here, and a
    # withdrawal erases them), whichever browser holds them and whether or not a resume code opens them. Only the id
    # is kept, without a constraint: a draft is deleted in one statement (purged by the thousand), and the id of one
    # deleted is never given again, so it just finds no draft.
    draft = models.ForeignKey(Draft, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
                              related_name="+")

    class Meta:
        ordering = ["created_at"]
        permissions = [("review_screening", "Can review submitted screenings")]
        indexes = [
            models.Index(fields=["status", "created_at"], name="screening_status_created"),
            models.Index(fields=["status", "submitted_at"], name="screening_status_submitted"),
            # The review queue's default view, in its order: pages are read from this index alone.
            models.Index(fields=["submitted_at", "id"], condition=Q(status__in=WAITING),
                         name="screening_queue_waiting"),
            # Every submission in the queue's order, with what its status, verdict, decision and date filters read:
            # a page or count so filtered is read from this index alone (PostgreSQL's index-only scan), not from the
            # rows and their answers.
            models.Index(fields=["submitted_at", "id", "status", "primary_verdict", "rescored_verdict",
                                 "last_decision"],
                         condition=Q(status__in=SENT),
                         name="screening_queue_filters"),
        ]

    def __str__(self):
        return self.reference or f"Screening {self.pk}"

    @property
    def reviewer(self):
        """Who is reviewing it: whoever opened it, while it is in review (not once decided on, nor put back)."""
        return self.opened_by if self.status == Status.IN_REVIEW else None

    @property
    def by_carer(self) -> bool:
        """Filled in by someone helping the person with MS (answer ``respondent`` "carer"): the answers describe
        that person, and whoever sent it and was given its codes is the carer (:func:`filled_in_by_carer`)."""
        return filled_in_by_carer(self.facts)

    @property
    def asks_for_reply(self) -> bool:
        """The latest decision asks the patient for more information, and they have not replied to it yet."""
        return self.status == Status.REVIEWED and self.last_decision == Decision.MORE_INFO

    @property
    def replied(self) -> bool:
        """Waiting again with the patient's reply: only a reply to "more information needed" brings a decided
        submission back to the queue (services.screening_reply); put back after being opened, it stays replied."""
        return self.last_decision is not None and self.status in WAITING

    @property
    def takes_reply(self) -> bool:
        """The patient can write to the neurologist: asked for more information, or replied and not yet answered (an
        addition: something remembered after sending)."""
        return self.asks_for_reply or self.replied

    def scored_under_older_criteria(self, current_versions: dict) -> bool:
        """The set that was primary when it was scored has changed since (a new version: a criterion edited, added
        or removed), or is no longer scored (:func:`scored_under_older_criteria`)."""
        return scored_under_older_criteria(self.scored_primary_set, self.scored_primary_version, current_versions)

    def access_code_matches(self, code: str) -> bool:
        return bool(self.access_code_hash) and any(secrets.compare_digest(self.access_code_hash, hash_code(spelling))
                                                   for spelling in code_spellings(code))


class StatusCount(models.Model):
    """How many screenings have each status but ‘scored’ (results nobody sent), kept by triggers in the database
    (migration 0004) on every insert, change of status and delete, however it is made: the review queue reads these
    few rows instead of counting every submission on every page."""

    status = models.CharField(max_length=12, primary_key=True, choices=Screening.Status.choices)
    screenings = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.status}: {self.screenings}"


class QueueCount(models.Model):
    """How many screenings sent for review (any status but ‘scored’) have each status, verdict, re-scored verdict and
    last decision, kept by triggers in the database (migration 0018) as ``StatusCount`` is: the review queue filtered
    by verdict or decision adds up a few of these rows instead of counting every matching submission (half of
    100,000 read on every view). None yet (NULL) is kept as "": a unique key must be equal to itself on both
    databases."""

    status = models.CharField(max_length=12, choices=Screening.Status.choices)
    primary_verdict = models.CharField(max_length=10, blank=True)
    rescored_verdict = models.CharField(max_length=10, blank=True)
    last_decision = models.CharField(max_length=20, blank=True)
    screenings = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["status", "primary_verdict", "rescored_verdict", "last_decision"], name="queue_count_key")]

    def __str__(self):
        key = (self.status, self.primary_verdict, self.rescored_verdict, self.last_decision)
        return f"{', '.join(key)}: {self.screenings}"


class Review(models.Model):
    """One neurologist decision on a screening. Decisions are never edited: each new one is a new row."""

    Decision = Decision

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="reviews")
    neurologist = models.ForeignKey(User, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    message = models.TextField(help_text=_("Released to the patient on their status page."))
    internal_note = models.TextField(blank=True, help_text=_("Seen only by reviewers."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["screening", "-created_at"], name="review_screening_created")]

    def __str__(self):
        return f"{self.get_decision_display()} ({self.created_at:%Y-%m-%d})"


class Reply(models.Model):
    """The patient's written answer, from their status page, to a neurologist's "more information needed"."""

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="replies")
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "replies"

    def __str__(self):
        return f"Reply ({self.created_at:%Y-%m-%d})"


class Rescore(models.Model):
    """A neurologist's saved re-scoring of a screening against criteria changed since it was scored.
    The screening's own snapshot is never changed."""

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="rescores")
    snapshot = models.JSONField()
    # the verdict under the set beside the screening's own verdict (services.compared_result)
    primary_verdict = models.CharField(max_length=10, choices=VERDICT_CHOICES)
    scored_on = models.DateField()
    created_by = models.ForeignKey(User, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]  # the latest first, as the detail and re-score pages read it

    def __str__(self):
        return f"Re-score of {self.screening} ({self.primary_verdict})"


class AuditEvent(models.Model):
    """One access to or change of a screening, append-only: who, what, which screening, when, from where.

    A withdrawn screening keeps its audit entries, which name it only by its row id. The database refuses to change
    or delete an entry too (migration 0011), whatever the code that tries."""

    ACTIONS = ["submitted", "access_code_reissued", "status_viewed", "status_lookup_failed", "resume_failed",
               "withdrawn", "replied", "queue_viewed", "detail_viewed", "released", "decision_saved", "decision_conflict",
               "rescore_saved", "exported", "login", "login_failed", "logout", "access_denied", "primary_set_changed",
               "criteria_changed", "access_changed"]

    action = models.CharField(max_length=40, choices=[(a, a) for a in ACTIONS], db_index=True)
    screening = models.ForeignKey(Screening, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT,
                              help_text=_("Accounts with audit entries cannot be deleted: deactivate them instead."))
    # the client's address; a failed code lookup's from IPv6 is its /64, "2001:db8:1:2::/64" (services.audit)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["ip_address", "action", "created_at"], name="audit_ip_action_created")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")
