"""Scoring and the few writes that touch several models.

``evaluate`` scores answers against the criteria in the database without writing anything (the ``screen``
command and previews use it); ``screening_create`` stores the result as an immutable snapshot. Then the patient's
drafts, submission and withdrawal; the reviewer's decisions and re-scores; reference cases and the primary set.
Views, the admin and commands call these; these call models, rules and facts.
"""

import hashlib
import ipaddress
import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from . import rules
from .facts import derive_facts
from .models import (AuditEvent, CriteriaEdition, CriteriaSet, Criterion, Draft, Note, ReferenceCase, Reply,
                     Rescore, Review, Screening, code_spellings, hash_code, new_code, reference_body,
                     reference_from_typed)


class NoPrimarySet(Exception):
    """There is no active primary criteria set, so there is no headline result to give."""


@dataclass(frozen=True)
class Evaluation:
    """Answers scored on one day against a list of criteria sets: the facts, one result per set, the notes."""

    today: date
    answers: dict
    facts: dict
    results: list  # snapshot entries, one per set, headline first
    editions: dict  # {edition key: texts} for the results' "edition" keys

    @property
    def headline(self):
        return self.results[0]

    @cached_property
    def notes(self) -> list[Note]:
        """The notes that match the headline verdict and the facts (one query, the first time they are asked for)."""
        return notes_for(self.facts, self.headline["verdict"])


def notes_for(facts: dict, verdict: str) -> list[Note]:
    """The active notes whose condition and verdicts match (one query): the result page and ``screen`` alike."""
    return [note for note in Note.objects.filter(active=True).order_by("kind", "order", "code")
            if note.to_rule().shows(facts, verdict)]


def edition_of(set_rules: list[rules.Rule]) -> tuple[str, dict]:
    """The teaching text of a set's criteria and its content key."""
    texts = {rule.code: {"explanation": rule.explanation, "source": rule.source} for rule in set_rules}
    key = hashlib.sha256(json.dumps(texts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return key, texts


def snapshot_entry(criteria_set: CriteriaSet, result: rules.SetResult, edition: str) -> dict:
    """The immutable record of one set's evaluation: the criteria as they were, each outcome, the verdict, and the
    key of the criteria's teaching text (stored once in :class:`CriteriaEdition`)."""
    return {
        "set": criteria_set.code,
        "name": criteria_set.name,
        "kind": criteria_set.kind,
        "citation": criteria_set.citation,
        "description": criteria_set.description,  # what the set is, in plain words ("which article?")
        "primary": criteria_set.is_primary,
        "version": criteria_set.version,
        "verdict": result.verdict,
        "edition": edition,
        "criteria": [
            {"code": rule.code, "label": rule.label, "fact": rule.fact, "operator": rule.operator,
             "value": rule.value, "kind": rule.kind, "severity": rule.severity, "outcome": outcome}
            for rule, outcome in result.outcomes
        ],
    }


def json_facts(facts: dict) -> dict:
    return {name: list(value) if isinstance(value, tuple) else value for name, value in facts.items()}


_RULES = {}  # {(set id, version, updated at): ([rules.Rule], (edition key, texts))} for this process


def scoring_sets() -> list[CriteriaSet]:
    """Active sets, primary first, each with ``scoring_rules`` and the ``edition`` (key, texts) of their teaching
    text. Every change to a set's criteria bumps the set's version, so criteria are read only for a set version this
    process has not scored with yet: one query for the sets, and one more for the criteria of those that changed."""
    sets = list(CriteriaSet.objects.filter(active=True))
    keys = {s.pk: (s.pk, s.version, s.updated_at) for s in sets}
    changed = {pk: [] for pk, key in keys.items() if key not in _RULES}
    if changed:
        if len(_RULES) > 1000:  # old versions are never asked for again
            _RULES.clear()
        for criterion in Criterion.objects.for_scoring().filter(criteria_set__in=changed):
            changed[criterion.criteria_set_id].append(criterion.to_rule())
        _RULES.update((keys[pk], (set_rules, edition_of(set_rules))) for pk, set_rules in changed.items())
    for criteria_set in sets:
        criteria_set.scoring_rules, criteria_set.edition = _RULES[keys[criteria_set.pk]]
    return sets


def evaluate(answers: dict, today: date, set_codes=None) -> Evaluation:
    """Score validated answers against active sets (all of them, or those in ``set_codes``, in that order).

    One query (two when a set's criteria changed) whatever the number of sets and criteria, and one more for the
    notes if they are asked for. Raises ``CriteriaSet.DoesNotExist`` for an unknown code and :class:`NoPrimarySet`
    when no set is requested and none is primary.
    """
    facts = derive_facts(answers, today)
    sets = scoring_sets()
    if set_codes:
        by_code = {s.code: s for s in sets}
        missing = [code for code in set_codes if code not in by_code]
        if missing:
            raise CriteriaSet.DoesNotExist(", ".join(missing))
        sets = [by_code[code] for code in set_codes]
    elif not sets or not sets[0].is_primary:
        raise NoPrimarySet()
    results = [snapshot_entry(s, rules.score(s.scoring_rules, facts), s.edition[0]) for s in sets]
    return Evaluation(today=today, answers=answers, facts=json_facts(facts), results=results,
                      editions=dict(s.edition for s in sets))


# {edition key: texts} known to be stored. Editions are content-addressed and never change or go away, so this
# process can keep every one it has read or seen committed.
_EDITIONS = {}


def remember_editions(editions: dict) -> None:
    if len(_EDITIONS) > 10_000:  # old editions are seldom asked for again
        _EDITIONS.clear()
    _EDITIONS.update(editions)


def store_editions(evaluation: Evaluation) -> None:
    """Keep the teaching text the results refer to: one query, none when this process knows they are stored."""
    new = {key: texts for key, texts in evaluation.editions.items() if key not in _EDITIONS}
    if new:
        CriteriaEdition.objects.bulk_create([CriteriaEdition(key=key, texts=texts) for key, texts in new.items()],
                                            ignore_conflicts=True)
        transaction.on_commit(lambda: remember_editions(new))


def editions_for(snapshot: list) -> dict:
    """{edition key: texts} for a stored snapshot: one query, none when this process has read them before."""
    keys = {entry["edition"] for entry in snapshot}
    missing = [key for key in keys if key not in _EDITIONS]
    if missing:
        remember_editions({key: edition.texts for key, edition in CriteriaEdition.objects.in_bulk(missing).items()})
    return {key: _EDITIONS[key] for key in keys if key in _EDITIONS}


@contextmanager
def unsent_work():
    """A transaction for what a patient has sent nobody yet (a step's answers, a new draft, a result not sent): on
    PostgreSQL, for this transaction alone, its commit does not wait for the disk (``synchronous_commit`` off).

    Why: the wait was about 1 ms of a step's 2, and under load it made one post in a hundred take 80 ms
    (docs/benchmarks.md). The risk, and only if the database server crashes or loses power: the last fraction of a
    second of such commits (3 × ``wal_writer_delay``, 0.6 s by default) is lost whole, never half-written. A restart
    of the app or of PostgreSQL loses nothing: a clean shutdown writes everything. The patient answers that step
    again, or scores again from the draft. Submissions, withdrawals, reviews, the audit log, the teaching texts that
    results refer to, and the admin's edits wait for the disk as before, as does anything done inside a transaction
    that is already open (the setting would reach its other writes)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def screening_create(*, answers: dict, today: date, draft: Draft | None = None) -> Screening:
    """Score validated answers (from ``draft``, on the web) against every active set and store the immutable
    snapshot."""
    evaluation = evaluate(answers, today)
    store_editions(evaluation)  # shared with the results to come, sent or not: its commit waits for the disk
    with unsent_work():
        return Screening.objects.create(
            answers=answers, facts=evaluation.facts, snapshot=evaluation.results, scored_on=today,
            primary_verdict=evaluation.headline["verdict"], draft=draft,
            scored_primary_set=evaluation.headline["set"], scored_primary_version=evaluation.headline["version"],
        )


def draft_create() -> tuple[Draft, str]:
    """A new empty draft and the token (kept only in the person's draft cookie) that reaches it."""
    token = new_code(groups=6)
    with unsent_work():
        return Draft.objects.create(token_hash=hash_code(token)), token


# The draft behind a token is read, and a step's answers merged into it by the database (top-level keys: the step's
# replace what was there), with hand-written SQL: these run on every step page, and building the query through
# the ORM costs twice what PostgreSQL takes to answer it. Both return the draft's id and form data.
_READ_DRAFT = f"SELECT id, data FROM {Draft._meta.db_table} WHERE token_hash = %s"
_MERGE_STEP = {
    vendor: f"UPDATE {Draft._meta.db_table} SET data = {merged}, updated_at = %s WHERE token_hash = %s "
            "RETURNING id, data"
    for vendor, merged in (("postgresql", "data || %s::jsonb"), ("sqlite", "json_patch(data, %s)"))
}


def _draft_row(sql: str, params: list) -> Draft | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    data = Draft._meta.get_field("data").from_db_value(row[1], None, connection)
    return Draft.from_db(connection.alias, ["id", "data"], [row[0], data])


def draft_for_token(token) -> Draft | None:
    """The draft (its id and form data; other fields read if asked for) a token opens, or ``None``."""
    return _draft_row(_READ_DRAFT, [hash_code(token)]) if token else None


def draft_discard(token) -> None:
    """Delete the draft behind a token that this browser leaves behind (starting again, or resuming others), unless
    a resume code can still open it: it would otherwise be kept, unreachable, until purged."""
    if token:
        Draft.objects.filter(token_hash=hash_code(token), resume_code_hash=None).delete()


def draft_save_step(token, step_data: dict) -> Draft | None:
    """Keep what was typed on one step, valid or not, so that nothing is lost on back, next or a restart; the draft
    as it now is, or ``None`` when the token opens none. One statement, so steps posted at the same moment (two
    tabs) are both kept."""
    if not token:
        return None
    with unsent_work():
        return _draft_row(_MERGE_STEP[connection.vendor], [json.dumps(step_data), timezone.now(), hash_code(token)])


def draft_issue_resume_code(draft: Draft) -> str | None:
    """A new resume code for the draft (replacing any earlier one); only its hash is stored. ``None`` when another
    request replaced the code since the draft was read (a double click): its code is the one that works."""
    code = new_code()
    if not Draft.objects.filter(pk=draft.pk, resume_code_hash=draft.resume_code_hash).update(
            resume_code_hash=hash_code(code), updated_at=timezone.now()):
        return None
    draft.resume_code_hash = hash_code(code)
    return code


def draft_for_resume_code(code: str) -> Draft | None:
    return Draft.objects.filter(resume_code_hash__in=[hash_code(spelling) for spelling in code_spellings(code)]).first()


def draft_reopen(draft: Draft) -> str:
    """A fresh token for a draft opened with its resume code (for the browser that typed the code)."""
    token = new_code(groups=6)
    draft.token_hash = hash_code(token)
    draft.save(update_fields=["token_hash", "updated_at"])
    return token


def audit(action: str, *, screening=None, request=None, detail="") -> AuditEvent:
    """An audit entry: who (a member of staff), from which address, did what, to which screening.

    A patient's own steps with their submission (sending it, reading its status, withdrawing it) record no address:
    nothing then ties a person's whereabouts to their health data, before or after it is erased. Staff actions, and
    failed code lookups (limited per address, and tied to no screening), record it: a failed lookup from IPv6, the
    /64 its limit counts by (``limited_address``)."""
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    address = request.META.get("REMOTE_ADDR") if request and (actor or screening is None) else None
    if action in FAILED_LOOKUPS:  # the key the limit counts by (lookups_left): an IPv6 client's /64
        address = lookup_key(address)
    return AuditEvent.objects.create(action=action, screening=screening, detail=detail, actor=actor,
                                     ip_address=address)


def audit_login(sender, request, user, **kwargs):
    audit("login", request=request)


def audit_logout(sender, request, user, **kwargs):
    if user is not None:  # sent before the session ends: the request's user is still the one signing out
        audit("logout", request=request)


def audit_login_failed(sender, credentials, request=None, **kwargs):
    """A failed sign-in, with the username tried (never the password)."""
    audit("login_failed", request=request, detail=str(credentials.get("username", ""))[:150])


@transaction.atomic
def screening_submit(*, screening: Screening, consent_version: str, consent_text: str, contact_name: str = "",
                     contact_details: str = "", request=None) -> tuple[str, str] | None:
    """Submit a scored screening for neurologist review with the consent as it was shown.

    Returns ``(reference, access_code)``; the access code is stored only as a hash, so this is the one time it exists.
    ``None`` when it was submitted meanwhile (a double click): the codes are those the other request gave.
    """
    reference, access_code = f"R-{new_code(groups=4)}", new_code()
    now = timezone.now()
    fields = dict(reference=reference, access_code_hash=hash_code(access_code), consent_version=consent_version,
                  consent_text=consent_text, contact_name=contact_name, contact_details=contact_details,
                  status=Screening.Status.SUBMITTED, submitted_at=now, updated_at=now)
    if not Screening.objects.filter(pk=screening.pk, status=Screening.Status.SCORED).update(**fields):
        return None
    for name, value in fields.items():
        setattr(screening, name, value)
    if screening.draft_id:  # the answers now live only in the submission: not in the draft, nor in earlier results
        Screening.objects.filter(draft_id=screening.draft_id, status=Screening.Status.SCORED).delete()
        Draft.objects.filter(pk=screening.draft_id).delete()
    audit("submitted", screening=screening, request=request)
    return reference, access_code


REISSUE_WINDOW = timedelta(hours=1)


def _reissuable(screening: Screening):
    """The submission, while its access code may still be replaced: within an hour of sending, waiting for a
    neurologist, and before the code has ever opened it. A code lost before it was written down is replaced; one
    in use is never taken from its owner by whoever finds the browser later."""
    return (Screening.objects.filter(pk=screening.pk, status=Screening.Status.SUBMITTED,
                                     submitted_at__gte=timezone.now() - REISSUE_WINDOW)
            .exclude(audit__action="status_viewed"))


def access_code_reissuable(screening: Screening) -> bool:
    return _reissuable(screening).exists()


def screening_reissue_access_code(*, screening: Screening, request=None) -> str | None:
    """A new private access code for a submission (the old one stops working), or ``None`` when it may not be
    replaced any more. One conditional statement: of two presses at once (a double click), one replaces the code."""
    access_code = new_code()
    replaced = _reissuable(screening).filter(access_code_hash=screening.access_code_hash).update(
        access_code_hash=hash_code(access_code), updated_at=timezone.now())
    if not replaced:
        return None
    audit("access_code_reissued", screening=screening, request=request)
    return access_code


FAILED_LOOKUPS = ("status_lookup_failed", "resume_failed")


def limited_address(address: str | None) -> str | None:
    """What a limit on tries counts by: an IPv4 address; for IPv6, the /64 it is in ("2001:db8:1:2::/64"), which a
    single home, phone or server is given whole, so that a new address for each try gets no new tries. An IPv4
    address written as IPv6 (``::ffff:198.51.100.7``, from a dual-stack socket) is that IPv4 address: its /64 would
    be every such client's. Stored as such in the failed lookups' audit entries (their address column holds the
    /64), so that counting them is one equality on the index (ip_address, action, created_at), on PostgreSQL's
    ``inet`` and SQLite's text alike; every other entry keeps the full address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ip) if ip.version == 4 else str(ipaddress.IPv6Network((ip, 64), strict=False))


def lookup_key(address: str | None) -> str | None:
    """What the limit on code lookups counts a client's failures by (``limited_address``), or ``None`` for a request
    without a readable address: gunicorn bound to a Unix socket gives every request ``REMOTE_ADDR = ""`` (and the
    proxy's own address stays when its X-Forwarded-For cannot be read). Those failures are stored without an address
    and counted together, as one client's: the limit is shared then, never lifted (failures stored under "" could be
    counted by no address, and every such lookup was allowed)."""
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return limited_address(address)


NO_ADDRESS = "0.0.0.0"  # no client has it: the sign-in lockout's key for requests without an address


def client_limited_address(request) -> str:
    """The client's address as django-axes counts failed sign-ins (``AXES_CLIENT_IP_CALLABLE``): per IPv6 /64. A
    request without a readable address (``lookup_key``) counts as ``NO_ADDRESS``, together with every other such:
    django-axes stored each failure from ``REMOTE_ADDR = ""`` as a new attempt of its own, and never locked out."""
    return lookup_key(request.META.get("REMOTE_ADDR")) or NO_ADDRESS


def lookups_left(request) -> int:
    """How many more code lookups from this address (an IPv6 client's /64) may fail in the coming hour (counted
    from the audit log)."""
    since = timezone.now() - timedelta(hours=1)
    key = lookup_key(request.META.get("REMOTE_ADDR"))
    failures = AuditEvent.objects.filter(action__in=FAILED_LOOKUPS, created_at__gte=since,
                                         **({"ip_address": key} if key else {"ip_address__isnull": True}))
    return max(settings.LOOKUP_FAILURES_PER_HOUR - failures.count(), 0)


def screening_for_codes(reference: str, access_code: str) -> Screening | None:
    """The submitted screening that both codes open, or ``None`` (the same answer for either code wrong)."""
    references = [reference_from_typed(body) for body in code_spellings(reference_body(reference))]
    screening = Screening.objects.exclude(status=Screening.Status.WITHDRAWN).filter(reference__in=references).first()
    return screening if screening and screening.access_code_matches(access_code) else None


@transaction.atomic
def screening_withdraw(*, screening: Screening, request=None) -> None:
    """Withdraw a submission: erase the answers, facts, results and contact data, the neurologists' messages and
    notes about it, the patient's replies and the re-scores; keep the decisions' bare outcomes and an anonymised audit entry.

    The row is erased first, which locks it: a decision or a re-score saved at the same moment either waits and
    then finds the submission withdrawn (and saves nothing), or was saved just before and is erased with the rest."""
    now = timezone.now()
    fields = dict(answers={}, facts={}, snapshot=[], primary_verdict="", rescored_verdict=None, contact_name="",
                  contact_details="", access_code_hash="", status=Screening.Status.WITHDRAWN, withdrawn_at=now,
                  scored_primary_set=None, scored_primary_version=None, updated_at=now)
    if not Screening.objects.filter(pk=screening.pk).exclude(status=Screening.Status.WITHDRAWN).update(**fields):
        return  # withdrawn already (two clicks at the same moment): erased and audited once
    for name, value in fields.items():
        setattr(screening, name, value)
    screening.reviews.update(message="", internal_note="")
    screening.replies.all().delete()
    screening.rescores.all().delete()
    audit("withdrawn", screening=screening, request=request)


def screening_reply(*, screening: Screening, message: str, answering: str = "", after: str = "") -> bool:
    """The patient answers a neurologist's "more information needed" from their status page: the reply is kept with
    the submission, which waits in the queue again (in its place by the date it was sent), and a decision form opened
    before it is refused as out of date. Until a neurologist answers, they can add to it, each addition a reply of its
    own. ``answering``: the id of the neurologist's message the page showed ("": not known); a newer one, sent while
    the page was open, refuses the reply, which would answer a message its writer has not read. ``after``: the id of
    the newest reply the page showed ("": none, or not known); a newer one with the same text is this form's own,
    sent by its first click. True when the message is with the neurologist: sent now, or sent already by the same
    form (a double click); False, and nothing saved, when nothing asks for it (decided otherwise since, a newer
    message, or withdrawn)."""
    with transaction.atomic():
        locked = Screening.objects.select_for_update().filter(pk=screening.pk).first()
        if locked is None or not locked.takes_reply:
            return False
        if answering and str(locked.reviews.values_list("pk", flat=True).first()) != answering:
            return False
        if locked.replied:  # an addition; the same text again, in a reply the page did not show, is a double click
            newest = locked.replies.first()
            if newest is not None and newest.message == message and str(newest.pk) != after:
                return True
            waits_again = {}
        else:
            waits_again = dict(status=Screening.Status.SUBMITTED, opened_by=None, opened_at=None)
        Screening.objects.filter(pk=screening.pk).update(**waits_again, revision=F("revision") + 1,
                                                         updated_at=timezone.now())
        Reply.objects.create(screening=screening, message=message)
        audit("replied", screening=screening)
    screening.refresh_from_db(fields=["status", "revision", "opened_by", "opened_at", "updated_at"])
    return True


def purge_stale(*, before) -> tuple[int, int]:
    """Delete drafts untouched since ``before`` and results never submitted; returns the two counts."""
    drafts, _ = Draft.objects.filter(updated_at__lt=before).delete()
    unsubmitted, _ = Screening.objects.filter(status=Screening.Status.SCORED, created_at__lt=before).delete()
    return drafts, unsubmitted


class ReviewConflict(Exception):
    """A decision was not saved: the screening changed since its form was opened. ``reason`` says how, read afresh:

    - ``WITHDRAWN``: the patient withdrew it;
    - ``REPEATED``: the newest decision is this user's own with the same decision and message, the same form sent
      twice (a double click), the first of which was saved;
    - ``REPLIED``: the patient replied to "more information needed" (and no one has decided since);
    - ``OWN_TAB``: every decision saved since is this user's own, from another tab or window;
    - ``COLLEAGUE``: another neurologist saved one."""

    WITHDRAWN, REPLIED, REPEATED, OWN_TAB, COLLEAGUE = "withdrawn", "replied", "repeated", "own_tab", "colleague"

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def conflict_reason(screening: Screening, user, revision: int, decision: str, message: str) -> str:
    """Why a decision made on ``revision`` of the screening conflicts (:class:`ReviewConflict`'s reasons); the
    screening is read again, as it now is."""
    screening.refresh_from_db()
    if screening.status == Screening.Status.WITHDRAWN:
        return ReviewConflict.WITHDRAWN
    if screening.replied:
        return ReviewConflict.REPLIED
    # Each revision since is a decision or a reply: the newest of both, as many as there were revisions, and of
    # those the decisions (a reply counted as one would bring in an older decision, a colleague's, say).
    since = max(screening.revision - revision, 1)
    changes = sorted([*screening.reviews.order_by("-created_at", "-pk")[:since],
                      *screening.replies.order_by("-created_at", "-pk")[:since]],
                     key=lambda change: change.created_at, reverse=True)[:since]
    newer = [change for change in changes if isinstance(change, Review)]
    if newer and (newer[0].neurologist_id, newer[0].decision, newer[0].message) == (user.pk, decision, message):
        return ReviewConflict.REPEATED
    if newer and all(review.neurologist_id == user.pk for review in newer):
        return ReviewConflict.OWN_TAB
    return ReviewConflict.COLLEAGUE


def screening_open(*, screening: Screening, request) -> None:
    """A reviewer opens a submission: audited, and a new submission moves to "in review", opened by them."""
    if screening.status == Screening.Status.SUBMITTED:
        now = timezone.now()
        if Screening.objects.filter(pk=screening.pk, status=Screening.Status.SUBMITTED).update(
                status=Screening.Status.IN_REVIEW, opened_by=request.user, opened_at=now, updated_at=now):
            screening.status, screening.opened_by, screening.opened_at = Screening.Status.IN_REVIEW, request.user, now
        else:  # a colleague opened it a moment before (or the patient withdrew it)
            screening.refresh_from_db(fields=["status", "opened_by", "opened_at"])
    if screening.status == Screening.Status.WITHDRAWN:  # erased meanwhile: its page shows nothing of the patient
        return
    audit("detail_viewed", screening=screening, request=request)


def screening_release(*, screening: Screening, request) -> bool:
    """The reviewer who opened a submission puts it back in the queue, for anyone to open ("in review, opened by"
    them for good otherwise, after a misclick). Only theirs, and only while it is in review (not yet decided on, or
    opened again after the patient replied)."""
    released = Screening.objects.filter(
        pk=screening.pk, status=Screening.Status.IN_REVIEW, opened_by=request.user).update(
        status=Screening.Status.SUBMITTED, opened_by=None, opened_at=None, updated_at=timezone.now())
    if released:
        audit("released", screening=screening, request=request)
    return bool(released)


def review_decide(*, screening: Screening, revision: int, decision: str, message: str, internal_note: str,
                  request) -> Review:
    """Record a decision and release its message, unless the screening changed since ``revision`` was read.

    Optimistic concurrency: the revision check and increment are one UPDATE, so of two reviewers saving the same
    screening exactly one succeeds; the other gets :class:`ReviewConflict` (audited), with its reason and the
    screening read again, and nothing of theirs is written.
    """
    with transaction.atomic():
        updated = Screening.objects.filter(pk=screening.pk, revision=revision).exclude(
            status=Screening.Status.WITHDRAWN).update(
            revision=F("revision") + 1, status=Screening.Status.REVIEWED, last_decision=decision,
            updated_at=timezone.now())
        if updated:
            review = Review.objects.create(screening=screening, neurologist=request.user, decision=decision,
                                           message=message, internal_note=internal_note)
            audit("decision_saved", screening=screening, request=request, detail=decision)
            return review
    audit("decision_conflict", screening=screening, request=request)
    raise ReviewConflict(conflict_reason(screening, request.user, revision, decision, message))


def criteria_changed_since(scored: Screening | Rescore, current_versions: dict) -> list[str]:
    """Names of the sets whose criteria changed (or that were added or retired) since the screening (or a re-score
    of it) was scored."""
    changed = [entry["name"] for entry in scored.snapshot if current_versions.get(entry["set"]) != entry["version"]]
    codes = {entry["set"] for entry in scored.snapshot}
    return changed + [code for code in current_versions if code not in codes]


def rescore_preview(screening: Screening) -> Evaluation:
    """The screening's answers scored against today's criteria, on the day it was first scored. Writes nothing."""
    return evaluate(screening.answers, screening.scored_on)


def compared_result(screening: Screening, results: list) -> dict:
    """Of a re-score's results (headline first), the one set beside the screening's own verdict: the set that was
    primary when it was scored, while it is still scored (one set's verdict then and now, whichever set is primary
    since), else the primary set of the re-score."""
    primary = next((entry["set"] for entry in screening.snapshot if entry.get("primary")), None)
    return next((entry for entry in results if entry["set"] == primary), results[0])


class CriteriaChangedSincePreview(Exception):
    """The criteria were edited between a re-score's preview and its saving: what would be saved is not what the
    neurologist read."""


def criteria_read(results: list) -> str:
    """The criteria an evaluation was scored with, as a preview's form carries them: "article:3 ebmt-2020:1 …"."""
    return " ".join(f"{entry['set']}:{entry['version']}" for entry in results)


@transaction.atomic
def rescore_save(*, screening: Screening, request, seen: int | None = None, read: str | None = None) -> Rescore | None:
    """Store the re-score, or ``None`` when the patient withdrew the submission since it was read, or when a
    re-score was saved since the preview showing ``seen`` of them (a double click: the first one is kept). The row
    is locked first, so a withdrawal or a second click at the same moment comes after, or before. Raises
    CriteriaChangedSincePreview when the criteria are no longer those the preview was scored with (``read``)."""
    if not Screening.objects.select_for_update().filter(pk=screening.pk).exclude(
            status=Screening.Status.WITHDRAWN).exists():
        return None
    if seen is not None and screening.rescores.count() != seen:
        return None
    evaluation = rescore_preview(screening)
    if read is not None and criteria_read(evaluation.results) != read:
        raise CriteriaChangedSincePreview
    store_editions(evaluation)
    rescore = Rescore.objects.create(screening=screening, snapshot=evaluation.results, scored_on=screening.scored_on,
                                     primary_verdict=compared_result(screening, evaluation.results)["verdict"],
                                     created_by=request.user)
    Screening.objects.filter(pk=screening.pk).update(rescored_verdict=rescore.primary_verdict)
    # Which criteria it was scored with, not its verdict: a withdrawal erases the re-scores, never the audit log.
    audit("rescore_saved", screening=screening, request=request, detail=criteria_read(evaluation.results)[:200])
    return rescore


def saved_rules(criteria_sets) -> dict:
    """``{set code: [Rule, ...]}``: each set's active criteria as saved, in the order they are scored. What the admin
    checks the reference cases against (:func:`reference_case_results`)."""
    return {s.code: [c.to_rule() for c in s.criteria.for_scoring()] for s in criteria_sets}


def reference_case_results(rules_by_set: dict, cases=None) -> list[dict]:
    """Every active reference case scored against the given rules (``{set code: [Rule, ...]}``, saved or not).

    Each row: the case and, per set code, ``{"verdict", "expected", "agrees"}`` (a case without an expectation for a
    set agrees with anything). Pure apart from reading the cases: a preview passes unsaved rules and writes nothing.
    """
    cases = list(ReferenceCase.objects.filter(active=True)) if cases is None else cases
    rows = []
    for case in cases:
        facts = derive_facts(case.answers, case.scored_on)
        verdicts = {}
        for code, set_rules in rules_by_set.items():
            verdict_now = rules.score(set_rules, facts).verdict
            expected = case.expected.get(code)
            verdicts[code] = {"verdict": verdict_now, "expected": expected, "agrees": expected in (None, verdict_now)}
        rows.append({"case": case, "verdicts": verdicts})
    return rows


@transaction.atomic
def criteria_set_make_primary(*, criteria_set: CriteriaSet, request) -> None:
    """Make this (active) set the primary one (the patients' headline result), and the previous primary an ordinary
    set. Every set is locked first: two admins making two sets primary at once take turns, rather than the second
    breaking the one-primary rule (an IntegrityError)."""
    list(CriteriaSet.objects.select_for_update().order_by("pk"))
    for previous in CriteriaSet.objects.filter(is_primary=True).exclude(pk=criteria_set.pk):
        previous.is_primary = False
        previous.save()
    criteria_set.is_primary = True
    criteria_set.save()
    audit("primary_set_changed", request=request, detail=criteria_set.code)


def login_username(request, credentials) -> str:
    """The username django-axes records for a sign-in attempt, cut to the longest a username can be (150): a longer
    one is nobody's, and axes's column holds 255 (PostgreSQL refused the row with a 500)."""
    return ((credentials or {}).get("username") or request.POST.get("username", ""))[:150]
