"""The patient self-check: landing page, questionnaire steps, review, result, submission, status.

Views are thin and read top to bottom. Patients have no account: cookies of their own hold the token of their draft
(so a step reads one row, not the session and then the draft), the signed id of the result they just saw (so
scoring writes no session), and for a few minutes a code to show once (so that no code is ever stored in plaintext
on the server); the session holds the submission they opened with their codes. Nothing about health
goes into a URL or a cookie, and every page is sent with ``Cache-Control: no-store``.
"""

from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from . import presentation, services
from .forms import (STEPS, STEPS_BY_SLUG, Questionnaire, ReplyForm, ResumeForm, StatusLookupForm, SubmitForm,
                    WithdrawForm, carer_consent, step_data)
from .models import CriteriaSet, Draft, Screening, filled_in_by_carer

DRAFT, RESULT = "draft", "result"  # cookies: the draft's token, the signed id of the result just seen
STATUS = "status_screening_id"  # in the session: the submission opened with its codes
SHOW_RESUME_CODE, SHOW_CODES = "show_resume_code", "show_codes"  # cookies: codes shown on the next page only
CODE_SHOWN_WITHIN = 10 * 60  # seconds: a code not shown by then is not shown at all
CODES_JOINED = "|"  # between the reference and the access code in their cookie (neither holds it)
WITHDRAWN = "withdrawn_here"  # in the session: this browser has just withdrawn a submission
DECISION_KEPT = "decision kept"  # ... on which a neurologist had decided: the decision's bare outcome is kept
WITHDRAWN_BY_CARER = "withdrawn_by_carer"  # ... sent by someone helping: "this result", not "your result"
SUBMIT_TYPED, WITHDRAW_TYPED, REPLY_TYPED = "submit_typed", "withdraw_typed", "reply_typed"  # forms to correct (to_correct)


def draft_from_cookie(request):
    return services.draft_for_token(request.COOKIES.get(DRAFT))


def with_private_cookie(response, name, value, *, signed=False, **more):
    """A cookie as private as the session's: HTTPS only in production, out of reach of scripts, gone when the
    browser closes (or sooner: ``max_age``). A signed one cannot be made up or changed by whoever holds it."""
    options = {"secure": settings.SESSION_COOKIE_SECURE, "httponly": True,
               "samesite": settings.SESSION_COOKIE_SAMESITE, **more}
    if signed:
        response.set_signed_cookie(name, value, salt=name, **options)
    else:
        response.set_cookie(name, value, **options)
    return response


def with_code_to_show(response, name, page, code):
    """A new code for ``page`` to show once, held by this browser alone until then: a signed cookie sent to that page
    only, kept for ``CODE_SHOWN_WITHIN`` at most, and deleted by the page that shows it (``code_to_show``). In the
    session, the plaintext code lay in the database (and its backups) until the page was opened, for hours when it
    never was; the browser holding it is the one about to show it anyway. Signed, so that no one can make a page
    show codes of their own choosing (written down as the patient's)."""
    return with_private_cookie(response, name, code, signed=True, max_age=CODE_SHOWN_WITHIN, path=reverse(page))


def code_to_show(request, name, page):
    """The code waiting to be shown on ``page`` (``with_code_to_show``), or ``None``; and a function that deletes it
    from the response that shows it, so that a reload does not show it again."""
    code = request.get_signed_cookie(name, None, salt=name, max_age=CODE_SHOWN_WITHIN)

    def shown(response):
        if name in request.COOKIES:
            response.delete_cookie(name, path=reverse(page), samesite=settings.SESSION_COOKIE_SAMESITE)
        return response

    return code, shown


def questionnaire_for(draft):
    return Questionnaire(draft.data, timezone.localdate())


SHOW_ERRORS = "errors"  # a step's address with ?errors=1: the page after a post that did not validate


def go_to(step, *, returning=False, errors=False):
    """To a step (keeping the way back to the review page when the person came from it, and saying that its answers
    did not validate), or to the review."""
    if step is None:
        return redirect("review")
    query = urlencode({**({"return": "review"} if returning else {}), **({SHOW_ERRORS: 1} if errors else {})})
    url = reverse("step", args=[step.slug])
    return redirect(f"{url}?{query}" if query else url)


def draft_missing(request, *, typed_lost=False):
    """No answers in progress in this browser (closed since, or another one). Answers posted from a step had nowhere
    to go (``typed_lost``): said, so that nobody thinks that page was kept."""
    messages.info(request, _("We could not find answers in progress, so what was on that page was not saved. Start "
                             "the check, or use your resume code.") if typed_lost else
                  _("We could not find answers in progress. Start the check, or use your resume code."))
    return redirect("home")


def result_missing(request):
    """A result page opened in a browser that holds no result (another browser, one closed since): said, with the
    ways on, rather than a silent start page or a page that says it was sent. One withdrawn since, here or with the
    codes on another device: the withdrawn page, as the answers are erased and the codes open nothing any more."""
    if gone := withdrawn_result(request):
        return render(request, "screening/withdrawn.html", gone)
    messages.info(request, _("There is no result to show in this browser: a result stays only in the browser that "
                             "did the check, until it is closed. If you sent it to a neurologist, check its status "
                             "with your two codes; if you saved your answers, use your resume code."))
    return redirect("home")


def post_only(page):
    """A form's address, which only takes posts: opened any other way (a tab the browser restored, a bookmark, an
    address typed from a screenshot) it goes to ``page``, where the form is, instead of a blank "405"."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method != "POST":
                return redirect(page)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def to_correct(request, key, of, page, *args):
    """A post whose form did not validate, answered as a step's is, with a redirect (303 See Other) to ``page``,
    where the form is: the browser's Back and reload never send it again (no "Confirm Form Resubmission" over a
    page about erasing data). What was typed (all but the CSRF token) waits in the session, on the server, under
    ``key`` (one per form), for that page to show it once with its messages (``typed_form``); only for ``of``, the
    screening whose form it is, so that another one's page, in another tab, shows its own form."""
    typed = request.POST.copy()
    typed.pop("csrfmiddlewaretoken", None)
    request.session[key] = {"of": of.pk, "typed": typed.urlencode()}
    return HttpResponseRedirect(resolve_url(page, *args), status=303)


def typed_form(request, key, of, form_class, **kwargs):
    """The form of ``of`` as posted, with the same messages (``to_correct``), once: or ``None``."""
    kept = request.session.pop(key, None)
    if kept is None or kept["of"] != of.pk:
        return None
    return form_class(QueryDict(kept["typed"]), **kwargs)


def needs_draft(view):
    """The view gets the person's draft (from the token in their draft cookie), or they go to the start page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        draft = draft_from_cookie(request)
        if draft is None:
            return draft_missing(request)
        return view(request, draft, *args, **kwargs)

    return wrapped


def csrf_failure(request, reason=""):
    """A form sent from a page that had expired (or without cookies): said in the words and the frame of whoever
    sent it, a patient or a signed-in or signing-in member of staff, with a way on."""
    staff_pages = tuple(reverse(name) for name in ("queue", "login", "logout", "admin:index"))
    staff_page = request.user.is_authenticated or request.path.startswith(staff_pages)
    return render(request, "403_csrf.html", {"staff_page": staff_page}, status=403)


def healthz(request):
    """For load balancers and the benchmark's baseline: answers without touching the database."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def home(request):
    """What the check is, who it is for, how long it takes, what happens to the data."""
    return render(request, "screening/home.html", {
        "criteria_sets": CriteriaSet.objects.filter(active=True),
        "has_draft": DRAFT in request.COOKIES,
        "step_count": len(STEPS), "retention_days": settings.DRAFT_RETENTION_DAYS,
    })


@never_cache
@post_only("home")
def start(request):
    """New, empty answers. Over answers in progress only once asked "are you sure?": a slip of the finger on the
    start page would otherwise clear them, and without a resume code they cannot be brought back."""
    draft = draft_from_cookie(request) if request.POST.get("confirm") != "yes" else None
    if draft and draft.data:  # answers in progress (none yet: nothing to lose, nothing to ask)
        return render(request, "screening/start_again.html", {"carer": filled_in_by_carer(draft.data)})
    services.draft_discard(request.COOKIES.get(DRAFT))
    draft, token = services.draft_create()
    return with_private_cookie(go_to(STEPS[0]), DRAFT, token)


@never_cache
def step(request, slug):
    """One questionnaire step. What was typed is saved on every post, valid or not: back and save lose nothing.

    Every post is answered with a redirect, also when the answers need correcting (the step is then shown with its
    messages): the browser's Back button and a reload never send a step's old answers again over newer ones."""
    step = STEPS_BY_SLUG.get(slug)
    if step is None:
        raise Http404
    if request.method == "POST":  # saved, and the draft read back, in one statement
        draft = services.draft_save_step(request.COOKIES.get(DRAFT), step_data(step, request.POST))
    else:
        draft = draft_from_cookie(request)
    if draft is None:
        return draft_missing(request, typed_lost=request.method == "POST")
    questionnaire = questionnaire_for(draft)
    returning = request.GET.get("return") == "review" or request.POST.get("return") == "review"
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "save":
            return saved_with_code(request, draft)
        if action == "back":
            previous = questionnaire.neighbour(step, -1)
            return go_to(previous, returning=returning) if previous else redirect("home")
        if step not in questionnaire.applicable:  # kept, but not asked: the earlier answers say skip it
            return go_to(questionnaire.first_incomplete())
        if questionnaire.forms[slug].errors:
            return go_to(step, returning=returning, errors=True)
        if returning:  # to what is left to answer, or back to where this step's answers are on the review page
            following = questionnaire.first_incomplete()
            if following is None:
                return redirect(f"{reverse('review')}#section-{slug}")
            # The button said "Save and return to review", but the answer opened a question (or others wait):
            messages.info(request, _("Saved. This question needs an answer too, then you go back to the review."))
            return go_to(following, returning=True)
        return go_to(questionnaire.neighbour(step, +1))
    if step not in questionnaire.applicable:
        return go_to(questionnaire.first_incomplete())
    if SHOW_ERRORS in request.GET and step in questionnaire.incomplete:  # after a post: every message, "required" too
        form = questionnaire.form_to_show(slug)
    elif step in questionnaire.to_correct:  # what was typed, with the reason it no longer holds next to it
        form = questionnaire.form_to_correct(slug)
    else:
        form = step.form_class(initial=draft.data, answers=questionnaire.answers, today=timezone.localdate())
    answered_before = [name for name in form.fields if name in draft.data]
    blank = not form.is_bound and not answered_before
    carer = filled_in_by_carer(questionnaire.answers)
    return render(request, "screening/step.html", {
        "step": step, "title": step.title_for(questionnaire.answers), "form": form, "returning": returning,
        "hint": step.hint(questionnaire.answers),
        # A step not answered yet looks the same for everyone who is asked the same questions (the medicines they
        # name, to whom they are put): its form's HTML is rendered once per process for each wording.
        "blank": blank, "wording": form.wording() if blank else None,  # the kept HTML's key, only where it is kept
        "answered_before": answered_before,  # so that Back and Save can tell unticking every box from not answering
        "number": questionnaire.expected.index(step) + 1, "total": len(questionnaire.expected),
        "carer": carer, "for_someone_else": carer and step != STEPS[0],
    })


def saved_with_code(request, draft):
    """A new resume code for the draft, shown once on the saved page (by the request that stored it)."""
    code = services.draft_issue_resume_code(draft)
    return with_code_to_show(redirect("saved"), SHOW_RESUME_CODE, "saved", code) if code else redirect("saved")


@never_cache
@post_only("review")
@needs_draft
def answers_save(request, draft):
    """From the review page, the result page, or before starting again: a resume code, to come back to the answers
    another day."""
    return saved_with_code(request, draft)


@never_cache
def saved(request):
    """The resume code, shown once and printable."""
    resume_code, shown = code_to_show(request, SHOW_RESUME_CODE, "saved")
    draft = draft_from_cookie(request)
    if not resume_code and draft is None:  # nothing was saved here: not "Your answers are saved"
        return shown(draft_missing(request))
    given_on = timezone.localdate()  # a code is shown only in the few minutes after it was given
    return shown(render(request, "screening/saved.html", {
        "resume_code": resume_code, "retention_days": settings.DRAFT_RETENTION_DAYS, "given_on": given_on,
        # purge_drafts deletes answers untouched for that many days, at the time of day they were saved: the whole
        # day before is safe, whatever the time
        "use_by": given_on + timedelta(days=settings.DRAFT_RETENTION_DAYS - 1),
        "resume_url": request.build_absolute_uri(reverse("resume")),  # on paper too, where links do not work
        "carer": bool(draft and filled_in_by_carer(draft.data)),  # "The answers are saved", not the carer's own
    }))


def code_lookup(request, form_class, template, find, *, failure_action, failure_message, failure_field=None):
    """A form that opens something with a code. ``find(cleaned_data)`` returns a response, or ``None`` for no match.

    Failed tries are audited and, past ``LOOKUP_FAILURES_PER_HOUR`` from one address, lookups are refused (429);
    the last few failures say how many tries are left.
    """
    form = form_class(request.POST or None)
    left = services.lookups_left(request) if request.method == "POST" else None
    if left == 0:
        form.add_error(None, _("Too many tries with codes from this device. For your security, please wait an hour "
                               "before trying again. Your saved answers and results are safe: nothing is lost."))
    elif request.method == "POST" and form.is_valid():
        response = find(form.cleaned_data)
        if response:
            return response
        services.audit(failure_action, request=request)
        form.add_error(failure_field, f"{failure_message} {tries_left_text(left - 1)}".strip())
    return render(request, template, {"form": form}, status=429 if left == 0 else 200)


def tries_left_text(left):
    """What is said after a failed lookup once few tries are left (none until then: no need to worry anyone)."""
    if left == 0:
        return _("For your security, you cannot try again for an hour.")
    if left <= 3:
        return ngettext("You can try once more in the next hour.", "You can try %(n)d more times in the next hour.",
                        left) % {"n": left}
    return ""


@never_cache
def resume(request):
    def find(data):
        draft = services.draft_for_resume_code(data["resume_code"])
        if draft is None:
            return None
        here = draft_from_cookie(request)
        if here is not None and here.pk != draft.pk:  # other answers in this browser: the code's take their place
            if here.data and here.resume_code_hash is None and request.POST.get("confirm") != "yes":
                # ask first, unless nothing would be lost (a code of their own still opens them)
                return render(request, "screening/resume_replace.html", {"resume_code": data["resume_code"]})
            services.draft_discard(request.COOKIES.get(DRAFT))
        token = services.draft_reopen(draft)
        messages.success(request, _("Welcome back: the answers are here as you saved them.")
                         if filled_in_by_carer(draft.data) else
                         _("Welcome back: your answers are here as you saved them."))
        return with_private_cookie(go_to(questionnaire_for(draft).first_incomplete()), DRAFT, token)

    return code_lookup(request, ResumeForm, "screening/resume.html", find, failure_action="resume_failed",
                       failure_field="resume_code",
                       failure_message=_("We could not find answers for that code. Check it and try again. If you "
                                         "saved more than once, only the newest code works. Saved answers are "
                                         "deleted after %(days)s days, and as soon as their result is sent to a "
                                         "neurologist (follow that result on its status page, with your two "
                                         "codes).")
                       % {"days": settings.DRAFT_RETENTION_DAYS})


@never_cache
@needs_draft
def review(request, draft):
    questionnaire = questionnaire_for(draft)
    return render(request, "screening/review.html", {
        "sections": presentation.answer_rows(questionnaire),
        "incomplete": questionnaire.first_incomplete(),
        # "Answer" where answers are missing; a step whose answers need correcting has them: "Change"
        "incomplete_steps": {step.slug for step in questionnaire.incomplete if step not in questionnaire.to_correct},
        "to_correct": bool(questionnaire.to_correct),
        "carer": filled_in_by_carer(questionnaire.answers),  # "See the result": "my" is the carer's own
    })


@never_cache
@post_only("review")
@needs_draft
def result_create(request, draft):
    """Score the finished questionnaire and store the result as an immutable snapshot."""
    questionnaire = questionnaire_for(draft)
    if questionnaire.first_incomplete():
        messages.error(request, _("Some questions still need an answer."))
        return redirect("review")
    screening = services.screening_create(answers=questionnaire.answers, today=timezone.localdate(), draft=draft)
    return with_private_cookie(redirect("result"), RESULT, screening.pk, signed=True)


def visible_screening(pk):
    screening = Screening.objects.filter(pk=pk).first() if pk else None
    return screening if screening and screening.status != Screening.Status.WITHDRAWN else None


def result_pk(request):
    """The id in the signed result cookie: of the result the person just saw (perhaps withdrawn since)."""
    return request.get_signed_cookie(RESULT, None, salt=RESULT, max_age=settings.SESSION_COOKIE_AGE)


def result_screening(request):
    """The result the person just saw, from their signed result cookie."""
    return visible_screening(result_pk(request))


def with_status_screening(view):
    """A page of the submission the person opened with its reference and access code, passed to ``view``. Without
    one open: the lookup, or, in a browser that has just withdrawn one (the page still open in another tab), the page
    that says it was withdrawn."""

    @wraps(view)
    def wrapped(request):
        screening = visible_screening(request.session.get(STATUS))
        if screening is None:
            return no_status(request)
        return view(request, screening)

    return wrapped


def no_status(request):
    return redirect("withdrawn" if request.session.get(WITHDRAWN) else "status")


def answers_changed_since(screening):
    """Whether the answers the result was scored from have been changed since (back from the result, or resumed with
    their code on another device): the result then no longer says what they give, and is not to be sent."""
    if screening.reference or not screening.draft_id:  # sent: those answers now live only in the submission
        return False
    draft = Draft.objects.filter(pk=screening.draft_id).only("data").first()
    return draft is not None and Questionnaire(draft.data, screening.scored_on).answers != screening.answers


@never_cache
def result(request):
    screening = result_screening(request)
    if screening is None:
        return result_missing(request)
    notes = services.notes_for(screening.facts, screening.snapshot[0]["verdict"])
    return render(request, "screening/result.html", {
        "screening": screening, "has_draft": DRAFT in request.COOKIES,
        "answers_changed": answers_changed_since(screening),
        "carer": screening.by_carer,  # "the answers", "their neurologist": "your" would be the carer's own
        **presentation.result_context(screening, notes, services.editions_for(screening.snapshot)),
    })


@never_cache
def submit(request):
    """Send the result to a neurologist: explicit consent, optional contact, codes shown once."""
    screening = result_screening(request)
    if screening is None:
        return result_missing(request)
    if screening.reference:
        return redirect("submitted")
    if answers_changed_since(screening):  # the result page says so, and offers the new result
        return redirect("result")
    if request.method != "POST":
        form = (typed_form(request, SUBMIT_TYPED, screening, SubmitForm, carer=screening.by_carer)
                or SubmitForm(carer=screening.by_carer))
        return render(request, "screening/submit.html", {"form": form, "carer": screening.by_carer})
    form = SubmitForm(request.POST, carer=screening.by_carer)
    if form.is_valid():
        codes = services.screening_submit(
            screening=screening, consent_version=form.consent_version, consent_text=str(form.consent_text),
            contact_name=form.cleaned_data["contact_name"], contact_details=form.cleaned_data["contact_details"],
            request=request,
        )
        if codes is None:  # sent by a press a moment before, whose page this one replaces: the codes may be unseen,
            return redirect("submitted")  # which the submitted page says, offering a new access code
        response = with_code_to_show(redirect("submitted"), SHOW_CODES, "submitted", CODES_JOINED.join(codes))
        if draft_from_cookie(request) is None:  # the answers sent were this browser's (answers begun since are kept)
            response.delete_cookie(DRAFT, samesite=settings.SESSION_COOKIE_SAMESITE)
        return response
    return to_correct(request, SUBMIT_TYPED, screening, "submit")


@never_cache
def submitted(request):
    """The codes, shown once. Afterwards the browser that sent the result (its private result cookie) can have a new
    access code instead of one lost, say by reloading this page before writing it down. Once the result is
    withdrawn, the page says so (the withdrawn page), and offers no new code."""
    screening = result_screening(request)
    if request.method == "POST":
        access_code = screening and services.screening_reissue_access_code(screening=screening, request=request)
        if access_code:
            return with_code_to_show(redirect("submitted"), SHOW_CODES, "submitted",
                                     CODES_JOINED.join((screening.reference, access_code)))
        return redirect("submitted")
    joined, shown = code_to_show(request, SHOW_CODES, "submitted")
    codes = dict(zip(("reference", "access_code"), joined.split(CODES_JOINED))) if joined else None
    if not codes and not (screening and screening.reference):  # nothing sent from here, or withdrawn since
        # or a newer result, not sent, is this browser's now (Back after a new check): that one, not "no result"
        return shown(redirect("result") if screening else result_missing(request))
    # The day it was sent: only of the screening whose codes are shown (this browser may have sent another since).
    reference = codes["reference"] if codes else screening.reference
    sent_here = screening if screening and screening.reference == reference else None
    submitted_at = sent_here.submitted_at if sent_here else None
    return shown(render(request, "screening/submitted.html", {
        "codes": codes,
        "reference": screening.reference if screening else "",
        "submitted_at": submitted_at,
        "carer": bool(sent_here and sent_here.by_carer),  # sent by someone helping: "this result", not "your result"
        "reissuable": bool(screening and screening.reference and services.access_code_reissuable(screening)),
        "status_url": request.build_absolute_uri(reverse("status")),  # on paper too, where links do not work
    }))


@never_cache
def status(request):
    """Look up a submission with its reference and private access code (never in the URL)."""

    def find(data):
        screening = services.screening_for_codes(**data)
        if screening:
            # A new session key: one planted before the codes were typed (a shared computer) opens nothing.
            request.session.cycle_key()
            request.session[STATUS] = screening.pk
            return redirect("status_detail")

    return code_lookup(request, StatusLookupForm, "screening/status.html", find, failure_action="status_lookup_failed",
                       failure_message=_("We could not find a submission with those codes. Check both codes and "
                                         "try again. If you withdrew it, it has been erased and cannot be opened."))


def status_page(request, screening, form=None, reply_form=None, unsent="", status=200):
    latest = list(screening.reviews.all()[:2])  # the message shown, and whether it replaced an earlier one
    review = latest[0] if latest else None
    replies = list(screening.replies.all())  # newest first: the answers to the message shown, if sent, then earlier
    answers = [reply for reply in replies if review is not None and reply.created_at > review.created_at]
    return render(request, "screening/status_detail.html", {
        "screening": screening, "review": review, "replaced": len(latest) > 1,
        "form": form or WithdrawForm(carer=screening.by_carer),
        "decision_words": review and presentation.decision_for_patient(review.decision, carer=screening.by_carer),
        "status_words": presentation.status_for_patient(screening),
        "reply_form": (reply_form or ReplyForm(initial={"answering": review and review.pk,
                                                        "after": replies[0].pk if replies else ""}))
        if screening.takes_reply else None,
        "answers": answers[::-1], "earlier_replies": replies[len(answers):],  # answers in the order they were sent
        "unsent": unsent,
        "carer": screening.by_carer,  # sent by someone helping: "their MS", "their team"
    }, status=status)


@never_cache
@with_status_screening
def status_detail(request, screening):
    services.audit("status_viewed", screening=screening, request=request)
    return status_page(request, screening, typed_form(request, WITHDRAW_TYPED, screening, WithdrawForm,
                                                      carer=screening.by_carer),
                       typed_form(request, REPLY_TYPED, screening, ReplyForm))


@never_cache
@post_only("status_detail")
@with_status_screening
def reply(request, screening):
    form = ReplyForm(request.POST)
    if not form.is_valid() and screening.takes_reply:  # what is wrong, next to the box, with the text
        return to_correct(request, REPLY_TYPED, screening, "status_detail")
    if form.is_valid() and services.screening_reply(screening=screening, **form.cleaned_data):
        messages.success(request, _("Your reply has been sent. The neurologist will read it with the result.")
                         if screening.by_carer else
                         _("Your reply has been sent. The neurologist will read it with your result."))
        return redirect("status_detail")
    # Not sent (decided since, from a page left open): what was typed, perhaps at length and with effort, is shown
    # again to copy, not dropped; the page says why, as it stands now.
    screening.refresh_from_db()
    if screening.status == Screening.Status.WITHDRAWN:  # meanwhile, from another tab or device: nothing to show
        return no_status(request)
    if screening.takes_reply:  # a new request came while the page was open: read first, then reply to it
        messages.info(request, _("The neurologist has sent a new message since this page was opened, so this reply "
                                 "was not sent. Read the message below first. What you wrote is shown under it, to "
                                 "copy into your reply if it still applies."))
    else:
        messages.info(request, _("There is no request for more information to reply to now, so this reply was not "
                                 "sent. Read the neurologist's latest message below. What you wrote is shown under it, "
                                 "to copy if you want to keep it."))
    return status_page(request, screening, unsent=request.POST.get("message", "").strip(), status=409)


@never_cache
@post_only("status_detail")
@with_status_screening
def withdraw(request, screening):
    carer = screening.by_carer  # read first: withdrawing erases the answers that say so
    form = WithdrawForm(request.POST, carer=carer)
    if not form.is_valid():
        return to_correct(request, WITHDRAW_TYPED, screening, "status_detail")
    services.screening_withdraw(screening=screening, request=request)
    screening.refresh_from_db(fields=["last_decision"])  # a decision saved since the row was read is kept too
    request.session.pop(STATUS, None)
    request.session[WITHDRAWN] = DECISION_KEPT if screening.last_decision is not None else "erased"
    request.session[WITHDRAWN_BY_CARER] = carer
    response = redirect("withdrawn")
    # The result cookie goes if it names this submission; one naming another result (scored since, or this
    # browser's own while someone helping withdrew theirs on a shared computer) stays, and that result with it.
    if result_pk(request) == str(screening.pk):
        response.delete_cookie(RESULT, samesite=settings.SESSION_COOKIE_SAMESITE)
    return response


def withdrawn_here(request):
    """The withdrawn page's context in the browser that has just withdrawn a submission, or ``None``."""
    if not (withdrawn := request.session.get(WITHDRAWN)):
        return None
    return {"decision_kept": withdrawn == DECISION_KEPT, "carer": bool(request.session.get(WITHDRAWN_BY_CARER))}


def withdrawn_result(request):
    """What the withdrawn page says of the result this browser sent, once withdrawn, or ``None``: withdrawn here
    (the withdrawal deleted the result cookie), or with the codes on another device (the cookie names a withdrawn
    submission; its consent, kept, says whether someone helping sent it)."""
    pk = result_pk(request)
    if pk is None:
        return withdrawn_here(request)
    gone = Screening.objects.filter(pk=pk, status=Screening.Status.WITHDRAWN).only(
        "consent_version", "last_decision").first()
    return gone and {"decision_kept": gone.last_decision is not None, "carer": carer_consent(gone.consent_version)}


@never_cache
def withdrawn(request):
    if not (gone := withdrawn_here(request)):  # "Your result has been withdrawn" only where it was
        return redirect("home")
    return render(request, "screening/withdrawn.html", gone)
