"""The neurologist workspace: the review queue, a screening's evidence, decisions, re-scoring, CSV export.

Every view requires a signed-in member of ``Neurologists`` (permission ``screening.review_screening``):
anonymous → login redirect; signed in without the permission → 403, audited. Every view of a screening's
details or of the queue (its red flags), every decision and every export is audited.
"""

import csv
from datetime import datetime
from functools import wraps
from itertools import chain
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import presentation, services
from .forms import Questionnaire, as_form_data
from .models import (SENT, VERDICT_CHOICES, CriteriaSet, QueueCount, Review, Screening, StatusCount,
                     filled_in_by_carer, scored_under_older_criteria, whole_number)
from .review_forms import (REFERENCE, DecisionForm, ExportForm, QueueFilterForm, reference_alone,
                           searches_reference)
from .views import post_only, to_correct, typed_form

PERMISSION = "screening.review_screening"
PAGE_SIZE = 50
QUEUE_QUERY = "queue_query"  # the queue's filters and page as last shown, for the way back from a screening
DECISION_TYPED = "decision_typed"  # a decision to correct, as typed (to_correct)


# The workspace's pages send no path or query in the Referer, even to its own pages (the site's policy elsewhere is
# same-origin, which sends both): a queue filtered by verdict or decision links to each screening's page, and each
# screening's page back to that queue (its link, and the release's redirect), so that an access log that keeps the
# Referer (nginx's "combined" format does) would otherwise pair a screening's address with its verdict or decision.
# Not "no-referrer": a form posted from such a page would then say "Origin: null", which the CSRF check refuses.
WORKSPACE_REFERRER_POLICY = "strict-origin"


def reviewer_required(view):
    """Login redirect for anonymous users; 403 (audited) for users without the review permission."""

    @wraps(view)
    @login_required
    @never_cache
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            services.audit("access_denied", request=request, detail=request.path[:200])
            raise PermissionDenied
        response = view(request, *args, **kwargs)
        response.headers["Referrer-Policy"] = WORKSPACE_REFERRER_POLICY  # SecurityMiddleware keeps a view's own
        return response

    return wrapped


def reference_searched_alone(*, keep=()):
    """A query that searches a reference with the list's filters beside it is sent to the same page with the
    reference alone (``reference_alone``), before anything else: before the sign-in too, whose address would
    otherwise keep the pair in its ``next`` (a signed-out neurologist's bookmark)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            alone = reference_alone(request.GET, keep=keep)
            if alone is not None:
                return redirect(f"{request.path}?{alone}")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def submissions():
    """Every submitted screening (whatever became of it since), oldest first."""
    return Screening.objects.filter(status__in=SENT).order_by("submitted_at", "pk")


class NearerEndPaginator(Paginator):
    """Reads a page from whichever end of the order is nearer: page 1,500 of 2,000 skips 25,000 entries of the
    index backwards instead of 75,000 forwards; the last page costs what the first does, and no page skips more
    than half the queue."""

    def page(self, number):
        number = self.validate_number(number)
        start = (number - 1) * self.per_page
        end = self.count if start + self.per_page + self.orphans >= self.count else start + self.per_page
        if start <= self.count - end:
            return super().page(number)
        rows = list(self.object_list.reverse()[self.count - end:self.count - start])
        return self._get_page(rows[::-1], number, self)


@reference_searched_alone()
@reviewer_required
def queue(request):
    """The filtered queue, a page at a time: the counts by status are kept by the database (StatusCount), the page's
    ids come from an index read from its nearer end, then only those rows are read, and the sets' current versions
    (five queries and the audit entry whatever the number of submissions; one more with filters other than the
    status: the counts by verdict and decision the database keeps too (QueueCount), or, with a date or a reference,
    a count of its own).

    A reference is searched in a form of its own, whatever the status; a query with the list's filters beside it is
    sent to the reference alone (``reference_alone``), so that neither this page's address nor its links (pages,
    export, the way back) pair a person's reference with a verdict or a decision."""
    form = QueueFilterForm(request.GET or None)
    searching = searches_reference(request.GET)
    counts = dict(StatusCount.objects.values_list("status", "screenings"))
    paginator = NearerEndPaginator(form.filter(submissions()).values_list("pk", flat=True), PAGE_SIZE)
    total = form.count_from(counts, QueueCount.objects.values_list(  # read only when filtered by verdict or decision
        "status", "primary_verdict", "rescored_verdict", "last_decision", "screenings"))
    if total is not None:  # the counts kept already say how many there are: no second count of every row
        paginator.count = total
    page = paginator.get_page(request.GET.get("page"))
    rows = Screening.objects.filter(pk__in=list(page.object_list)).select_related("opened_by").only(
        "pk", "reference", "submitted_at", "primary_verdict", "rescored_verdict", "last_decision", "status", "facts",
        "scored_primary_set", "scored_primary_version",
        "opened_by__username", "opened_by__first_name", "opened_by__last_name").in_bulk()
    page.object_list = [rows[pk] for pk in page.object_list]
    versions = CriteriaSet.objects.current_versions()
    for screening in page.object_list:  # for triage: pregnancy, a health condition... before opening any
        screening.red_flags = presentation.red_flags(screening.facts)
        screening.older_criteria = screening.scored_under_older_criteria(versions)
    # The red flags are health data about every row shown: who saw which page of which list is audited.
    services.audit("queue_viewed", request=request, detail=urlencode({**form.audited(), "page": page.number})[:200])
    request.session[QUEUE_QUERY] = request.GET.urlencode()  # never a reference beside a filter: see above
    shown = request.GET.copy()
    shown.pop("page", None)
    query = shown.urlencode()  # for the pages' and the export's links: the reference or the filters, never both
    return render(request, "review/queue.html", {
        "form": form, "page": page, "query": query,
        # each of the two forms shows what was asked of it, and starts empty while the other one is used
        "searched": form if searching else QueueFilterForm(), "listed": QueueFilterForm() if searching else form,
        # each form's fields are rendered once per process for each query that fills them in (crispy is slow)
        "search_key": query if searching else "", "filter_key": "" if searching else query,
        "counts": [(status.label, counts.get(status.value, 0)) for status in SENT],
        # as typed, for the list to say that no reference holds it when that is what found nothing (not the filters)
        "reference_typed": (request.GET.get(REFERENCE, "").strip()
                            if searching and not form.has_error(REFERENCE) else ""),
    })


def detail_context(screening):
    """Everything the detail page shows, read from the stored screening (never re-scored silently)."""
    if screening.status == Screening.Status.WITHDRAWN:
        return {"withdrawn": True}
    questionnaire = Questionnaire(as_form_data(screening.answers), screening.scored_on)
    versions = CriteriaSet.objects.current_versions()
    rescores = list(screening.rescores.select_related("created_by")[:1])
    rescored = rescores[0].snapshot if rescores else []
    editions = services.editions_for(screening.snapshot + rescored)  # one read for both
    reviews = list(screening.reviews.select_related("neurologist"))
    replies = list(screening.replies.all())
    for reply in replies:  # the request it answers, shown with it: the newest decision before it (newest first)
        reply.answering = next((review for review in reviews if review.created_at <= reply.created_at), None)
    return {
        "carer_sent": presentation.carer_sent(screening),
        "answers": presentation.answer_rows(questionnaire),
        "facts": presentation.fact_derivations(screening.answers, screening.facts),
        "red_flags": presentation.red_flags(screening.facts, screening.answers),
        "results": presentation.set_views(screening.snapshot, screening.facts, editions, screening.answers),
        # since the last re-score, once there is one: that re-score already read the changes before it
        "changed_sets": services.criteria_changed_since(rescores[0] if rescores else screening, versions),
        "reviews": reviews,
        "replies": replies,
        "rescores": rescores,
        "rescore_set": services.compared_result(screening, rescored)["name"] if rescored else None,
        # the latest re-score, set by set (scored on the same day as the screening: the same facts)
        "rescore_results": presentation.set_views(rescored, screening.facts, editions, screening.answers),
    }


def submitted_screening(pk):
    """A screening that was sent for review (whatever became of it since), with who opened it; or a 404."""
    return get_object_or_404(Screening.objects.select_related("opened_by").exclude(status=Screening.Status.SCORED),
                             pk=pk)


@reviewer_required
def detail(request, pk):
    screening = submitted_screening(pk)
    form = (typed_form(request, DECISION_TYPED, screening, DecisionForm, carer=screening.by_carer)
            or DecisionForm(initial={"revision": screening.revision}, carer=screening.by_carer))
    return render_detail(request, screening, form)


def queue_url(request):
    """The queue as this session last showed it (its filters and page, or a reference searched: never both, as the
    queue sends a query with both to the reference alone)."""
    query = request.session.get(QUEUE_QUERY)
    return reverse("queue") + (f"?{query}" if query else "")


def render_detail(request, screening, form, status=200, **extra):
    """The screening's evidence, with the decision form: whichever way it is reached (opened, or shown again
    around a decision that was not saved), its showing is audited and opens the submission. A withdrawn one shows
    nothing of the patient: nothing was viewed."""
    if screening.status != Screening.Status.WITHDRAWN:
        services.screening_open(screening=screening, request=request)
    context = {"screening": screening, "form": form, **detail_context(screening), **extra,
               "queue_url": queue_url(request)}
    return render(request, "review/detail.html", context, status=status)


# Whoever has the codes reads the message: the patient, or the carer who sent it for them.
DECISION_SAVED = gettext_lazy("Decision saved. The message is now on the submission's status page.")
DECISION_REPLACED = gettext_lazy("Decision saved. Its message replaces the earlier one on the submission's status "
                                 "page, which says so. Nobody is told of the change in any other way: if it matters, "
                                 "use the contact details, if any were given.")


@reviewer_required
@post_only("queue")
def release(request, pk):
    screening = submitted_screening(pk)
    if services.screening_release(screening=screening, request=request):
        messages.success(request, _("%(reference)s is back in the queue, for anyone to open.")
                         % {"reference": screening.reference})
    else:  # decided on, withdrawn or opened by a colleague meanwhile: its page says which
        messages.info(request, _("%(reference)s was not put back: it is no longer opened by you alone.")
                      % {"reference": screening.reference})
        return redirect("review_detail", pk=screening.pk)
    return redirect(queue_url(request))


@reviewer_required
def decide(request, pk):
    """Saves a decision. A GET (e.g. back from signing in again after a timeout) goes to the screening instead."""
    screening = submitted_screening(pk)
    if request.method != "POST":
        return redirect("review_detail", pk=screening.pk)
    form = DecisionForm(request.POST, carer=screening.by_carer)
    if not form.is_valid():
        return to_correct(request, DECISION_TYPED, screening, "review_detail", screening.pk)
    # A decision over an earlier one (revision 0 is the first) says what the patient is, and is not, told of it
    saved = DECISION_REPLACED if form.cleaned_data["revision"] else DECISION_SAVED
    try:
        services.review_decide(screening=screening, request=request, **form.cleaned_data)
    except services.ReviewConflict as conflict:  # the screening as it now is
        if conflict.reason == conflict.WITHDRAWN:  # the page then shows no form: its message would be lost
            return render_detail(request, screening, form, status=409, withdrawn_meanwhile=True)
        if conflict.reason != conflict.REPEATED:  # a double click: the first one saved it
            form.add_error(None, presentation.decision_conflict_text(conflict.reason, screening))
            form.data = {**form.data.dict(), "revision": screening.revision}
            return render_detail(request, screening, form, status=409)
    messages.success(request, saved)
    return redirect("review_detail", pk=screening.pk)


@reviewer_required
def rescore(request, pk):
    """Preview the screening against the current criteria; saved only when the neurologist asks (POST)."""
    # a preview of a withdrawn one is not there to see; saving one withdrawn since its preview says so
    not_shown = [Screening.Status.SCORED] + ([] if request.method == "POST" else [Screening.Status.WITHDRAWN])
    screening = get_object_or_404(Screening.objects.exclude(status__in=not_shown), pk=pk)
    if request.method == "POST":
        try:
            rescore = services.rescore_save(screening=screening, request=request,
                                            seen=whole_number(request.POST.get("seen", "")),
                                            read=request.POST.get("read"))
        except services.CriteriaChangedSincePreview:
            messages.warning(request, _("Not saved: the criteria were changed while you were reading the preview. "
                                        "This is the preview with the criteria as they are now."))
            return redirect("review_rescore", pk=screening.pk)
        if rescore is None:  # why nothing was saved: withdrawn meanwhile, or saved already
            screening.refresh_from_db(fields=["status"])
        if rescore:  # its verdict is on the page, not in the message (kept in a cookie until shown)
            messages.success(request, _("Re-score saved: its verdict is shown below, above the evaluation as "
                                        "first scored, which is kept."))
        elif screening.status == Screening.Status.WITHDRAWN:
            messages.info(request, _("The re-score was not saved: this submission was withdrawn."))
        else:  # a second click, or the preview saved from another tab meanwhile
            messages.info(request, _("Not saved again: a re-score of this screening was saved since this preview "
                                     "was opened (a second click, or another tab). It is below."))
        return redirect("review_detail", pk=screening.pk)
    evaluation = services.rescore_preview(screening)
    services.audit("detail_viewed", screening=screening, request=request, detail="re-score preview")
    labels = dict(VERDICT_CHOICES)

    def verdict(entry):  # "Likely (v2)"
        return f"{labels[entry['verdict']]} (v{entry['version']})"

    before = {entry["set"]: verdict(entry) for entry in screening.snapshot}
    rescores = list(screening.rescores.all()[:1])  # the latest: what this one would replace in the queue
    last = {entry["set"]: verdict(entry) for entry in rescores[0].snapshot} if rescores else {}
    after = presentation.set_views(evaluation.results, evaluation.facts, evaluation.editions, screening.answers)
    return render(request, "review/rescore.html", {
        "screening": screening, "seen": screening.rescores.count(), "last_rescore": rescores[0] if rescores else None,
        "read": services.criteria_read(evaluation.results),
        "after": [{**view, "was": before.get(view["set"], "—"), "last": last.get(view["set"], "—"),
                   "now": verdict(view)} for view in after],
    })


class Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def labelled(choices):
    labels = dict(choices)
    return lambda value: labels.get(value, value)


# What the file reads of each screening: no answers or snapshots, whatever their size.
EXPORT_FIELDS = ["reference", "submitted_at", "primary_verdict", "rescored_verdict", "status", "last_decision", "facts",
                 "scored_primary_set", "scored_primary_version"]
CONTACT_FIELDS = ["contact_name", "contact_details"]


def export_columns(current_versions: dict, *, with_contact: bool) -> list:
    """The file's columns as the queue names and shows them, each a header and how a row (read as named values of
    ``EXPORT_FIELDS``, and ``CONTACT_FIELDS`` ``with_contact``) reads there: a status, verdict or decision by its label
    ("In review", not "in_review"); the red flags the queue lists for triage; and the queue's marks, "Yes" where the
    queue shows one and empty where it shows none, by the rules the queue's are (``current_versions``: the sets'
    versions, read once for the whole file)."""
    verdict, status = labelled(VERDICT_CHOICES), labelled(Screening.Status.choices)
    decision, yes = labelled(Review.Decision.choices), _("Yes")
    return [
        (_("Reference"), lambda row: row.reference),
        (f"{_('Submitted')} ({settings.TIME_ZONE})", lambda row: row.submitted_at),  # the time as the pages show it
        (_("Primary verdict"), lambda row: verdict(row.primary_verdict)),
        (_("Re-scored verdict (latest)"), lambda row: verdict(row.rescored_verdict)),
        (_("Status"), lambda row: status(row.status)),
        (_("Last decision"), lambda row: decision(row.last_decision)),
        (_("Red flags"), lambda row: "; ".join(presentation.red_flags(row.facts))),
        (_("Filled in by a carer"), lambda row: yes if filled_in_by_carer(row.facts) else ""),
        (_("Scored under older criteria"),
         lambda row: yes if scored_under_older_criteria(row.scored_primary_set, row.scored_primary_version,
                                                        current_versions) else ""),
    ] + ([(_("Contact name"), lambda row: row.contact_name),
          (_("Contact details"), lambda row: row.contact_details)] if with_contact else [])


@reference_searched_alone(keep=["include_contact"])
@reviewer_required
def export(request):
    """The filtered queue as CSV, streamed row by row (bounded memory); contact data only when asked for, and then
    only from its confirmation: a GET asking for it shows how many people's names and contact details the file would
    hold, and its button (a POST to the same address) downloads it.

    A filter that is not valid is not left out here as it is on the queue: a file cannot show its message, and would
    hold more people's details than were asked for. The queue shows what to correct instead.

    A reference with the list's filters beside it (a hand-made address: the queue's links never pair them) is sent to
    the export of the reference alone, as the queue is (``reference_alone``)."""
    form = ExportForm(request.GET)
    if not form.is_valid():
        messages.error(request, _("Nothing was downloaded: correct the filters below first."))
        query = request.GET.copy()
        query.pop("include_contact", None)  # not a filter of the queue's: its links would carry it on
        return redirect(f"{reverse('queue')}?{query.urlencode()}")
    screenings = form.filter(submissions())
    with_contact = form.filters().get("include_contact")
    if with_contact and request.method != "POST":  # names and contact details leave only from the confirmation
        query = request.GET.copy()
        query.pop("include_contact", None)
        return render(request, "review/export_contact.html", {
            "total": screenings.count(), "queue_query": query.urlencode(), "export_query": request.GET.urlencode()})
    # how many people's data left, with or without their contact details, and chosen how
    detail = f"{screenings.count()} rows; " + ("with contact; " if with_contact else "") + urlencode(form.audited())
    services.audit("exported", request=request, detail=detail[:200])
    columns = export_columns(CriteriaSet.objects.current_versions(), with_contact=with_contact)
    fields = EXPORT_FIELDS + (CONTACT_FIELDS if with_contact else [])
    writer = csv.writer(Echo())
    readings = [reading for _header, reading in columns]
    rows = ([spreadsheet_cell(reading(row)) for reading in readings]
            for row in screenings.values_list(*fields, named=True).iterator(chunk_size=2000))
    header = [header for header, _reading in columns]
    # The byte order mark makes spreadsheets read the file as UTF-8: "Zoë", not "ZoÃ«".
    stream = chain(["\ufeff"], (writer.writerow(row) for row in chain([header], rows)))
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    name = f"screenings-{timezone.localdate():%Y-%m-%d}" + ("-with-contact-details" if with_contact else "")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def spreadsheet_cell(value):
    """A time as the pages show it (local, to the minute); text a patient typed never runs as a formula when the CSV
    is opened in a spreadsheet (OWASP CSV injection)."""
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@login_required
@never_cache
@require_POST
def keepalive(request):
    """Extends a signed-in session (the idle-timeout warning's "Stay signed in"), on the review pages and in the
    admin alike: any signed-in member of staff."""
    return HttpResponse(status=204)
