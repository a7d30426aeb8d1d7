"""The neurologist workspace through the Django test client (PRODUCT.md §1, §8, §9).

Access control on every view, sign-in (audited, with lockout), logout, the idle timeout, the queue, a screening's
evidence, decisions with optimistic concurrency, re-scoring, the append-only audit log, the CSV export, and
query counts that do not grow with the number of screenings.
"""

import csv
import html
import io
import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, QueryDict, StreamingHttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from screening import review_views, services
from screening.forms import CARER_CONSENT_VERSION
from screening.models import SENT, AuditEvent, CriteriaSet, Criterion, Reply, Rescore, Review, Screening
from screening.review_forms import ExportForm, QueueFilterForm

from .factories import answers

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)
PASSWORD = "Correct-Horse-Battery-42"
WRONG_PASSWORD = "Wrong-Secret-Password-99"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WALKING_ESTIMATE = dict(edss=None, walking_aid="two_sided", walking_distance="100_199")


# --- plain factory helpers -------------------------------------------------------------------------------------


def make_user(username="neuro", *, neurologist=False, perm=False, staff=False, superuser=False, password=PASSWORD):
    """A user who can sign in: a Neurologists group member, a holder of the bare permission, staff, or an admin."""
    User = get_user_model()
    if superuser:
        user = User.objects.create_superuser(username, f"{username}@example.org", password)
    else:
        user = User.objects.create_user(username, f"{username}@example.org", password, is_staff=staff)
    if neurologist:
        user.groups.add(Group.objects.get(name="Neurologists"))
    if perm:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="screening",
                                                         codename="review_screening"))
    return user


@dataclass
class Submission:
    screening: Screening
    reference: str
    access_code: str


def make_submission(contact_name="", contact_details="", consent_version="test-1", **answer_changes):
    """A screening scored on TODAY and submitted for review, with the codes the patient was given."""
    screening = services.screening_create(answers=answers(**answer_changes), today=TODAY)
    reference, access_code = services.screening_submit(
        screening=screening, consent_version=consent_version, consent_text="I agree to share my answers.",
        contact_name=contact_name, contact_details=contact_details)
    screening.refresh_from_db()
    return Submission(screening, reference, access_code)


def make_scored(**answer_changes):
    """A result the patient saw but never submitted."""
    return services.screening_create(answers=answers(**answer_changes), today=TODAY)


def clone_submissions(template: Screening, count, *, prefix="R-BULK", start=None, small=False, batch_size=1000):
    """``count`` submitted screenings copied from ``template`` with bulk_create, one minute apart, oldest first."""
    start = start or timezone.make_aware(datetime(2026, 1, 1, 9, 0))
    snapshot = template.snapshot
    if small:  # keep the 10,000-row tables small: one set, short texts
        snapshot = [{**snapshot[0], "criteria": [{**c, "explanation": "", "source": ""}
                                                 for c in snapshot[0]["criteria"]]}]
    rows = [Screening(answers=template.answers, facts=template.facts, snapshot=snapshot, scored_on=TODAY,
                      primary_verdict=template.primary_verdict, status=Screening.Status.SUBMITTED,
                      scored_primary_set=template.scored_primary_set,
                      scored_primary_version=template.scored_primary_version,
                      reference=f"{prefix}-{i:05d}", submitted_at=start + timedelta(minutes=i),
                      contact_name=f"Name {i}", contact_details=f"contact{i}@example.org")
            for i in range(count)]
    Screening.objects.bulk_create(rows, batch_size=batch_size)
    return Screening.objects.filter(reference__startswith=f"{prefix}-").order_by("submitted_at")


def decide(screening, neurologist, decision, message):
    """A decision saved as the decision form saves it."""
    request = RequestFactory().post("/")
    request.user = neurologist
    services.review_decide(screening=screening, revision=Screening.objects.get(pk=screening.pk).revision,
                           decision=decision, message=message, internal_note="", request=request)


def set_status(screening, status):
    Screening.objects.filter(pk=screening.pk).update(status=status)
    screening.refresh_from_db()


def look_up_status(client, submission):
    """The patient's own session: the status page opened with the reference and the access code."""
    response = client.post(reverse("status"), {"reference": submission.reference,
                                               "access_code": submission.access_code})
    assert response.status_code == 302 and response.url == reverse("status_detail")
    return response


def decision_data(screening, decision="refer", message="Please book an appointment with the transplant team.",
                  internal_note="Discussed at MDT.", revision=None):
    return {"decision": decision, "message": message, "internal_note": internal_note,
            "revision": screening.revision if revision is None else revision}


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def revision_in(html):
    """The hidden revision the decision form carries."""
    tag = re.search(r'<input[^>]*name="revision"[^>]*>', html).group(0)
    return int(re.search(r'value="(\d+)"', tag).group(1))


def references(response):
    return [s.reference for s in response.context["page"].object_list]


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def export_with_contact(client, query=None, **extra):
    """The file with the names and contact details, as its confirmation's button asks for it: a POST to the export's
    address with the filters (and ``include_contact``) in its query."""
    return client.post(f"{reverse('review_export')}?{urlencode({**(query or {}), 'include_contact': 'on'})}", **extra)


def login_redirect_target(response):
    """The ``next`` of a login redirect, or fail."""
    assert response.status_code == 302, response.status_code
    parts = urlsplit(response.url)
    assert parts.path == reverse("login"), response.url
    return parse_qs(parts.query)["next"][0]


@pytest.fixture
def neurologist(db):
    return make_user("neuro", neurologist=True)


@pytest.fixture
def neuro_client(neurologist):
    return signed_in(neurologist)


# --- roles and access ------------------------------------------------------------------------------------------


def test_the_migration_creates_the_neurologists_group_with_the_review_permission(db):
    group = Group.objects.get(name="Neurologists")
    assert [(p.content_type.app_label, p.codename) for p in group.permissions.all()] == [
        ("screening", "review_screening")]
    assert make_user("member", neurologist=True).has_perm("screening.review_screening")
    assert not make_user("someone", staff=True).has_perm("screening.review_screening")


@dataclass
class Endpoint:
    name: str
    method: str
    url_name: str
    takes_pk: bool
    success: int
    post_data: object = None

    def url(self, screening):
        return reverse(self.url_name, args=[screening.pk] if self.takes_pk else [])

    def call(self, client, screening, **extra):
        url = self.url(screening)
        if self.method == "get":
            return client.get(url, **extra)
        return client.post(url, self.post_data(screening) if self.post_data else {}, **extra)


ENDPOINTS = [
    Endpoint("queue", "get", "queue", False, 200),
    Endpoint("export", "get", "review_export", False, 200),
    Endpoint("detail", "get", "review_detail", True, 200),
    Endpoint("decide", "post", "review_decide", True, 302, post_data=decision_data),
    Endpoint("rescore-preview", "get", "review_rescore", True, 200),
    Endpoint("rescore-save", "post", "review_rescore", True, 302),
]
ROLES = ["anonymous", "patient", "staff_without_permission", "neurologist", "admin"]


def test_the_workspace_lives_at_the_documented_addresses():
    assert reverse("queue") == "/review/"
    assert reverse("login") == "/accounts/login/"
    assert reverse("review_export") == "/review/export.csv"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_access_to_every_neurologist_view(client, shipped_criteria, endpoint, role):
    submission = make_submission(contact_name="Alex Patient")
    screening = submission.screening
    url = endpoint.url(screening)
    user = None
    if role == "patient":
        look_up_status(client, submission)
        assert client.get(reverse("status_detail")).status_code == 200  # the patient's own page works
    elif role == "staff_without_permission":
        user = make_user("office", staff=True)
    elif role == "neurologist":
        user = make_user("neuro", neurologist=True)
    elif role == "admin":
        user = make_user("admin", superuser=True)
    if user:
        client.force_login(user)
    denied_before = AuditEvent.objects.filter(action="access_denied").count()

    response = endpoint.call(client, screening)

    screening.refresh_from_db()
    if role in ("anonymous", "patient"):
        assert login_redirect_target(response) == url
        assert b"Alex Patient" not in response.content
        assert screening.status == Screening.Status.SUBMITTED
        assert not Review.objects.exists() and not Rescore.objects.exists()
    elif role == "staff_without_permission":
        assert response.status_code == 403
        assert b"Alex Patient" not in response.content
        denied = AuditEvent.objects.filter(action="access_denied")
        assert denied.count() == denied_before + 1
        event = denied.latest("pk")
        assert event.actor == user and event.ip_address == "127.0.0.1" and url in event.detail
        assert screening.status == Screening.Status.SUBMITTED
        assert not Review.objects.exists() and not Rescore.objects.exists()
        assert not AuditEvent.objects.filter(action__in=["detail_viewed", "exported", "decision_saved",
                                                         "rescore_saved"]).exists()
    else:
        assert response.status_code == endpoint.success, response.content[:500]
        if endpoint.success == 302:
            assert response.url == reverse("review_detail", args=[screening.pk])
        assert not AuditEvent.objects.filter(action="access_denied").exists()
        if endpoint.name == "decide":
            assert Review.objects.get().neurologist == user
        if endpoint.name == "rescore-save":
            assert Rescore.objects.get().created_by == user


def test_a_user_with_the_bare_permission_but_not_in_the_group_gets_in(shipped_criteria):
    submission = make_submission()
    client = signed_in(make_user("direct", perm=True))
    assert client.get(reverse("queue")).status_code == 200
    assert client.get(reverse("review_detail", args=[submission.screening.pk])).status_code == 200


def test_get_on_the_post_only_views_changes_nothing(shipped_criteria, neuro_client):
    screening = make_submission().screening
    # Back from signing in again after a timeout, the browser GETs the decide URL: it shows the screening.
    response = neuro_client.get(reverse("review_decide", args=[screening.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("review_detail", args=[screening.pk])
    assert neuro_client.get(reverse("keepalive")).status_code == 405
    assert not Review.objects.exists()


def test_a_result_that_was_never_submitted_is_not_visible_to_neurologists(shipped_criteria, neuro_client):
    scored = make_scored()
    for name in ("review_detail", "review_rescore", "review_decide"):
        response = (neuro_client.post if name == "review_decide" else neuro_client.get)(
            reverse(name, args=[scored.pk]), decision_data(scored))
        assert response.status_code == 404, name
    assert not Review.objects.exists()
    assert not AuditEvent.objects.filter(screening=scored).exists()


# --- sign-in, lockout, logout ----------------------------------------------------------------------------------


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def test_signing_in_is_audited_and_lands_on_the_queue(client, fast_passwords, neurologist):
    response = client.post(reverse("login"), {"username": "neuro", "password": PASSWORD},
                           REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302 and response.url == reverse("queue")
    assert client.session["_auth_user_id"] == str(neurologist.pk)
    event = AuditEvent.objects.get(action="login")
    assert event.actor == neurologist and event.ip_address == "198.51.100.7" and event.created_at
    assert client.get(reverse("queue")).status_code == 200


def test_the_login_page_keeps_the_next_address(client, fast_passwords, neurologist, shipped_criteria):
    screening = make_submission().screening
    target = reverse("review_detail", args=[screening.pk])
    response = client.get(target)
    assert login_redirect_target(response) == target
    response = client.post(reverse("login"), {"username": "neuro", "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response.url == target


def test_a_failed_sign_in_is_audited_without_the_password(client, fast_passwords, neurologist):
    response = client.post(reverse("login"), {"username": "neuro", "password": WRONG_PASSWORD},
                           REMOTE_ADDR="198.51.100.8")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="login_failed")
    assert event.actor is None and event.ip_address == "198.51.100.8" and event.detail == "neuro"
    assert WRONG_PASSWORD.encode() not in response.content
    for row in AuditEvent.objects.values():
        assert not any(WRONG_PASSWORD in str(value) for value in row.values()), row
    # nor in the lockout bookkeeping
    from axes.models import AccessAttempt, AccessFailureLog
    for model in (AccessAttempt, AccessFailureLog):
        for row in model.objects.values():
            assert not any(WRONG_PASSWORD in str(value) for value in row.values()), row


def test_a_failed_sign_in_for_an_unknown_user_is_audited_too(client, fast_passwords, db):
    client.post(reverse("login"), {"username": "nobody", "password": WRONG_PASSWORD})
    assert AuditEvent.objects.get(action="login_failed").detail == "nobody"


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, fast_passwords, neurologist,
                                                                        settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "neuro", "password": WRONG_PASSWORD})
    assert AuditEvent.objects.filter(action="login_failed").count() >= settings.AXES_FAILURE_LIMIT

    response = client.post(reverse("login"), {"username": "neuro", "password": PASSWORD})

    assert "_auth_user_id" not in client.session
    assert response.status_code in (403, 429)
    assert b"Too many failed sign-in attempts" in response.content
    assert not AuditEvent.objects.filter(action="login").exists()
    assert login_redirect_target(client.get(reverse("queue"))) == reverse("queue")


def test_a_fresh_ipv6_address_in_the_same_64_does_not_escape_the_sign_in_lockout(client, fast_passwords, neurologist,
                                                                                 settings):
    """Someone guessing a password from IPv6 holds a whole /64: each guess from a new address of it still counts.
    The account still opens from elsewhere, and the audit log keeps each sign-in's full address."""
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        Client().post(reverse("login"), {"username": "neuro", "password": WRONG_PASSWORD},
                      REMOTE_ADDR=f"2001:db8:1:2::{attempt + 1:x}")
    response = client.post(reverse("login"), {"username": "neuro", "password": PASSWORD},
                           REMOTE_ADDR="2001:db8:1:2:ffff::1")
    assert b"Too many failed sign-in attempts" in response.content and "_auth_user_id" not in client.session
    elsewhere = Client()
    response = elsewhere.post(reverse("login"), {"username": "neuro", "password": PASSWORD},
                              REMOTE_ADDR="2001:db8:1:3::1")
    assert response.status_code == 302 and response.url == reverse("queue")
    assert AuditEvent.objects.get(action="login").ip_address == "2001:db8:1:3::1"
    failed_from = set(AuditEvent.objects.filter(action="login_failed").values_list("ip_address", flat=True))
    assert failed_from == {f"2001:db8:1:2::{attempt + 1:x}" for attempt in range(settings.AXES_FAILURE_LIMIT)} | {
        "2001:db8:1:2:ffff::1"}  # the locked-out try too


@pytest.mark.parametrize("behind_proxy, request_from", [
    (False, {"REMOTE_ADDR": ""}),  # gunicorn bound to a Unix socket (behind a web server): no address at all
    (True, {"REMOTE_ADDR": "", "HTTP_X_FORWARDED_FOR": "unknown"}),  # a proxy's header that names no address
])
def test_sign_ins_without_a_readable_address_are_locked_out_too(fast_passwords, neurologist, settings, behind_proxy,
                                                                request_from):
    """django-axes stored each failure from such a request as a first attempt of its own: passwords could be guessed
    without end. They now count together, as one client's; the account still opens from an address of its own."""
    settings.BEHIND_TLS_PROXY = behind_proxy
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        Client().post(reverse("login"), {"username": "neuro", "password": WRONG_PASSWORD}, **request_from)
    locked = Client()
    response = locked.post(reverse("login"), {"username": "neuro", "password": PASSWORD}, **request_from)
    assert b"Too many failed sign-in attempts" in response.content and "_auth_user_id" not in locked.session
    response = Client().post(reverse("login"), {"username": "neuro", "password": PASSWORD},
                             REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302 and response.url == reverse("queue")


def test_a_sign_in_with_a_username_longer_than_any_is_refused_not_a_500(client, fast_passwords, neurologist):
    """django-axes records the username it was given in a column of 255: PostgreSQL refused 256 characters."""
    response = client.post(reverse("login"), {"username": "x" * 256, "password": WRONG_PASSWORD})
    assert response.status_code == 200
    assert all(len(attempt.username) <= 150 for attempt in AccessAttempt.objects.all())


def test_fewer_failures_than_the_limit_do_not_lock_out(client, fast_passwords, neurologist, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": "neuro", "password": WRONG_PASSWORD})
    response = client.post(reverse("login"), {"username": "neuro", "password": PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(neurologist.pk)


def test_logout_ends_the_session_and_is_audited(client, fast_passwords, neurologist):
    client.post(reverse("login"), {"username": "neuro", "password": PASSWORD})
    assert client.get(reverse("queue")).status_code == 200
    session_key = client.session.session_key

    response = client.post(reverse("logout"))

    assert response.status_code == 302 and response.url == reverse("login")
    assert not Session.objects.filter(session_key=session_key).exists()
    assert login_redirect_target(client.get(reverse("queue"))) == reverse("queue")
    event = AuditEvent.objects.get(action="logout")
    assert event.actor == neurologist and event.ip_address == "127.0.0.1"


def test_the_sign_out_address_opened_directly_leads_to_the_sign_out_button(neuro_client):
    """A bookmarked or typed /accounts/logout/ was a blank "405" (signing out takes a post, from the button)."""
    response = neuro_client.get(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("queue")
    assert 'action="/accounts/logout/"' in neuro_client.get(response.url).content.decode()


def test_the_old_session_cookie_is_useless_after_logout(fast_passwords, neurologist):
    browser = Client()
    browser.post(reverse("login"), {"username": "neuro", "password": PASSWORD})
    stolen = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    browser.post(reverse("logout"))
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = stolen
    assert login_redirect_target(replay.get(reverse("queue"))) == reverse("queue")


# --- idle timeout ----------------------------------------------------------------------------------------------


def test_a_signed_in_session_expires_after_the_idle_time(neuro_client, settings):
    assert neuro_client.get(reverse("queue")).status_code == 200
    assert neuro_client.session.get_expiry_age() == settings.STAFF_IDLE_SECONDS
    stored = Session.objects.get(session_key=neuro_client.session.session_key)
    expected = timezone.now() + timedelta(seconds=settings.STAFF_IDLE_SECONDS)
    assert abs((stored.expire_date - expected).total_seconds()) < 60


def test_the_idle_time_follows_the_setting(neuro_client, settings):
    settings.STAFF_IDLE_SECONDS = 300
    response = neuro_client.get(reverse("queue"))
    assert neuro_client.session.get_expiry_age() == 300
    assert b'data-idle-seconds="300"' in response.content


def test_an_idle_session_is_signed_out(neuro_client, settings):
    neuro_client.get(reverse("queue"))
    Session.objects.filter(session_key=neuro_client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    assert login_redirect_target(neuro_client.get(reverse("queue"))) == reverse("queue")


def test_keepalive_extends_the_session(neuro_client, settings):
    neuro_client.get(reverse("queue"))
    key = neuro_client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(seconds=30))
    assert neuro_client.post(reverse("keepalive")).status_code == 204
    stored = Session.objects.get(session_key=key)
    assert stored.expire_date > timezone.now() + timedelta(seconds=settings.STAFF_IDLE_SECONDS - 60)


@pytest.mark.parametrize("role, status", [("anonymous", 302), ("staff_without_permission", 204), ("neurologist", 204),
                                          ("admin", 204)])
def test_keepalive_serves_any_signed_in_member_of_staff(client, db, role, status):
    """The admin's pages warn before the idle sign-out too: "Stay signed in" there is for admins who do not review."""
    if role != "anonymous":
        client.force_login(make_user(role, staff=role == "staff_without_permission", neurologist=role == "neurologist",
                                     superuser=role == "admin"))
    response = client.post(reverse("keepalive"))
    assert response.status_code == status
    if role == "anonymous":
        assert login_redirect_target(response) == reverse("keepalive")


def test_patient_sessions_are_not_shortened(client, shipped_criteria, settings):
    submission = make_submission()
    look_up_status(client, submission)
    assert client.get(reverse("status_detail")).status_code == 200
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    assert client.session.get_expiry_age() > settings.STAFF_IDLE_SECONDS


# --- the queue -------------------------------------------------------------------------------------------------


@pytest.fixture
def queue_mix(shipped_criteria):
    """One screening in each state, submitted a day apart in this order."""
    scored = make_scored()
    submitted = make_submission()
    in_review = make_submission(ms_type="ppms")
    reviewed = make_submission()
    withdrawn = make_submission()
    set_status(in_review.screening, Screening.Status.IN_REVIEW)
    set_status(reviewed.screening, Screening.Status.REVIEWED)
    decide(reviewed.screening, make_user("earlier", neurologist=True), "refer", "Referred.")
    services.screening_withdraw(screening=withdrawn.screening)
    for days, sub in enumerate([submitted, in_review, reviewed, withdrawn]):
        Screening.objects.filter(pk=sub.screening.pk).update(
            submitted_at=timezone.make_aware(datetime(2026, 11, 1 + days * 7, 12, 0)))
    return dict(scored=scored, submitted=submitted, in_review=in_review, reviewed=reviewed, withdrawn=withdrawn)


def test_the_queue_shows_waiting_screenings_only_by_default(neuro_client, queue_mix):
    response = neuro_client.get(reverse("queue"))
    assert response.status_code == 200
    assert references(response) == [queue_mix["submitted"].reference, queue_mix["in_review"].reference]
    content = response.content.decode()
    assert queue_mix["reviewed"].reference not in content
    assert queue_mix["withdrawn"].reference not in content
    assert f'href="{reverse("review_detail", args=[queue_mix["scored"].pk])}"' not in content
    assert "no-store" in response["Cache-Control"]


def test_the_queue_counts_each_status(neuro_client, queue_mix):
    make_submission()
    response = neuro_client.get(reverse("queue"), {"status": "reviewed"})
    counts = {str(label): n for label, n in response.context["counts"]}
    assert counts == {"Submitted": 2, "In review": 1, "Reviewed": 1, "Withdrawn": 1}
    assert re.search(r"<strong>2</strong>\s*submitted", response.content.decode())


@pytest.mark.parametrize("query, shown", [
    ({}, "Waiting (submitted or in review)"),
    ({"verdict": "likely"}, "Waiting (submitted or in review)"),
    ({"decision": "more_info"}, "Any but withdrawn (searching by decision)"),
    ({"decision": "none"}, "Any but withdrawn (searching by decision)"),
    ({"decision": "refer", "status": "reviewed"}, "Reviewed"),
])
def test_the_status_list_says_which_statuses_the_queue_shows(neuro_client, queue_mix, query, shown):
    """Searching by decision listed reviewed screenings under a status list that still read "Waiting"."""
    page = neuro_client.get(reverse("queue"), query).content.decode()
    select = page[page.index('name="status"'):]
    assert re.search(r'<option value="[a-z_]*" selected>([^<]*)</option>', select[:select.index("</select>")]).group(
        1) == shown


@pytest.mark.parametrize("status", ["submitted", "in_review", "reviewed", "withdrawn"])
def test_the_queue_filters_by_status(neuro_client, queue_mix, status):
    response = neuro_client.get(reverse("queue"), {"status": status})
    assert references(response) == [queue_mix[status].reference]


def test_the_queue_shows_the_last_decision(neuro_client, queue_mix):
    page = neuro_client.get(reverse("queue"), {"status": "any"}).content.decode()
    cells = {reference: re.findall(r"<td[^>]*>(.*?)</td>", row) for reference, row in
             re.findall(r'<tr data-reference="([^"]+)">(.*?)</tr>', page, re.S)}
    assert cells[queue_mix["reviewed"].reference][3] == "Refer for transplant assessment"
    assert cells[queue_mix["submitted"].reference][3] == "—"


def test_the_queue_finds_the_screenings_by_their_last_decision_whatever_their_status(neuro_client, queue_mix):
    """"More information needed" leaves a screening reviewed, out of the waiting queue: it was found again only by
    memory. Only the last decision counts: an earlier one was replaced."""
    reviewed = queue_mix["reviewed"].screening
    assert references(neuro_client.get(reverse("queue"), {"decision": "refer"})) == [queue_mix["reviewed"].reference]
    assert references(neuro_client.get(reverse("queue"), {"decision": "more_info"})) == []
    decide(reviewed, make_user("later", neurologist=True), "more_info", "Please send your latest MRI report.")
    response = neuro_client.get(reverse("queue"), {"decision": "more_info"})
    assert references(response) == [queue_mix["reviewed"].reference]
    assert "1 screening, oldest first" in " ".join(response.content.decode().split())
    assert references(neuro_client.get(reverse("queue"), {"decision": "refer"})) == []
    assert references(neuro_client.get(reverse("queue"), {"decision": "more_info", "status": "submitted"})) == []
    assert references(neuro_client.get(reverse("queue"), {"decision": "none"})) == [  # withdrawn: nothing to decide
        queue_mix["submitted"].reference, queue_mix["in_review"].reference]
    assert references(neuro_client.get(reverse("queue"), {"decision": "none", "status": "any"})) == [
        queue_mix["submitted"].reference, queue_mix["in_review"].reference, queue_mix["withdrawn"].reference]
    rows = csv_rows(neuro_client.get(reverse("review_export"), {"decision": "more_info"}))
    assert [row[0] for row in rows[1:]] == [queue_mix["reviewed"].reference]


def test_the_queue_shows_each_submissions_red_flags_for_triage(neuro_client, shipped_criteria):
    """Which of many submissions mention a pregnancy or a heart condition, before opening any of them."""
    flagged = make_submission(pregnancy="planning", comorbidities=["heart"]).screening
    plain = make_submission().screening
    withdrawn = make_submission(prior_hsct=True).screening
    services.screening_withdraw(screening=withdrawn)
    content = neuro_client.get(reverse("queue"), {"status": "any"}).content.decode()
    rows = dict(re.findall(r'<tr data-reference="([^"]+)">(.*?)</tr>', content, re.S))
    assert "Pregnant, breastfeeding or planning a pregnancy" in rows[flagged.reference]
    assert "Health condition reported" in rows[flagged.reference]
    assert "answer:" not in rows[flagged.reference]  # the answers themselves are on the detail page
    assert "<li>" not in rows[plain.reference] and "<li>" not in rows[withdrawn.reference]


def back_to_queue(response):
    return html.unescape(re.search(r'<a href="([^"]*)"[^>]*>Back to the queue</a>', response.content.decode()).group(1))


def test_back_to_the_queue_returns_to_the_filters_and_page_last_shown(neuro_client, queue_mix):
    """A neurologist working through a filtered queue comes back to it, not to the unfiltered first page."""
    screening = queue_mix["reviewed"].screening
    assert back_to_queue(neuro_client.get(detail_url(screening))) == reverse("queue")
    neuro_client.get(reverse("queue"), {"status": "reviewed", "verdict": "likely", "page": "1"})
    link = back_to_queue(neuro_client.get(detail_url(screening)))
    assert urlsplit(link).path == reverse("queue")
    assert parse_qs(urlsplit(link).query) == {"status": ["reviewed"], "verdict": ["likely"], "page": ["1"]}
    assert references(neuro_client.get(link)) == [queue_mix["reviewed"].reference]
    invalid = decided_wrongly(neuro_client, screening, {"decision": ""})
    assert back_to_queue(invalid) == link  # also after a decision that needs correcting
    neuro_client.get(reverse("queue"))
    assert back_to_queue(neuro_client.get(detail_url(screening))) == reverse("queue")


def test_the_way_back_to_a_reference_searched_keeps_no_health_filter_in_the_session(neuro_client, queue_mix):
    """The session (a row of the database, kept until it expires and is cleared, and after a withdrawal) never pairs
    a reference searched with a verdict or a decision: the way back searches the reference alone, and still lists
    that person's screening (an old address pairing them is sent to the reference alone first)."""
    searched = queue_mix["in_review"]
    assert searched.screening.primary_verdict == "unlikely"

    def stored():
        return str(Session.objects.get(session_key=neuro_client.session.session_key).get_decoded())

    for typed in (searched.reference, searched.reference.lower().replace("-", " ")):
        response = neuro_client.get(reverse("queue"), {"reference": typed, "verdict": "unlikely", "decision": "none",
                                                       "page": "1"}, follow=True)
        assert references(response) == [searched.reference]
        assert "unlikely" not in stored() and "decision" not in stored(), stored()
        assert typed.split()[-1] in stored()  # the reference is kept for the way back
        link = back_to_queue(neuro_client.get(detail_url(searched.screening)))
        assert parse_qs(urlsplit(link).query) == {"reference": [typed]}
        assert references(neuro_client.get(link)) == [searched.reference]
    neuro_client.get(reverse("queue"), {"reference": "  ", "verdict": "unlikely"})  # no reference: the filter stays
    assert parse_qs(urlsplit(back_to_queue(neuro_client.get(detail_url(searched.screening)))).query) == {
        "reference": ["  "], "verdict": ["unlikely"]}


def get_forms(response):
    """The names each GET form of the page sends (its fields, hidden ones too)."""
    return [set(re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', form))
            for form in re.findall(r'<form method="get".*?</form>', response.content.decode(), re.S)]


def pairs_a_reference_with_a_result(query):
    """Whether a query names a reference and a verdict or a decision together."""
    names = set(parse_qs(urlsplit(html.unescape(query)).query, keep_blank_values=True))
    return "reference" in names and bool(names & {"verdict", "decision"})


def link_queries(response):
    return [html.unescape(href) for href in re.findall(r'href="([^"]*\?[^"]*)"', response.content.decode())]


@pytest.mark.parametrize("query", [{}, {"verdict": "unlikely", "decision": "none"}, {"reference": "R-ABCDE"},
                                   {"submitted_from": "garbage", "decision": "refer"}, {"reference": "x" * 50}])
def test_the_queue_searches_a_reference_in_a_form_of_its_own_beside_the_lists_filters(neuro_client, queue_mix,
                                                                                      query):
    """Neither form sends a reference with a verdict or a decision: the search sends the reference alone, the
    filters send no reference. One form sending both put ``reference=R-…&verdict=unlikely`` in the address bar,
    the browser's history and any log of the addresses asked for."""
    response = neuro_client.get(reverse("queue"), query)
    assert response.status_code == 200
    forms = get_forms(response)
    assert {"reference"} in forms  # "Find a submission by reference"
    assert {"status", "verdict", "submitted_from", "submitted_to", "decision"} in forms
    assert len(forms) == 2, forms
    assert "Find a submission by reference" in response.content.decode()


@pytest.mark.parametrize("extra", [{"verdict": "unlikely"}, {"decision": "none"},
                                   {"verdict": "likely", "decision": "refer", "status": "submitted", "page": "2"},
                                   # the combined form's old bookmark: every field sent, blank or not
                                   {"status": "", "verdict": "", "submitted_from": "", "submitted_to": "",
                                    "decision": ""}])
def test_an_address_pairing_a_reference_with_the_lists_filters_is_sent_to_the_reference_alone(
        neuro_client, queue_mix, extra):
    """An old bookmark or a hand-made address: the filters beside a reference could only have hidden that row. The
    page that answers names the reference alone, and lists that submission whatever its status."""
    searched = queue_mix["reviewed"]  # no longer waiting, and decided on: a filter could only have hidden it
    response = neuro_client.get(reverse("queue"), {"reference": searched.reference, **extra})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('queue')}?reference={searched.reference}"
    shown = neuro_client.get(response["Location"])
    assert references(shown) == [searched.reference]
    assert "whatever their status" in squeeze(shown)
    assert "1 screening, oldest first" in squeeze(shown)


@pytest.mark.parametrize("view_name", ["queue", "review_export"])
def test_a_signed_out_address_pairing_a_reference_with_a_verdict_keeps_no_pair_in_the_sign_in_address(
        client, shipped_criteria, view_name):
    """A signed-out neurologist's bookmark (or a session timed out): the sign-in page's address carried the whole
    query in ``next``, in the browser's history and any log of addresses. It is sent to the reference alone first."""
    hops = client.get(reverse(view_name), {"reference": "R-ABCD-EFGH", "verdict": "unlikely", "decision": "none",
                                      "include_contact": "on"}, follow=True).redirect_chain
    assert hops[-1][0].startswith(reverse("login")), hops
    for hop, _status in hops:
        assert "verdict" not in unquote(hop) and "decision" not in unquote(hop), hop
    assert "R-ABCD-EFGH" in unquote(hops[-1][0])  # where the sign-in leads: the search, as asked


def test_the_pages_and_export_links_never_pair_a_reference_with_a_verdict_or_a_decision(neuro_client,
                                                                                         shipped_criteria):
    template = make_submission().screening
    clone_submissions(template, 60, prefix="R-KEEP")
    response = neuro_client.get(reverse("queue"), {"reference": "r-keep", "verdict": "possible", "decision": "none"},
                                follow=True)
    assert len(references(response)) == 50 and "Page 1 of 2" in response.content.decode()
    links = link_queries(response)
    assert f"{reverse('review_export')}?reference=r-keep" in links
    assert f"{reverse('review_export')}?reference=r-keep&include_contact=on" in links
    assert "?reference=r-keep&page=2" in links
    for hop, _status in response.redirect_chain:
        assert not pairs_a_reference_with_a_result(hop), hop
    for link in links:
        assert not pairs_a_reference_with_a_result(link), link
    # the list's filters: its links name them, and no reference
    filtered = neuro_client.get(reverse("queue"), {"verdict": "likely", "decision": "none"})
    assert f"{reverse('review_export')}?verdict=likely&decision=none" in link_queries(filtered)
    assert "?verdict=likely&decision=none&page=2" in link_queries(filtered)

    # the export asked for both (by hand): the file of the reference alone, with the contact details asked for
    export = neuro_client.get(reverse("review_export"), {"reference": template.reference, "verdict": "unlikely",
                                                         "decision": "none", "include_contact": "on"})
    assert export.status_code == 302
    assert export["Location"] == f"{reverse('review_export')}?reference={template.reference}&include_contact=on"
    rows = csv_rows(neuro_client.post(export["Location"]))  # from its confirmation
    assert [row[0] for row in rows[1:]] == [template.reference] and rows[0][-1] == "Contact details"
    # one to correct: the way to the queue's message names neither the pair nor the contact details
    wrong = neuro_client.get(reverse("review_export"), {"reference": "x" * 50, "verdict": "unlikely",
                                                        "include_contact": "on"}, follow=True)
    assert "Nothing was downloaded: correct the filters below first." in wrong.content.decode()
    hops = [hop for hop, _status in wrong.redirect_chain]
    assert hops[-1] == f"{reverse('queue')}?reference={'x' * 50}"
    assert not any(pairs_a_reference_with_a_result(hop) for hop in hops), hops


def test_the_filter_form_still_filters_counts_and_exports_as_before(neuro_client, queue_mix):
    """The list's filters work as they did beside a reference: verdict and decision together, counted, exported; an
    export to correct shows them again."""
    response = neuro_client.get(reverse("queue"), {"status": "", "verdict": "unlikely", "submitted_from": "",
                                                   "submitted_to": "", "decision": "none"})
    assert references(response) == [queue_mix["in_review"].reference]
    assert "1 screening, oldest first" in squeeze(response)
    assert selected(response, "verdict") == "unlikely" and selected(response, "decision") == "none"
    assert "whatever their status" not in squeeze(response)
    (export,) = [link for link in link_queries(response) if link.startswith(reverse("review_export"))
                 and "include_contact" not in link]
    assert [row[0] for row in csv_rows(neuro_client.get(export))[1:]] == [queue_mix["in_review"].reference]
    # a blank reference is no search: the filters stay, and nothing is redirected
    blank = neuro_client.get(reverse("queue"), {"reference": "  ", "verdict": "unlikely"})
    assert blank.status_code == 200 and references(blank) == [queue_mix["in_review"].reference]
    # an export to correct goes back to these filters, not to "with contact details" for the next download
    wrong = neuro_client.get(reverse("review_export"), {"verdict": "unlikely", "decision": "none",
                                                        "submitted_from": "garbage", "include_contact": "on"})
    assert wrong["Location"] == f"{reverse('queue')}?verdict=unlikely&decision=none&submitted_from=garbage"
    corrected = neuro_client.get(wrong["Location"])
    assert "Enter a valid date." in squeeze(corrected) and selected(corrected, "verdict") == "unlikely"


def test_the_queue_filters_by_primary_verdict(neuro_client, queue_mix):
    assert queue_mix["in_review"].screening.primary_verdict == "unlikely"
    assert queue_mix["submitted"].screening.primary_verdict == "likely"
    assert references(neuro_client.get(reverse("queue"), {"verdict": "unlikely"})) == [
        queue_mix["in_review"].reference]
    assert references(neuro_client.get(reverse("queue"), {"verdict": "likely"})) == [
        queue_mix["submitted"].reference]
    assert references(neuro_client.get(reverse("queue"), {"verdict": "possible"})) == []


def test_the_count_filtered_by_verdict_and_decision_is_the_number_of_screenings_listed(neuro_client, queue_mix,
                                                                                      neurologist):
    """Filtered by verdict or decision, the queue's count comes from the counts the database keeps (QueueCount), not
    from counting the rows: for every status, verdict and decision it says as many screenings as the list holds."""
    replied = make_submission()
    decide(replied.screening, neurologist, "more_info", "Which medicine?")
    assert services.screening_reply(screening=Screening.objects.get(pk=replied.screening.pk), message="Natalizumab.")
    request = RequestFactory().post("/")
    request.user = neurologist
    services.rescore_save(screening=queue_mix["submitted"].screening, request=request)
    assert Screening.objects.filter(rescored_verdict__isnull=False).exists()
    statuses = ["", "any"] + [status.value for status in SENT]
    for status, verdict, decision in itertools.product(statuses, ["", "likely", "possible", "unlikely"],
                                                       ["", "none", "refer", "more_info", "not_suitable"]):
        response = neuro_client.get(reverse("queue"), {"status": status, "verdict": verdict, "decision": decision})
        total = response.context["page"].paginator.count
        assert total == len(references(response)), (status, verdict, decision)
        assert f"{total} screening" in " ".join(response.content.decode().split())


def selected(response, name):
    """The option the filter ``name`` shows as chosen."""
    select = re.search(rf'<select name="{name}".*?</select>', response.content.decode(), re.S).group(0)
    return re.search(r'<option value="([^"]*)"[^>]*selected', select).group(1)


def test_the_filter_fields_show_the_filters_asked_for_one_query_after_another(neuro_client, queue_mix):
    """The fields are rendered once per process for each query and kept: each query gets its own, with its
    messages; none shows another's choices or errors."""
    assert selected(neuro_client.get(reverse("queue"), {"verdict": "unlikely"}), "verdict") == "unlikely"
    assert selected(neuro_client.get(reverse("queue"), {"verdict": "likely"}), "verdict") == "likely"
    wrong = squeeze(neuro_client.get(reverse("queue"), {"verdict": "likely", "submitted_from": "garbage"}))
    assert "Enter a valid date." in wrong and 'value="garbage"' in wrong
    again = neuro_client.get(reverse("queue"), {"verdict": "likely"})
    assert "Enter a valid date." not in squeeze(again) and selected(again, "verdict") == "likely"
    assert selected(neuro_client.get(reverse("queue")), "verdict") == ""


def test_the_last_decision_filter_says_it_is_a_status_that_narrows_it(neuro_client, queue_mix):
    """"…unless you choose one" under "Last decision" read as choosing a decision: it means a status."""
    page = squeeze(neuro_client.get(reverse("queue")))
    assert "Looks in every status except withdrawn, unless you choose a status." in page
    assert "unless you choose one" not in page


def test_the_queue_filters_by_submission_date(neuro_client, queue_mix):
    # submitted on 1 Nov, in review since the one submitted on 8 Nov
    response = neuro_client.get(reverse("queue"), {"submitted_from": "2026-11-05", "submitted_to": "2026-11-30"})
    assert references(response) == [queue_mix["in_review"].reference]
    response = neuro_client.get(reverse("queue"), {"submitted_to": "2026-11-01"})
    assert references(response) == [queue_mix["submitted"].reference]
    response = neuro_client.get(reverse("queue"), {"submitted_from": "2026-11-01", "submitted_to": "2026-11-08"})
    assert references(response) == [queue_mix["submitted"].reference, queue_mix["in_review"].reference]


def test_a_reversed_date_range_is_an_error_not_a_crash(neuro_client, queue_mix):
    response = neuro_client.get(reverse("queue"), {"submitted_from": "2026-11-30", "submitted_to": "2026-11-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    assert response.context["form"].errors
    page = response.content.decode()
    dates = {name: re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0) for name in ("submitted_from", "submitted_to")}
    for box in dates.values():  # both halves of the range marked; the message, once, under "Submitted to"
        assert 'aria-invalid="true"' in box and "is-invalid" in box, box
    assert 'aria-describedby="id_submitted_to_error"' in dates["submitted_from"]
    assert 'id="id_submitted_to_error"' in page and page.count("The end date is before the start date.") == 1


DATES_NOT_USED = "The dates were not used: this list is not filtered by date. Correct them above, then press Filter."


@pytest.mark.parametrize("dates", [{"submitted_from": "2026-11-05", "submitted_to": "2026-11-01"},  # reversed
                                   {"submitted_from": "2026-11-05", "submitted_to": "2026-11-31"}])  # no such day
def test_a_date_range_that_is_not_valid_filters_nothing_and_the_list_says_so(neuro_client, queue_mix, dates):
    """The start date alone once still filtered while the error under "Submitted to" was read: the list looked short
    (or empty) for no reason shown. Neither date is used, the list says so, and the boxes keep what was typed."""
    response = neuro_client.get(reverse("queue"), dates)
    assert references(response) == [queue_mix["submitted"].reference, queue_mix["in_review"].reference]
    page = squeeze(response)
    assert "2 screenings, oldest first" in page
    notice = re.search(r"<p [^>]*data-dates-not-used>(.*?)</p>", page).group(1)
    assert notice.strip() == DATES_NOT_USED
    assert page.index("data-dates-not-used") < page.index('<table class="table queue-table">')  # beside the list
    for name, typed in dates.items():
        assert re.search(rf'<input[^>]*name="{name}"[^>]*value="{typed}"', page), name
    assert "correct the filters first" in page  # no export link while the dates are wrong
    event = AuditEvent.objects.filter(action="queue_viewed").latest("pk")
    assert "submitted" not in event.detail  # audited as shown: not filtered by date


def test_one_date_that_is_not_one_is_said_to_be_unused_and_valid_dates_say_nothing(neuro_client, queue_mix):
    page = squeeze(neuro_client.get(reverse("queue"), {"submitted_to": "garbage"}))
    assert "The date was not used: this list is not filtered by date. Correct it above, then press Filter." in page
    fine = neuro_client.get(reverse("queue"), {"submitted_from": "2026-11-05", "submitted_to": "2026-11-30"})
    assert references(fine) == [queue_mix["in_review"].reference]
    assert "data-dates-not-used" not in fine.content.decode()


def test_an_export_refused_for_its_dates_shows_the_whole_queue_unfiltered_by_date(neuro_client, queue_mix):
    response = neuro_client.get(reverse("review_export"), {"submitted_from": "2026-11-05",
                                                           "submitted_to": "2026-11-01"}, follow=True)
    assert not response.streaming and "Nothing was downloaded" in response.content.decode()
    assert references(response) == [queue_mix["submitted"].reference, queue_mix["in_review"].reference]
    assert DATES_NOT_USED in squeeze(response)


def test_the_queue_searches_by_reference(neuro_client, queue_mix):
    reference = queue_mix["in_review"].reference
    part = reference.split("-")[2].lower()  # part of the code, typed in lower case
    assert references(neuro_client.get(reverse("queue"), {"reference": part})) == [reference]
    assert references(neuro_client.get(reverse("queue"), {"reference": f"  {reference}  "})) == [reference]
    assert references(neuro_client.get(reverse("queue"), {"reference": "R-NOPE"})) == []
    Screening.objects.filter(pk=queue_mix["in_review"].screening.pk).update(reference="R-BSZGA-" + reference[8:])
    for read_out in ("8SZGA", "b52g", "BSZ6A"):  # B heard or read as 8, S as 5, Z as 2, G as 6
        assert references(neuro_client.get(reverse("queue"), {"reference": read_out})) == ["R-BSZGA-" + reference[8:]]



def test_a_reference_is_found_whatever_became_of_it_and_however_it_is_typed(neuro_client, queue_mix):
    reference = queue_mix["reviewed"].reference  # no longer waiting: a patient phoning about a decision
    assert references(neuro_client.get(reverse("queue"), {"reference": reference})) == [reference]
    typed = " ".join(reference.split("-")[1:]).lower()  # "k7m2q ..." as read out over the phone
    assert references(neuro_client.get(reverse("queue"), {"reference": typed})) == [reference]
    # a status beside it (an old address: the search form has none) could only hide it
    assert references(neuro_client.get(reverse("queue"), {"reference": reference, "status": "submitted"},
                                       follow=True)) == [reference]
    everyone_waiting = references(neuro_client.get(reverse("queue")))
    assert references(neuro_client.get(reverse("queue"), {"reference": " - "})) == everyone_waiting  # no search
    for nothing_a_reference_holds in ("😀", "%", "?!"):  # not "every one": an export would hold them all
        assert references(neuro_client.get(reverse("queue"), {"reference": nothing_a_reference_holds})) == []


def test_any_status_lists_every_submission(neuro_client, queue_mix):
    response = neuro_client.get(reverse("queue"), {"status": "any"})
    assert sorted(references(response)) == sorted(queue_mix[s].reference for s in
                                                  ("submitted", "in_review", "reviewed", "withdrawn"))
    assert response.context["page"].paginator.count == 4


@pytest.mark.parametrize("bad", [{"submitted_from": "garbage"}, {"submitted_from": "2026-11-01",
                                                                 "submitted_to": "2026-10-01"}])
def test_an_invalid_filter_is_left_out_and_the_others_still_apply(neuro_client, queue_mix, bad):
    response = neuro_client.get(reverse("queue"), {"verdict": "unlikely", **bad})
    assert response.context["form"].errors
    # heard first by a screen reader, as on the other forms' pages; a valid filter is no error
    assert "<title>Error: Review queue" in " ".join(response.content.decode().split())
    assert "<title>Review queue" in " ".join(neuro_client.get(reverse("queue"), {"verdict": "unlikely"})
                                             .content.decode().split())
    assert references(response) == [queue_mix["in_review"].reference]  # the verdict still filters

    assert "correct the filters first" in response.content.decode()  # not a link to download more than asked


@pytest.mark.parametrize("bad", [{"submitted_from": "garbage"}, {"submitted_to": "2026-10-01",
                                                                 "submitted_from": "2026-11-01"},
                                 {"status": "bogus"}])
def test_an_export_with_an_invalid_filter_downloads_nothing_and_shows_what_to_correct(neuro_client, queue_mix, bad):
    """A file cannot show the filter's message: left out, the end date (say) would put more people's contact
    details in it than the neurologist asked for."""
    query = {"verdict": "unlikely", "include_contact": "on", **bad}
    response = neuro_client.get(reverse("review_export"), query, follow=True)
    assert not response.streaming and response.redirect_chain[0][0].startswith(reverse("queue") + "?")
    page = response.content.decode()
    assert "Nothing was downloaded: correct the filters below first." in page
    assert "<title>Error: Review queue" in " ".join(page.split())
    assert response.context["form"].errors and response.context["form"].data["verdict"] == "unlikely"
    assert not AuditEvent.objects.filter(action="exported").exists()


def test_the_queue_is_oldest_first(neuro_client, shipped_criteria):
    subs = [make_submission() for _ in range(3)]
    for sub, day in zip(subs, [20, 5, 12]):
        Screening.objects.filter(pk=sub.screening.pk).update(
            submitted_at=timezone.make_aware(datetime(2026, 11, day, 9, 0)))
    assert references(neuro_client.get(reverse("queue"))) == [subs[1].reference, subs[2].reference,
                                                               subs[0].reference]


def test_the_queue_is_paginated_fifty_to_a_page(neuro_client, shipped_criteria):
    template = make_submission().screening
    Screening.objects.filter(pk=template.pk).update(submitted_at=timezone.make_aware(datetime(2025, 1, 1)))
    clones = list(clone_submissions(template, 119).values_list("reference", flat=True))
    everything = [template.reference] + clones

    first = neuro_client.get(reverse("queue"))
    assert references(first) == everything[:50]
    assert "Page 1 of 3" in first.content.decode()
    assert "page=2" in first.content.decode()
    assert "120 screenings" in first.content.decode()
    assert references(neuro_client.get(reverse("queue"), {"page": 2})) == everything[50:100]
    assert references(neuro_client.get(reverse("queue"), {"page": 3})) == everything[100:]


def test_paging_through_lists_each_submission_once_even_when_many_arrived_at_the_same_moment(neuro_client,
                                                                                              shipped_criteria):
    """Pages in the far half of the queue are read from its end: submissions sent in the same second still come in
    one order (the order they arrived in), none twice and none missing, whichever end a page is read from."""
    clones = clone_submissions(make_submission().screening, 129)
    Screening.objects.update(submitted_at=timezone.make_aware(datetime(2026, 3, 1, 9, 0)))
    everything = list(Screening.objects.order_by("pk").values_list("reference", flat=True))
    assert len(everything) == 130 and clones.count() == 129

    pages = [references(neuro_client.get(reverse("queue"), {"page": n})) for n in (1, 2, 3)]
    assert pages == [everything[:50], everything[50:100], everything[100:]]


def test_pagination_keeps_the_filters(neuro_client, shipped_criteria):
    template = make_submission().screening
    clone_submissions(template, 60, prefix="R-KEEP")
    response = neuro_client.get(reverse("queue"), {"reference": "r-keep"})
    assert len(references(response)) == 50
    assert "reference=r-keep&amp;page=2" in response.content.decode()


@pytest.mark.parametrize("query", [
    {"status": "bogus"}, {"verdict": "maybe"}, {"submitted_from": "not-a-date"}, {"submitted_to": "2026-02-31"},
    {"page": "abc"}, {"page": "-1"}, {"page": "999999"}, {"page": "1e9"}, {"reference": "x" * 500},
    {"reference": "'; DROP TABLE screening_screening; --"}, {"status": ["submitted", "reviewed"]},
    {"submitted_from": "9999-12-31", "submitted_to": "0001-01-01"}, {"reference": "\x00"},
])
def test_garbage_queue_parameters_never_crash(neuro_client, queue_mix, query):
    response = neuro_client.get(reverse("queue"), query)
    assert response.status_code == 200


# --- a screening's evidence ------------------------------------------------------------------------------------


def detail_url(screening):
    return reverse("review_detail", args=[screening.pk])


def test_opening_a_submission_moves_it_into_review_and_is_audited(neuro_client, neurologist, shipped_criteria):
    screening = make_submission().screening
    response = neuro_client.get(detail_url(screening), REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    screening.refresh_from_db()
    assert screening.status == Screening.Status.IN_REVIEW
    assert screening.revision == 0
    event = AuditEvent.objects.get(action="detail_viewed")
    assert (event.actor, event.screening, event.ip_address) == (neurologist, screening, "192.0.2.44")
    assert event.created_at

    neuro_client.get(detail_url(screening))
    assert AuditEvent.objects.filter(action="detail_viewed", screening=screening).count() == 2
    screening.refresh_from_db()
    assert screening.status == Screening.Status.IN_REVIEW


@pytest.mark.parametrize("posted", [{}, {"decision": "refer", "message": ""}, {"decision": "refer", "message": "x\x00"}])
def test_a_decision_not_saved_shows_the_record_again_audited_and_opened(neuro_client, neurologist, shipped_criteria,
                                                                         posted):
    """A refused decision shows the whole record again: that showing is a view like any other, in the audit log."""
    screening = make_submission().screening
    response = decided_wrongly(neuro_client, screening, {"revision": 0, **posted})
    assert response.status_code == 200 and screening.reference in response.content.decode()
    event = AuditEvent.objects.get(action="detail_viewed")
    assert (event.actor, event.screening) == (neurologist, screening)
    screening.refresh_from_db()
    assert (screening.status, screening.opened_by) == (Screening.Status.IN_REVIEW, neurologist)


def test_colleagues_see_who_took_a_submission_into_review(neuro_client, neurologist, shipped_criteria):
    """Two neurologists working one queue: "In review" says by whom, so that the second does not start on it too.
    Opening it later, or by someone else, does not change who took it."""
    screening = make_submission().screening
    neuro_client.get(detail_url(screening))
    colleague = signed_in(make_user("colleague", neurologist=True))
    detail = colleague.get(detail_url(screening)).content.decode()
    assert "In review, opened by neuro on" in " ".join(detail.split())
    screening.refresh_from_db()
    assert screening.opened_by == neurologist and screening.opened_at

    queue = colleague.get(reverse("queue")).content.decode()
    row = re.search(rf'<tr data-reference="{screening.reference}">(.*?)</tr>', queue, re.S).group(1)
    assert "In review (neuro)" in row
    waiting = make_submission().screening
    queue = colleague.get(reverse("queue")).content.decode()
    row = re.search(rf'<tr data-reference="{waiting.reference}">(.*?)</tr>', queue, re.S).group(1)
    assert "<td data-label=\"Status\">Submitted</td>" in row


@pytest.mark.parametrize("name, details, flagged", [("", "", True), ("Jo", "", True), ("Jo", "jo@example.org", False),
                                                    ("", "07700 900123", False)])
def test_the_detail_says_when_the_patient_left_no_way_to_reach_them(neuro_client, shipped_criteria, name, details,
                                                                    flagged):
    screening = make_submission(contact_name=name, contact_details=details).screening
    page = neuro_client.get(detail_url(screening)).content.decode()
    assert ("No contact details given" in page) is flagged
    assert ("Contact: no name given · 07700 900123" in page) is (details == "07700 900123")
    assert ("the patient reads your message only on their status page" in page) is flagged


def test_the_detail_shows_the_answers_and_contact(neuro_client, shipped_criteria):
    screening = make_submission(contact_name="Alex Patient", contact_details="alex@example.org",
                                age=41, respondent="carer").screening
    content = neuro_client.get(detail_url(screening)).content.decode()
    assert "Contact: Alex Patient · alex@example.org" in content  # not "Alex Patient alex@example.org"
    assert "How old is the person you are helping?" in content and "<dd>41</dd>" in content  # a carer's
    assert "I am helping someone else fill it in" in content
    assert "Natalizumab (Tysabri)" in content
    assert "Relapsing-remitting MS" in content


CARER_LINE = "Filled in by a carer on the patient's behalf:"


@pytest.mark.parametrize("consent_version, whose_contact", [
    # sent as the carer's form asks: the carer confirms that the patient agrees, and gives the patient's name
    (CARER_CONSENT_VERSION, "The carer sent them, confirming that the patient agrees, and was given the codes, so "
                            "your message may be read, and any reply written, by the carer rather than the patient. "
                            "The name asked for was the patient's; the contact details may be the carer's."),
    # sent before carers were asked that: the carer agreed for themselves and was asked for their own name
    ("2026-11-2", "The carer sent them and was given the codes, so your message may be read, and any reply "
                  "written, by the carer rather than the patient. The name and contact details may be the carer's."),
], ids=["carer consent", "earlier consent"])
def test_a_carers_submission_says_at_the_top_who_answered_and_whose_the_contact_may_be(
        neuro_client, shipped_criteria, consent_version, whose_contact):
    screening = make_submission(contact_name="Alex Patient", contact_details="carer@example.org",
                                consent_version=consent_version, respondent="carer").screening
    page = html.unescape(squeeze(neuro_client.get(detail_url(screening))))
    line = re.search(r'<p class="carer-note" data-carer>(.*?)</p>', page).group(1)
    assert line == f"<strong>{CARER_LINE}</strong> the answers describe the patient. {whose_contact}"
    # read before the contact it qualifies and the evidence
    assert page.index(CARER_LINE) < page.index("Contact: Alex Patient") < page.index("Evaluation")


def test_a_submission_filled_in_by_the_patient_says_nothing_of_a_carer(neuro_client, shipped_criteria):
    screening = make_submission(contact_name="Alex Patient", contact_details="alex@example.org").screening
    page = squeeze(neuro_client.get(detail_url(screening)))
    assert "Contact: Alex Patient · alex@example.org" in page
    assert "carer" not in page.lower()


@pytest.mark.parametrize("respondent, said, not_said", [
    ("self", "the patient reads your message only on their status page, with their codes.", "carer"),
    ("carer", "your message is read only on the status page, with the codes the carer was given.",
     "the patient reads your message"),
])
def test_with_no_contact_details_the_detail_says_who_reads_the_message(neuro_client, shipped_criteria, respondent,
                                                                       said, not_said):
    screening = make_submission(respondent=respondent, consent_version=CARER_CONSENT_VERSION).screening
    no_contact = re.search(r"<p class=\"no-contact\" data-no-contact>(.*?)</p>",
                           squeeze(neuro_client.get(detail_url(screening)))).group(1)
    assert no_contact.endswith(said) and not_said not in no_contact


@pytest.mark.parametrize("respondent, shown_now, replaced, replaces", [
    ("self", "The patient sees this message now", "Replaced by a later decision: the patient no longer sees this "
     "message", "A new decision replaces the message the patient sees now: write in it everything they need."),
    ("carer", "On the status page now", "Replaced by a later decision: no longer on the status page",
     "A new decision replaces the message on the status page now: write in it everything the patient and the "
     "carer need."),
])
def test_the_decision_history_says_where_its_message_is_read(neuro_client, neurologist, shipped_criteria,
                                                             respondent, shown_now, replaced, replaces):
    screening = make_submission(respondent=respondent).screening
    decide(screening, neurologist, "more_info", "Please send the MRI report.")
    decide(screening, neurologist, "refer", "We will refer.")
    page = squeeze(neuro_client.get(detail_url(screening)))
    newest, older = re.findall(r"<li data-decision.*?</li>", page)
    assert shown_now in newest and replaced in older and replaces in page
    assert respondent == "self" or "patient sees" not in page


@pytest.mark.parametrize("respondent, message_to, left_empty, note", [
    ("self", "Message to the patient", "Write a message to the patient.",
     "Internal note (not shown to the patient)"),
    # a carer sent it and holds its codes: the message is read on the status page by the carer, or the patient
    ("carer", "Message to the carer and the patient", "Write a message to the carer and the patient.",
     "Internal note (not shown to the carer or the patient)"),
])
def test_the_decision_form_and_its_history_say_whom_the_message_is_to(neuro_client, neurologist, shipped_criteria,
                                                                      respondent, message_to, left_empty, note):
    screening = make_submission(respondent=respondent, consent_version=CARER_CONSENT_VERSION).screening
    decide(screening, neurologist, "more_info", "Please send the MRI report.")
    page = html.unescape(squeeze(neuro_client.get(detail_url(screening))))
    assert re.search(rf'<label for="id_message"[^>]*>\s*{re.escape(message_to)}\s*<', page)
    assert re.search(rf'<label for="id_internal_note"[^>]*>\s*{re.escape(note)}\s*<', page)
    (history,) = re.findall(r"<li data-decision.*?</li>", page)
    assert f"{message_to}: Please send the MRI report." in history
    response = decided_wrongly(neuro_client, screening, decision_data(screening, message="", revision=1))
    page = html.unescape(squeeze(response))
    assert response.status_code == 200 and left_empty in page
    assert respondent == "self" or "to the patient" not in page
    # the fields as first shown are made once per process: what was typed is shown again, never cached or shared
    typed = decision_data(screening, decision="", message="Typed & kept <here>", revision=1)
    page = squeeze(decided_wrongly(neuro_client, screening, typed))
    assert "Typed &amp; kept &lt;here&gt;</textarea>" in page
    assert "Typed &amp; kept" not in squeeze(neuro_client.get(detail_url(screening)))


def test_a_reply_to_a_carers_submission_is_not_said_to_be_the_patients(neurologist, shipped_criteria):
    """A carer sent it and was given the codes: the reply came from the status page, from the carer or the patient."""
    submission = make_submission(respondent="carer", consent_version=CARER_CONSENT_VERSION)
    decide(submission.screening, neurologist, "more_info", "Please tell me the latest EDSS.")
    carer = Client()
    look_up_status(carer, submission)
    reply_to(carer, "Her last EDSS was 3.5.")
    neuro = signed_in(neurologist)
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{submission.reference}.*?</tr>", squeeze(neuro.get(reverse("queue"))))
    assert "Replied from the status page" in row.group(0) and "The patient replied" not in row.group(0)
    detail = squeeze(neuro.get(detail_url(submission.screening)))
    assert '<h2 id="replies-title">A reply has come from the status page</h2>' in detail
    assert "The patient has replied" not in detail
    decide(submission.screening, neurologist, "refer", "Thank you.")
    detail = squeeze(neuro.get(detail_url(submission.screening)))
    assert '<h2 id="replies-title">Replies from the status page</h2>' in detail
    assert "The patient's replies" not in html.unescape(detail)


def decided_on_a_page_opened_before_a_reply(neurologist, submission, reply, message):
    """The neurologist asks for more information and opens the page; a reply comes; the page's decision is sent."""
    decide(submission.screening, neurologist, "more_info", "Please tell me more.")
    neuro = signed_in(neurologist)
    opened = revision_in(neuro.get(detail_url(submission.screening)).content.decode())
    writer = Client()
    look_up_status(writer, submission)
    reply_to(writer, reply)
    return neuro, neuro.post(reverse("review_decide", args=[submission.screening.pk]),
                             decision_data(submission.screening, message=message, revision=opened))


def test_a_decision_form_refused_by_a_carers_reply_does_not_say_the_patient_replied(neurologist, shipped_criteria):
    """The page above the refused form says the reply came from the status page; the refusal must not contradict it."""
    submission = make_submission(respondent="carer", consent_version=CARER_CONSENT_VERSION)
    _, response = decided_on_a_page_opened_before_a_reply(neurologist, submission, "Her last EDSS was 3.5.",
                                                          "Thank you.")
    page = html.unescape(squeeze(response))
    assert response.status_code == 409
    assert "A reply came from the status page while this page was open. Nothing from this page was saved" in page
    assert "The patient replied" not in page


def test_the_queue_marks_the_submissions_a_carer_filled_in(neuro_client, shipped_criteria):
    carer = make_submission(respondent="carer").screening
    own = make_submission().screening
    content = neuro_client.get(reverse("queue")).content.decode()
    rows = dict(re.findall(r'<tr data-reference="([^"]+)">(.*?)</tr>', content, re.S))
    reference_cell = re.search(r"<th scope=\"row\">(.*?)</th>", rows[carer.reference], re.S).group(1)
    assert "<span data-carer>Filled in by a carer</span>" in reference_cell  # beside the reference, at a glance
    assert "carer" not in rows[own.reference].lower()


def test_marking_carers_submissions_in_the_queue_adds_no_query_per_row(neurologist, shipped_criteria):
    """The mark is read from the facts each row already loads for its red flags: a full page of carers' submissions
    costs what one does."""
    client = signed_in(neurologist)
    template = make_submission(respondent="carer").screening
    count_queries(client, reverse("queue"))
    one = count_queries(client, reverse("queue"))
    clone_submissions(template, 59, prefix="R-CARER", small=True)
    response = client.get(reverse("queue"))
    assert response.content.decode().count("data-carer") == 50  # a full page, each marked
    assert count_queries(client, reverse("queue")) == one


def test_the_detail_says_how_a_walking_estimate_was_derived(neuro_client, shipped_criteria):
    screening = make_submission(**WALKING_ESTIMATE).screening
    assert screening.facts["edss"] == [6.0, 6.5] and screening.facts["edss_source"] == "walking_estimate"
    response = neuro_client.get(detail_url(screening))
    content = response.content.decode()
    row = re.search(r'<tr data-fact="edss">(.*?)</tr>', content, re.S).group(1)
    assert "6.0 to 6.5" in row
    assert "estimated from walking" in row
    assert "Two sticks or crutches, a walking frame or a rollator" in row
    assert "100 to 199 metres" in row


@pytest.mark.parametrize("respondent, aid", [  # the answer as the question put it to whoever gave it
    ("self", "One stick or crutch, or I hold an arm or a wall, even some of the time"),
    ("carer", "One stick or crutch, or they hold an arm or a wall, even some of the time"),
])
def test_a_walking_estimate_is_derived_from_the_answer_as_it_was_given(neuro_client, shipped_criteria, respondent,
                                                                       aid):
    screening = make_submission(**{**WALKING_ESTIMATE, "walking_aid": "one_sided"}, respondent=respondent).screening
    content = neuro_client.get(detail_url(screening)).content.decode()
    row = html.unescape(re.search(r'<tr data-fact="edss">(.*?)</tr>', content, re.S).group(1))
    assert f"estimated from walking: {aid}; 100 to 199 metres" in row


def test_the_detail_says_when_the_edss_was_recorded(neuro_client, shipped_criteria):
    screening = make_submission(edss=3.5).screening
    content = neuro_client.get(detail_url(screening)).content.decode()
    row = re.search(r'<tr data-fact="edss">(.*?)</tr>', content, re.S).group(1)
    assert "3.5" in row and "recorded" in row and "estimated from walking" not in row



def test_the_facts_are_named_in_words_on_the_detail(neuro_client, shipped_criteria):
    screening = make_submission(relapses_12m=2).screening
    content = neuro_client.get(detail_url(screening)).content.decode()
    row = re.search(r'<tr data-fact="relapses_12m">(.*?)</tr>', content, re.S).group(1)
    assert "<th scope=\"row\">Relapses in the last 12 months</th><td>2</td>" in row
    names = re.findall(r'<tr data-fact="[^"]+"><th scope="row">([^<]*)</th>', content)
    assert names and not [name for name in names if "_" in name]  # no internal names such as "edss_source"
    assert "Help: what do these words mean?" not in content  # the patients' glossary is not on reviewers' pages


def test_the_evaluation_summary_names_the_criteria_behind_each_verdict(neuro_client, shipped_criteria):
    """A reviewer sees at a glance which unmet criterion made a set "unlikely", without opening each table."""
    screening = make_submission(edss=6.5, activity_on_dmt="no", activity_on_high_efficacy_dmt="no").screening
    content = neuro_client.get(detail_url(screening)).content.decode()
    row = re.search(r'<tr data-set="article" data-verdict="unlikely">(.*?)</tr>', content, re.S).group(1)
    behind = [code for code, text in re.findall(r'<li data-criterion="([^"]+)">(.*?)</li>', row)
              if "Answer:" in html.unescape(text)]  # not met, rather than not known
    assert sorted(behind) == ["doing_well_on_dmt", "edss_below_6"]
    for entry in screening.snapshot:  # every set says why, unless nothing stands against it
        row = re.search(rf'<tr data-set="{entry["set"]}"[^>]*>(.*?)</tr>', content, re.S).group(1)
        assert ("<li data-criterion=" in row) == (entry["verdict"] != "likely"), entry["set"]


def behind_the_verdict(content, set_code):
    """A set's "Behind the verdict" as read: each criterion's text, by its code."""
    row = re.search(rf'<tr data-set="{set_code}"[^>]*>(.*?)</tr>', content, re.S).group(1)
    return {code: " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())
            for code, text in re.findall(r'<li data-criterion="([^"]+)">(.*?)</li>', row, re.S)}


def test_behind_the_verdict_says_what_was_looked_for_and_what_was_answered(neuro_client, shipped_criteria):
    """"Not had HSCT before: does not match" read as a double negative: as on the patient's result page, each
    criterion says what is looked for, then what the patient answered, or that it is not known."""
    screening = make_submission(prior_hsct=True, relapses_12m=None).screening
    content = neuro_client.get(detail_url(screening)).content.decode()
    behind = behind_the_verdict(content, "ebmt-2020")
    assert behind["no_prior_hsct"] == "Looked for: Not had HSCT before. Answer: had HSCT before"
    everything = [text for entry in screening.snapshot for text in behind_the_verdict(content, entry["set"]).values()]
    assert everything and all(text.startswith("Looked for: ") for text in everything), everything
    assert any(text.endswith(". Not known from the answers given") for text in everything), everything
    assert "does not match" not in " ".join(everything).lower()


def test_the_detail_shows_every_set_from_the_snapshot(neuro_client, shipped_criteria):
    screening = make_submission().screening
    response = neuro_client.get(detail_url(screening))
    content = response.content.decode()
    for entry in screening.snapshot:
        assert f'<tr data-set="{entry["set"]}" data-verdict="{entry["verdict"]}">' in content
    assert len(re.findall(r"<tr data-set=", content)) == len(screening.snapshot) > 1
    assert "criteria have changed" not in content



def criteria_captions(content):
    return [" ".join(caption.split()) for caption in re.findall(r'<caption id="criteria-[^"]+">(.*?)</caption>',
                                                                  content, re.S)]


@pytest.fixture
def criteria_changed_after_submission(shipped_criteria):
    """A 'likely' screening (EDSS 3.5); then the article set's EDSS threshold is lowered to 3.0."""
    screening = make_submission(edss=3.5).screening
    assert screening.primary_verdict == "likely"
    criterion = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    criterion.value = 3.0
    criterion.save()
    return screening


def test_after_a_criteria_change_the_detail_keeps_the_snapshot_and_says_so(neuro_client,
                                                                           criteria_changed_after_submission):
    screening = criteria_changed_after_submission
    content = neuro_client.get(detail_url(screening)).content.decode()
    assert '<tr data-set="article" data-verdict="likely">' in content
    assert "The criteria have changed since this screening was scored" in content
    assert reverse("review_rescore", args=[screening.pk]) in content
    assert not Rescore.objects.exists()



OLDER_CRITERIA = "Scored under older criteria"


def queue_row(client, screening, **filters):
    """The queue row of ``screening``, its white space squeezed."""
    page = client.get(reverse("queue"), filters).content.decode()
    row = page[page.index(f'<tr data-reference="{screening.reference}">'):]
    return " ".join(row[:row.index("</tr>")].split())


def change_primary_criterion(value):
    """An admin's Save of the EDSS threshold of the Article profile (the primary set): a new version of the set."""
    criterion = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    criterion.value = value
    criterion.save()


def test_the_queue_marks_the_submissions_scored_before_the_primary_criteria_changed(neuro_client, shipped_criteria):
    """Nothing in the queue said which verdicts came from criteria since changed: a neurologist triaging by verdict
    read a "Likely" scored before the Article profile's EDSS threshold was lowered as if it were scored today."""
    before = make_submission(edss=3.5).screening
    assert OLDER_CRITERIA not in queue_row(neuro_client, before)
    change_primary_criterion(3.0)
    after = make_submission(edss=3.5).screening  # scored under the criteria as they are now

    row = queue_row(neuro_client, before)
    assert (f'<td data-label="Primary verdict">Likely<br><strong data-older-criteria>{OLDER_CRITERIA}</strong></td>'
            in row)  # words, by its verdict
    assert OLDER_CRITERIA not in queue_row(neuro_client, after)
    assert neuro_client.get(reverse("queue")).content.decode().count(OLDER_CRITERIA) == 1
    detail = " ".join(neuro_client.get(detail_url(before)).content.decode().split())  # opened, it says so too
    assert "The criteria have changed since this screening was scored (Article profile" in detail
    assert (f'<a class="btn btn-outline-secondary" href="{reverse("review_rescore", args=[before.pk])}">'
            "Preview against the current criteria</a>" in detail)

    change_primary_criterion(6.0)  # the threshold put back: still a version after both were scored
    assert OLDER_CRITERIA in queue_row(neuro_client, before) and OLDER_CRITERIA in queue_row(neuro_client, after)


def test_only_a_change_to_the_set_a_verdict_was_scored_under_marks_it(neuro_client, neurologist, shipped_criteria):
    """The queue's verdict is the primary set's as it was scored: another set's edits, or another set made primary,
    do not make it older; that set's own edit after it became primary does, and a withdrawn submission has none."""
    screening = make_submission().screening
    withdrawn = make_submission()
    services.screening_withdraw(screening=withdrawn.screening)
    other = Criterion.objects.filter(criteria_set__code="ebmt-2020").first()
    other.label += " (reworded)"
    other.save()
    request = RequestFactory().post("/")
    request.user = make_user("admin", superuser=True)
    services.criteria_set_make_primary(criteria_set=CriteriaSet.objects.get(code="ebmt-2020"), request=request)
    assert OLDER_CRITERIA not in queue_row(neuro_client, screening)
    change_primary_criterion(3.0)  # the Article profile, no longer primary, is what this verdict was scored under
    assert OLDER_CRITERIA in queue_row(neuro_client, screening)
    assert OLDER_CRITERIA not in queue_row(neuro_client, withdrawn.screening, status="withdrawn")


def test_the_older_criteria_marker_reads_the_versions_once_for_the_whole_page(neuro_client, shipped_criteria):
    """The sets' current versions are read once per page, not once per row: as many queries for fifty marked rows
    as for one."""
    make_submission()
    change_primary_criterion(3.0)
    counts = []
    for rows in (1, 50):
        while Screening.objects.exclude(status="scored").count() < rows:
            make_submission()
        Screening.objects.update(submitted_at=timezone.now())  # any order: the page holds them all
        change_primary_criterion(3.0 + rows / 100)  # every row now scored under older criteria
        count_queries(neuro_client, reverse("queue"))  # warmed up, as the budget test does
        counts.append(count_queries(neuro_client, reverse("queue")))
        assert neuro_client.get(reverse("queue")).content.decode().count(OLDER_CRITERIA) == rows
    assert counts[0] == counts[1], counts


def test_the_criteria_tables_speak_of_the_answers_to_the_neurologist(neuro_client,
                                                                     criteria_changed_after_submission):
    screening = criteria_changed_after_submission
    for url in (detail_url(screening), reverse("review_rescore", args=[screening.pk])):
        content = neuro_client.get(url).content.decode()
        captions = criteria_captions(content)
        assert captions and all(caption.startswith("How the answers compare with") for caption in captions)
        assert answer_headers(content) == {"Answer"} and "Your answer" not in content


def answer_headers(content):
    """What the criteria tables call the answers: their column's header and, on a phone, each card's label."""
    return set(re.findall(r'<th scope="col">([^<]*answer[^<]*)</th>', content, re.I)) | set(
        re.findall(r'<td data-label="([^"]*answer[^"]*)">', content, re.I))


@pytest.mark.parametrize("respondent", ["carer", "self"])
def test_the_answers_are_never_said_to_be_the_patients_when_a_carer_may_have_given_them(
        neuro_client, shipped_criteria, respondent):
    """A carer's submission was labelled "Patient's answer" in every table and under "Behind the verdict": the page
    says once, at its top, who filled it in; the tables say "Answer", true whoever gave it."""
    carers = {"consent_version": CARER_CONSENT_VERSION} if respondent == "carer" else {}
    screening = make_submission(respondent=respondent, edss=6.5, prior_hsct=True, **carers).screening
    change_primary_criterion(3.0)  # for the re-score preview's tables too
    for url in (detail_url(screening), reverse("review_rescore", args=[screening.pk])):
        page = html.unescape(squeeze(neuro_client.get(url)))
        assert "patient's answer" not in page.lower(), url
        assert answer_headers(page) == {"Answer"}, url
        assert all(caption.startswith("How the answers compare with") for caption in criteria_captions(page))
    page = html.unescape(squeeze(neuro_client.get(detail_url(screening))))
    behind = behind_the_verdict(page, "ebmt-2020")
    assert behind["no_prior_hsct"] == "Looked for: Not had HSCT before. Answer: had HSCT before"
    assert page.count(CARER_LINE) == (respondent == "carer")  # said once, near the top: who gave the answers
    if respondent == "carer":
        assert page.index(CARER_LINE) < page.index("<h2>Evaluation</h2>")


def test_the_rescore_preview_shows_the_new_verdict_and_saves_nothing(neuro_client,
                                                                     criteria_changed_after_submission):
    screening = criteria_changed_after_submission
    snapshot_before = Screening.objects.get(pk=screening.pk).snapshot
    audit_before = AuditEvent.objects.count()

    response = neuro_client.get(reverse("review_rescore", args=[screening.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert '<tr data-set="article" data-verdict="unlikely">' in content
    # what changed, in bold
    assert '<td data-label="As scored">Likely (v1)</td>' in content and "<strong>Unlikely (v2)</strong>" in content
    assert not Rescore.objects.exists()
    assert Screening.objects.get(pk=screening.pk).snapshot == snapshot_before
    assert Screening.objects.get(pk=screening.pk).primary_verdict == "likely"
    assert not AuditEvent.objects.filter(action="rescore_saved").exists()
    (viewed,) = AuditEvent.objects.all()[:AuditEvent.objects.count() - audit_before]  # a view of the details
    assert (viewed.action, viewed.screening, viewed.detail) == ("detail_viewed", screening, "re-score preview")


def test_saving_the_rescore_keeps_the_original_snapshot(neuro_client, neurologist,
                                                         criteria_changed_after_submission):
    screening = criteria_changed_after_submission
    snapshot_before = Screening.objects.get(pk=screening.pk).snapshot

    response = neuro_client.post(reverse("review_rescore", args=[screening.pk]), REMOTE_ADDR="192.0.2.9")

    assert response.status_code == 302 and response.url == detail_url(screening)
    # The message waits in a cookie (signed, not encrypted) for the next page: no verdict in it.
    waiting = CookieStorage(HttpRequest())._decode(response.cookies["messages"].value)
    assert [m.message for m in waiting] == [
        "Re-score saved: its verdict is shown below, above the evaluation as first scored, which is kept."]
    rescore = Rescore.objects.get()
    assert rescore.screening == screening and rescore.created_by == neurologist
    assert rescore.primary_verdict == "unlikely" and rescore.scored_on == TODAY
    assert rescore.snapshot[0]["set"] == "article" and rescore.snapshot[0]["version"] == 2
    stored = Screening.objects.get(pk=screening.pk)
    assert stored.snapshot == snapshot_before and stored.primary_verdict == "likely"
    event = AuditEvent.objects.get(action="rescore_saved")
    assert (event.actor, event.screening, event.ip_address) == (neurologist, screening, "192.0.2.9")
    content = neuro_client.get(detail_url(screening)).content.decode()
    assert '<tr data-set="article" data-verdict="likely">' in content
    assert "Re-scored by neuro" in content
    assert "Re-score saved: its verdict is shown below" in content
    assert "Evaluation as first scored" in content


def test_a_re_score_is_set_beside_the_verdict_of_the_same_set_when_another_became_primary(
        neuro_client, neurologist, criteria_changed_after_submission):
    """"Likely, re-scored: Possible" compared the Article profile then with the EBMT guideline now, made primary
    meanwhile. The queue, its filter and the export compare one set's verdicts, and the pages name it."""
    screening = criteria_changed_after_submission
    request = RequestFactory().post("/")
    request.user = make_user("admin", superuser=True)
    services.criteria_set_make_primary(criteria_set=CriteriaSet.objects.get(code="ebmt-2020"), request=request)
    neuro_client.post(reverse("review_rescore", args=[screening.pk]))
    rescore = Rescore.objects.get()
    headline, article = rescore.snapshot[0], next(e for e in rescore.snapshot if e["set"] == "article")
    assert headline["set"] == "ebmt-2020" and headline["verdict"] != article["verdict"] == "unlikely"
    assert rescore.primary_verdict == "unlikely" == Screening.objects.get(pk=screening.pk).rescored_verdict
    response = neuro_client.get(detail_url(screening))
    content = " ".join(response.content.decode().split())
    assert "Re-score saved: its verdict is shown below" in content
    assert ": Unlikely under Article profile (typical HSCT candidate).</p>" in content  # the re-score's own line


def test_a_second_re_score_preview_shows_what_it_would_replace(neuro_client, criteria_changed_after_submission):
    """The preview compared only with the result as first scored: saving then changed the queue's "Re-scored"
    verdict without the preview showing it."""
    screening = criteria_changed_after_submission
    neuro_client.post(reverse("review_rescore", args=[screening.pk]))  # Unlikely under EDSS below 3.0
    criterion = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    criterion.value = 6.0
    criterion.save()
    page = " ".join(neuro_client.get(reverse("review_rescore", args=[screening.pk])).content.decode().split())
    assert "Verdict as scored, as last re-scored, and now" in page and "Last re-score (" in page
    row = page[page.index('<tr data-set="article"'):]
    row = row[:row.index("</tr>")]
    assert re.findall(r'<td data-label="([^"]*)">(.*?)</td>', row) == [  # each labelled, for the cards of a phone
        ("As scored", "Likely (v1)"), (re.search(r"Last re-score \([^)]*\)", page).group(0), "Unlikely (v2)"),
        ("With current criteria", "<strong>Likely (v3)</strong>")]


def test_the_queue_and_the_export_show_a_re_scored_verdict_beside_the_one_submitted(
        neuro_client, criteria_changed_after_submission):
    """A neurologist triaging by verdict saw only "Likely" for a screening re-scored as "Unlikely"."""
    screening = criteria_changed_after_submission
    neuro_client.post(reverse("review_rescore", args=[screening.pk]))
    page = neuro_client.get(reverse("queue")).content.decode()
    row = page[page.index(f'<tr data-reference="{screening.reference}">'):]
    row = " ".join(row[:row.index("</tr>")].split())
    assert ('<td data-label="Primary verdict">Likely<br><strong data-older-criteria>Scored under older criteria'
            '</strong><br><span class="rescored">Re-scored: Unlikely</span></td>') in row
    rows = csv_rows(neuro_client.get(reverse("review_export")))
    assert rows[1][0] == screening.reference and rows[1][2:4] == ["Likely", "Unlikely"]
    for verdict in ("likely", "unlikely"):  # found by either, as the row shows both
        assert references(neuro_client.get(reverse("queue"), {"verdict": verdict})) == [screening.reference]
    assert references(neuro_client.get(reverse("queue"), {"verdict": "possible"})) == []
    criterion = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    criterion.value = 6.0
    criterion.save()
    neuro_client.post(reverse("review_rescore", args=[screening.pk]))  # a later re-score replaces it
    assert references(neuro_client.get(reverse("queue"), {"verdict": "unlikely"})) == []
    assert references(neuro_client.get(reverse("queue"), {"verdict": "likely"})) == [screening.reference]
    assert "Re-scored: Likely" in neuro_client.get(reverse("queue")).content.decode()


def test_a_saved_re_score_can_be_read_set_by_set_on_the_detail_page(neuro_client, criteria_changed_after_submission):
    """Not only its primary verdict: which sets it changed, and the criteria behind each verdict, with the version it
    was scored on, beside the result as first scored."""
    screening = criteria_changed_after_submission
    neuro_client.post(reverse("review_rescore", args=[screening.pk]))
    page = neuro_client.get(detail_url(screening)).content.decode()
    rescore = page[page.index("<details class=\"set-details\" data-rescore>"):]
    rescore = rescore[:rescore.index("</details>")]
    assert "Show this re-score under each set" in rescore
    assert '<tr data-set="article" data-verdict="unlikely">' in rescore
    assert '<li data-criterion="edss_below_6">' in rescore and "<td data-label=\"Version\">2</td>" in rescore  # the new version
    assert rescore.count("<tr data-set=") == CriteriaSet.objects.filter(active=True).count()
    assert 'aria-labelledby="rescore-caption"' in rescore and 'id="rescore-caption"' in rescore
    assert '<tr data-set="article" data-verdict="likely">' in page  # the result as first scored stays


def test_a_re_score_saved_after_the_submission_was_withdrawn_says_so(neuro_client,
                                                                      criteria_changed_after_submission):
    """The preview was open when the patient withdrew: saving it gave "We cannot find this page"."""
    screening = criteria_changed_after_submission
    neuro_client.get(reverse("review_rescore", args=[screening.pk]))
    services.screening_withdraw(screening=Screening.objects.get(pk=screening.pk))
    response = neuro_client.post(reverse("review_rescore", args=[screening.pk]), {"seen": "0"}, follow=True)
    assert response.redirect_chain == [(detail_url(screening), 302)]
    # withdrawn with its codes, by the patient or by a carer who sent it: not said to be the patient's doing
    assert "The re-score was not saved: this submission was withdrawn." in response.content.decode()
    assert not Rescore.objects.exists()
    assert neuro_client.get(reverse("review_rescore", args=[screening.pk])).status_code == 404  # no preview of it


def test_a_re_score_saved_twice_from_one_preview_is_stored_once(neuro_client, criteria_changed_after_submission):
    """A double click on "Save this re-score": one re-score, one audit entry, one message."""
    screening = criteria_changed_after_submission
    preview = neuro_client.get(reverse("review_rescore", args=[screening.pk])).content.decode()
    seen = re.search(r'name="seen" value="(\d+)"', preview).group(1)
    for _click in range(2):
        neuro_client.post(reverse("review_rescore", args=[screening.pk]), {"seen": seen})
    assert Rescore.objects.count() == 1 and AuditEvent.objects.filter(action="rescore_saved").count() == 1
    content = " ".join(neuro_client.get(detail_url(screening)).content.decode().split())
    assert content.count("Re-score saved") == 1
    assert "Not saved again: a re-score of this screening was saved since this preview was opened" in content
    neuro_client.post(reverse("review_rescore", args=[screening.pk]), {"seen": "1"})  # from a new preview: saved
    assert Rescore.objects.count() == 2
    for made_up in ("²", "-1", "x" * 50, "1" * 4301):  # not a count: saved as without one, never a 500
        assert neuro_client.post(reverse("review_rescore", args=[screening.pk]), {"seen": made_up}).status_code == 302


def test_a_re_score_is_not_saved_when_the_criteria_changed_after_its_preview(
        neuro_client, criteria_changed_after_submission):
    """An admin changed a threshold while the preview was open: "Save" stored a verdict nobody had read ("Likely" in
    the preview, "Unlikely" saved). Nothing is saved, and the new preview is shown to read first."""
    screening = criteria_changed_after_submission
    preview = neuro_client.get(reverse("review_rescore", args=[screening.pk])).content.decode()
    form = dict(re.findall(r'<input type="hidden" name="(seen|read)" value="([^"]*)"', preview))
    criterion = Criterion.objects.get(criteria_set__code="article", code="edss_below_6")
    criterion.value = 6.0
    criterion.save()
    response = neuro_client.post(reverse("review_rescore", args=[screening.pk]), form, follow=True)
    assert response.redirect_chain == [(reverse("review_rescore", args=[screening.pk]), 302)]
    page = " ".join(response.content.decode().split())
    assert "Not saved: the criteria were changed while you were reading the preview." in page
    assert not Rescore.objects.exists() and not AuditEvent.objects.filter(action="rescore_saved").exists()
    form = dict(re.findall(r'<input type="hidden" name="(seen|read)" value="([^"]*)"', page))
    neuro_client.post(reverse("review_rescore", args=[screening.pk]), form)  # read, then saved
    assert Rescore.objects.get().snapshot[0]["version"] == criterion.criteria_set.version


def test_after_a_re_score_the_detail_says_only_what_changed_since_it(neuro_client, criteria_changed_after_submission):
    """Once re-scored against today's criteria, "the criteria have changed" would send the neurologist to a preview
    that shows nothing new; it comes back, naming the set, when the criteria change again."""
    screening = criteria_changed_after_submission
    assert "The criteria have changed since this screening was scored" in neuro_client.get(
        detail_url(screening)).content.decode()
    neuro_client.post(reverse("review_rescore", args=[screening.pk]))
    content = neuro_client.get(detail_url(screening)).content.decode()
    assert "The criteria have changed" not in content and "Preview against the current criteria" not in content

    criterion = Criterion.objects.get(criteria_set__code="ebmt-2020", code="age_under_45")
    criterion.value, criterion.label = 50, "Aged under 50"
    criterion.save()
    content = " ".join(neuro_client.get(detail_url(screening)).content.decode().split())
    assert "The criteria have changed since the last re-score (EBMT guideline (2020))." in content


# Each flag says what the patient answered, beside it: which condition, or "I'm not sure" rather than "no".
RED_FLAG_CASES = [
    ("comorbidity", dict(comorbidities=["heart", "cancer"]),
     "Health condition reported — answer: A heart condition, Cancer, now or in the past"),
    ("comorbidity beside mental health", dict(comorbidities=["mental_health", "lung"]),  # each in its own flag
     "Health condition reported — answer: A lung condition</li>"),
    ("mental health", dict(comorbidities=["mental_health"]), "Mental health condition reported"),
    ("pregnancy", dict(pregnancy="planning"),
     "Pregnant, breastfeeding or planning a pregnancy — answer: I am planning a pregnancy in the next 2 years"),
    ("pregnancy, as a carer answered it", dict(pregnancy="pregnant_or_breastfeeding", respondent="carer"),
     "Pregnant, breastfeeding or planning a pregnancy — answer: They are pregnant or breastfeeding"),
    ("prior HSCT", dict(prior_hsct=True), "Has had a stem cell transplant before"),
    ("diagnosis not confirmed", dict(diagnosis_confirmed="no"), "Diagnosis not confirmed by a neurologist — answer: No"),
    ("diagnosis unsure", dict(diagnosis_confirmed="unsure"),
     "Diagnosis not confirmed by a neurologist — answer: I&#x27;m not sure"),
    ("EDSS estimated", WALKING_ESTIMATE, "EDSS estimated from walking, not recorded"),
]
ALL_FLAGS = sorted({flag.split(" — ")[0] for _, _, flag in RED_FLAG_CASES})


def red_flag_section(content):
    match = re.search(r'<section class="red-flags".*?</section>', content, re.S)
    return match.group(0) if match else ""


@pytest.mark.parametrize("changes, flag", [c[1:] for c in RED_FLAG_CASES], ids=[c[0] for c in RED_FLAG_CASES])
def test_each_red_flag_is_listed(neuro_client, shipped_criteria, changes, flag):
    screening = make_submission(**changes).screening
    section = red_flag_section(neuro_client.get(detail_url(screening)).content.decode())
    assert flag in section
    mental = {"Mental health condition reported"} if "mental_health" in changes.get("comorbidities", []) else set()
    assert [f for f in ALL_FLAGS if f in section] == sorted({flag.split(" — ")[0]} | mental)


def test_no_red_flags_when_none_hold(neuro_client, shipped_criteria):
    screening = make_submission().screening
    response = neuro_client.get(detail_url(screening))
    assert response.context["red_flags"] == []
    content = response.content.decode()
    assert red_flag_section(content) == ""
    assert not any(flag in content for flag in ALL_FLAGS)


@pytest.mark.parametrize("respondent", ["self", "carer"])
def test_a_withdrawn_screening_shows_no_answers(neuro_client, shipped_criteria, respondent):
    submission = make_submission(contact_name="Alex Patient", contact_details="alex@example.org", age=41,
                                 respondent=respondent)
    services.screening_withdraw(screening=submission.screening)
    response = neuro_client.get(detail_url(submission.screening))
    assert response.status_code == 200
    content = response.content.decode()
    withdrawn_at = timezone.localtime(Screening.objects.get(pk=submission.screening.pk).withdrawn_at)
    # when, not only that; by whom is not known (a carer who sent it holds the codes too)
    assert f"This submission was withdrawn on {withdrawn_at:%-d %B %Y %H:%M};" in content
    assert "The patient withdrew" not in content
    for gone in ("Alex Patient", "alex@example.org", "How old are you?", "How old is the person", "data-fact=",
                 "data-set=", 'name="decision"', "data-carer"):
        assert gone not in content, gone
    assert neuro_client.get(reverse("review_rescore", args=[submission.screening.pk])).status_code == 404


def test_a_decision_on_a_screening_withdrawn_meanwhile_saves_nothing_and_says_so(neuro_client, shipped_criteria):
    screening = make_submission().screening
    neuro_client.get(detail_url(screening))
    services.screening_withdraw(screening=screening)
    response = neuro_client.post(reverse("review_decide", args=[screening.pk]), decision_data(screening))
    assert response.status_code == 409
    assert ("Your decision was not saved and no message was released: this submission was withdrawn while you were "
            "working on it.") in response.content.decode()
    assert not Review.objects.exists()
    assert Screening.objects.get(pk=screening.pk).status == Screening.Status.WITHDRAWN
    # the page showed nothing of the patient: only the first opening is a view in the audit log
    assert AuditEvent.objects.filter(action="detail_viewed", screening=screening).count() == 1


def test_the_history_shows_a_message_in_its_lines_as_the_patient_reads_it(neuro_client, shipped_criteria):
    screening = make_submission().screening
    neuro_client.post(decide_url(screening), decision_data(screening, message="Dear patient,\n1. Send your MRI.",
                                                           internal_note="Seen\nat MDT"))
    page = neuro_client.get(detail_url(screening)).content.decode()
    assert "Dear patient,<br>1. Send your MRI." in page and "Seen<br>at MDT" in page


def test_colleagues_are_named_by_their_names_where_they_have_them(neuro_client, neurologist, shipped_criteria):
    neurologist.first_name, neurologist.last_name = "Ana", "Silva"
    neurologist.save()
    screening = make_submission().screening
    neuro_client.get(detail_url(screening))
    row = re.search(rf'<tr data-reference="{screening.reference}">(.*?)</tr>',
                    neuro_client.get(reverse("queue")).content.decode(), re.S).group(1)
    assert "In review (Ana Silva)" in row


def test_an_unknown_screening_is_404(neuro_client, db):
    assert neuro_client.get(reverse("review_detail", args=[999999])).status_code == 404


def test_refusals_redirects_and_errors_are_not_cacheable_either(neuro_client, db):
    """Not only the pages: a 404, a 403, a sign-in redirect naming the page asked for and refused forms are all
    sent ``no-store``, so that no shared cache keeps them."""
    denied = signed_in(make_user("someone", staff=True))
    csrf_checked = Client(enforce_csrf_checks=True, raise_request_exception=False)
    responses = {
        "404": neuro_client.get(reverse("review_detail", args=[999999])),
        "403": denied.get(reverse("queue")),
        "sign-in redirect": Client().get(reverse("review_detail", args=[1])),
        "refused form": csrf_checked.post(reverse("start")),
        "form not in UTF-8": Client().post(reverse("start"), b"a=1", content_type="text/plain; charset=latin-1"),
    }
    assert [response.status_code for response in responses.values()] == [404, 403, 302, 403, 400]
    for name, response in responses.items():
        assert "no-store" in response.get("Cache-Control", ""), name


def test_no_workspace_page_pairs_a_screening_with_the_queue_s_filters_in_a_referer(neuro_client, neurologist,
                                                                                  shipped_criteria):
    """A queue filtered by verdict links to each screening, and each screening links (and its release redirects)
    back to that queue: with the site's same-origin policy each of those requests carried the other's address in its
    Referer, which access logs keep beside the address asked for ("GET /review/7/", from "/review/?verdict=unlikely").
    The workspace's pages send their origin alone; a form posted from them still passes the CSRF check."""
    screening = make_submission(age=47).screening
    queue = neuro_client.get(reverse("queue") + f"?verdict={screening.primary_verdict}")
    assert f'href="{reverse("review_detail", args=[screening.pk])}"' in queue.content.decode()
    pages = {
        "queue": queue,
        "detail": neuro_client.get(reverse("review_detail", args=[screening.pk])),
        "re-score preview": neuro_client.get(reverse("review_rescore", args=[screening.pk])),
        "release": neuro_client.post(reverse("review_release", args=[screening.pk])),
        "decide": neuro_client.post(reverse("review_decide", args=[screening.pk]), decision_data(screening)),
    }
    for name, response in pages.items():
        assert response["Referrer-Policy"] == "strict-origin", name  # the origin, never the path or the query
    assert Client().get(reverse("home"))["Referrer-Policy"] == "same-origin"  # the patients' pages as before

    # Origin (sent by browsers under this policy) and a Referer of the origin alone both pass the CSRF check
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(neurologist)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                      checked.get(reverse("review_detail", args=[screening.pk])).content.decode()).group(1)
    for header in ({"HTTP_ORIGIN": "https://testserver"}, {"HTTP_REFERER": "https://testserver/"}):
        response = checked.post(reverse("review_decide", args=[screening.pk]),
                                {**decision_data(Screening.objects.get(pk=screening.pk)), "csrfmiddlewaretoken": token},
                                secure=True, **header)
        assert response.status_code == 302, (header, response.status_code)


@pytest.mark.parametrize("role, way_on", [("neurologist", "/review/"), ("staff_without_permission", "/admin/"),
                                          ("patient", "/")])
def test_error_pages_frame_staff_as_staff_and_patients_as_patients(client, db, role, way_on):
    """A signed-in account's 403 and 404 carry the staff pages' frame (no patients' help or footer), and the 404
    leads a neurologist back to the queue and other staff to the administration; a patient's 404 keeps the help and
    the way to the start page."""
    if role != "patient":
        client.force_login(make_user("someone", neurologist=role == "neurologist", staff=True))
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    content = missing.content.decode()
    assert "We cannot find this page" in content and f'class="btn btn-primary btn-lg" href="{way_on}"' in content
    assert ('class="help-spot"' in content) == (role == "patient")
    assert ('class="site-footer"' in content) == (role == "patient")
    if role == "staff_without_permission":
        denied = client.get(reverse("queue")).content.decode()
        assert "You do not have access" in denied and 'class="help-spot"' not in denied


@pytest.mark.parametrize("role, way_on", [("neurologist", "/review/"), ("admin", "/admin/"),
                                          ("signing_in", "/accounts/login/")])
def test_a_staff_form_from_an_expired_page_says_so_in_staff_words(shipped_criteria, role, way_on):
    """A decision, an admin edit or a sign-in sent from a page opened before the last sign-in (the form's token no
    longer matches) is refused with the staff frame and a way on, not the patients' advice about their answers."""
    browser = Client(enforce_csrf_checks=True)
    if role == "signing_in":
        url, data = reverse("login"), {"username": "neuro", "password": PASSWORD}
    else:
        browser.force_login(make_user("someone", neurologist=role == "neurologist", staff=role == "admin"))
        screening = make_submission().screening
        url = decide_url(screening) if role == "neurologist" else reverse("admin:screening_criterion_changelist")
        data = decision_data(screening)
    response = browser.post(url, data)

    assert response.status_code == 403
    content = response.content.decode()
    assert "This page has expired" in content and "Nothing on it was saved" in content
    assert f'class="btn btn-primary btn-lg" href="{way_on}"' in content
    assert "remember your answers" not in content and 'class="site-footer"' not in content
    assert not Review.objects.exists()


# --- decisions -------------------------------------------------------------------------------------------------


def decide_url(screening):
    return reverse("review_decide", args=[screening.pk])


def decided_wrongly(client, screening, data):
    """A decision that needs correcting: the post is answered with a redirect (303) to the screening's page, never a
    page of its own (Back would have Chrome ask to "Confirm Form Resubmission"); that page, returned, shows it."""
    response = client.post(decide_url(screening), data)
    assert (response.status_code, response["Location"]) == (303, detail_url(screening))
    return client.get(detail_url(screening))


def test_a_decision_is_saved_released_to_the_patient_and_audited(neuro_client, neurologist, shipped_criteria):
    submission = make_submission()
    screening = submission.screening
    neuro_client.get(detail_url(screening))

    response = neuro_client.post(decide_url(screening), decision_data(
        screening, message="Please book an appointment with the transplant team.",
        internal_note="Secret MDT remark."), REMOTE_ADDR="192.0.2.50")

    assert response.status_code == 302 and response.url == detail_url(screening)
    review = Review.objects.get()
    assert (review.screening, review.neurologist, review.decision) == (screening, neurologist, "refer")
    assert review.internal_note == "Secret MDT remark."
    screening.refresh_from_db()
    assert screening.status == Screening.Status.REVIEWED and screening.revision == 1
    event = AuditEvent.objects.get(action="decision_saved")
    assert (event.actor, event.screening, event.ip_address, event.detail) == (
        neurologist, screening, "192.0.2.50", "refer")
    shown = neuro_client.get(response.url).content.decode()
    assert "Decision saved. The message is now on the submission&#x27;s status page." in shown

    patient = Client()
    look_up_status(patient, submission)
    page = patient.get(reverse("status_detail")).content.decode()
    assert "Please book an appointment with the transplant team." in page
    assert 'data-decision="refer"' in page and 'data-status="reviewed"' in page
    assert "Secret MDT remark." not in page


@pytest.mark.parametrize("decision, words, next_step", [
    ("more_info", "The neurologist needs more information from you",
     "You can reply here, or, if your answers have changed since you sent them, do the check again"),
    ("refer", "The neurologist suggests a referral for an HSCT assessment", "A referral is for an assessment"),
    ("not_suitable", "The neurologist does not suggest HSCT for you at the moment",
     "This is about HSCT now, from the answers you sent. It does not change your usual MS care"),
])
def test_the_patient_is_told_what_a_decision_means_for_them(client, neuro_client, shipped_criteria, decision, words,
                                                            next_step):
    """"Not suitable now" on its own, above the red "Withdraw and erase", would leave a person with no way on; and
    the staff's own words for it ("Refer for transplant assessment", "Not suitable now") read as an instruction or
    a blunt verdict: the patient reads what the neurologist suggests."""
    submission = make_submission()
    neuro_client.post(decide_url(submission.screening), decision_data(submission.screening, decision))
    look_up_status(client, submission)
    page = html.unescape(client.get(reverse("status_detail")).content.decode())
    assert f'data-decision="{decision}"' in page and f"<strong>{words}</strong>" in page
    assert str(Review.Decision(decision).label) not in page
    for text in ("If your answers have changed since", "A referral is for an assessment", "This is about HSCT now"):
        assert (text in page) == (text in next_step), text


def test_a_changed_decision_tells_the_patient_it_replaces_the_earlier_one(client, neuro_client, shipped_criteria):
    """A "Refer" read yesterday, replaced today by "Not suitable now": the status page says it was replaced (a
    corrected message with the same decision, or one from a colleague, is a replacement too: not "changed")."""
    submission = make_submission()
    screening = submission.screening
    neuro_client.post(decide_url(screening), decision_data(screening, "refer"))
    look_up_status(client, submission)
    page = html.unescape(client.get(reverse("status_detail")).content.decode())
    assert "This replaces an earlier message" not in page
    screening.refresh_from_db()
    saved = neuro_client.post(decide_url(screening), decision_data(screening, "not_suitable"), follow=True)
    # the neurologist is told that nobody is told of the change beyond the status page (read by the patient, or a
    # carer who sent it: not named "the patient's")
    assert "Nobody is told of the change in any other way: if it matters, use the contact details" in html.unescape(
        saved.content.decode())
    page = html.unescape(client.get(reverse("status_detail")).content.decode())
    assert 'data-decision="not_suitable"' in page and "This replaces an earlier message" in page
    assert re.search(r"at the moment</strong> — \d{1,2} \w+ \d{4}, \d\d:\d\d", page)  # the time too


def test_before_a_decision_the_patient_sees_no_message(client, neuro_client, shipped_criteria):
    submission = make_submission()
    neuro_client.get(detail_url(submission.screening))
    look_up_status(client, submission)
    page = client.get(reverse("status_detail")).content.decode()
    assert "There is no message yet" in page and 'data-status="in_review"' in page


@pytest.mark.parametrize("data", [
    {"decision": "approve"}, {"decision": ""}, {"message": ""}, {"revision": ""}, {"revision": "abc"},
], ids=["unknown decision", "no decision", "no message", "no revision", "bad revision"])
def test_an_invalid_decision_is_a_form_error(neuro_client, shipped_criteria, data):
    screening = make_submission().screening
    posted = {**decision_data(screening, message="Typed text that must survive."), **data}
    response = decided_wrongly(neuro_client, screening, posted)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Review.objects.exists()
    screening.refresh_from_db()
    assert screening.revision == 0 and screening.status != Screening.Status.REVIEWED
    if data.get("message") != "":
        assert "Typed text that must survive." in response.content.decode()


def test_a_decision_to_correct_is_shown_once_after_a_redirect_so_back_never_posts_it_again(neuro_client,
                                                                                           shipped_criteria):
    """Back after a decision that needed correcting opened Chrome's "Confirm Form Resubmission" page: the post's
    answer was a page of its own. Now the screening's page shows the form as typed, with its messages, once; what
    waited for it in the session was what was typed and nothing else, and only for that screening."""
    screening, other = make_submission().screening, make_submission().screening
    typed = {**decision_data(screening, decision="", message="Typed & kept", internal_note="A note"),
             "csrfmiddlewaretoken": "a-token"}
    response = neuro_client.post(decide_url(screening), typed)
    assert (response.status_code, response["Location"]) == (303, detail_url(screening))
    stored = Session.objects.get(session_key=neuro_client.session.session_key).get_decoded()
    kept = QueryDict(stored[review_views.DECISION_TYPED]["typed"])
    assert kept.dict() == {"decision": "", "message": "Typed & kept", "internal_note": "A note", "revision": "0"}
    page = squeeze(neuro_client.get(detail_url(screening)))
    assert "<title>Error: Screening" in page
    assert '<a href="#id_decision_0">Your decision: Choose a decision.</a>' in page
    assert "Typed &amp; kept</textarea>" in page and "A note</textarea>" in page
    again = squeeze(neuro_client.get(detail_url(screening)))  # reloaded: the form as it is when opened
    assert "Error:" not in again and "Typed &amp; kept" not in again and "Choose a decision." not in again
    neuro_client.post(decide_url(screening), typed)
    elsewhere = squeeze(neuro_client.get(detail_url(other)))  # another screening's page, opened meanwhile
    assert "Typed &amp; kept" not in elsewhere and "Choose a decision." not in elsewhere
    assert "Typed &amp; kept" not in squeeze(neuro_client.get(detail_url(screening)))  # shown once: by the next page
    response = neuro_client.post(decide_url(screening), decision_data(screening, message="Now chosen."))
    assert (response.status_code, response["Location"]) == (302, detail_url(screening))
    assert Review.objects.get().message == "Now chosen."


@pytest.mark.parametrize("data, words", [({"decision": ""}, "Choose a decision."),
                                         ({"message": ""}, "Write a message to the patient."),
                                         ({"message": "x" * 5001}, "This is 1 character too long. Shorten it to 5,000 characters or fewer."),
                                         ({"internal_note": "x" * 5010}, "This is 10 characters too long. Shorten it to 5,000 characters or fewer.")])
def test_a_decision_left_incomplete_or_too_long_says_what_to_do(neuro_client, shipped_criteria, data, words):
    screening = make_submission().screening
    response = decided_wrongly(neuro_client, screening, {**decision_data(screening), **data})
    assert response.status_code == 200 and words in response.content.decode()
    assert not Review.objects.exists()
    assert "maxlength" not in response.content.decode()  # a browser would cut pasted text short without a word


def legends(content):
    """The fieldsets' legends as read, without the asterisk of a required one."""
    return [re.sub(r"<[^>]+>|\*", "", text).strip()
            for text in re.findall(r"<legend[^>]*>(.*?)</legend>", content, re.S)]


def test_the_decision_form_says_what_is_chosen_not_its_heading_again(neuro_client, shipped_criteria):
    """Under the heading "Decision", the radio buttons' legend "Decision" was read out twice in a row: the legend
    says what is chosen, and the error summary names the field by it."""
    screening = make_submission().screening
    content = neuro_client.get(detail_url(screening)).content.decode()
    assert '<h2 id="decision">Decision</h2>' in content
    assert legends(content) == ["Your decision"]
    response = decided_wrongly(neuro_client, screening, {**decision_data(screening), "decision": ""})
    assert legends(response.content.decode()) == ["Your decision"]
    assert '<a href="#id_decision_0">Your decision: Choose a decision.</a>' in response.content.decode()


def test_the_link_to_the_decision_says_there_is_one_to_see_once_saved(neuro_client, shipped_criteria):
    """"Go to the decision form" above a screening decided on read as if nothing had been decided: the link leads to
    the decision saved (its history) as well as to the form that replaces it."""
    screening = make_submission().screening
    before = neuro_client.get(detail_url(screening)).content.decode()
    assert '<a href="#decision">Go to the decision form</a>' in before
    neuro_client.post(decide_url(screening), decision_data(screening, "refer"))
    after = neuro_client.get(detail_url(screening)).content.decode()
    assert '<a href="#decision">See or change the decision</a>' in after
    assert "Go to the decision form" not in after


@pytest.mark.parametrize("decision", ["refer", "more_info", "not_suitable"])
def test_each_decision_can_be_recorded(neuro_client, shipped_criteria, decision):
    screening = make_submission().screening
    response = neuro_client.post(decide_url(screening), decision_data(screening, decision=decision))
    assert response.status_code == 302
    assert Review.objects.get().decision == decision


def test_the_decision_history_keeps_every_decision(neuro_client, shipped_criteria):
    submission = make_submission()
    screening = submission.screening
    html = neuro_client.get(detail_url(screening)).content.decode()
    assert revision_in(html) == 0
    neuro_client.post(decide_url(screening), decision_data(screening, "more_info", "Please send your MRI report.",
                                                           revision=0))
    html = neuro_client.get(detail_url(screening)).content.decode()
    assert revision_in(html) == 1

    response = neuro_client.post(decide_url(screening), decision_data(
        screening, "refer", "Thank you; we will refer you.", revision=1))

    assert response.status_code == 302
    assert Review.objects.filter(screening=screening).count() == 2
    screening.refresh_from_db()
    assert screening.revision == 2
    html = neuro_client.get(detail_url(screening)).content.decode()
    history = re.search(r'<ol class="decision-history">(.*?)</ol>', html, re.S).group(1)
    assert re.findall(r'data-decision="(\w+)"', history) == ["refer", "more_info"]
    assert "Please send your MRI report." in history and "Thank you; we will refer you." in history
    # which message the patient reads now, and that a new decision would replace it
    newest, older = re.findall(r"<li data-decision.*?</li>", history, re.S)
    assert "The patient sees this message now" in newest and "Replaced by a later decision" in older
    assert "A new decision replaces the message the patient sees now" in html
    assert AuditEvent.objects.filter(action="decision_saved", screening=screening).count() == 2

    patient = Client()
    look_up_status(patient, submission)
    page = patient.get(reverse("status_detail")).content.decode()
    assert "Thank you; we will refer you." in page and "Please send your MRI report." not in page


def test_a_decision_saved_from_another_tab_is_named_as_the_neurologist_s_own(neuro_client, shipped_criteria):
    """The same neurologist with the screening open in two tabs is not told that a colleague got there first."""
    screening = make_submission().screening
    revision = revision_in(neuro_client.get(detail_url(screening)).content.decode())
    assert neuro_client.post(decide_url(screening), decision_data(
        screening, "refer", "Sent from the first tab.", "", revision=revision)).status_code == 302
    response = neuro_client.post(decide_url(screening), decision_data(
        screening, "more_info", "Typed in the second tab.", "", revision=revision))
    assert response.status_code == 409
    content = response.content.decode()
    assert "You saved a decision on this screening in another tab or window" in content
    assert "Another neurologist" not in content
    assert "Typed in the second tab." in content
    assert list(Review.objects.values_list("decision", flat=True)) == ["refer"]


def test_a_colleague_s_decision_is_named_even_after_one_s_own_from_another_tab(neuro_client, shipped_criteria):
    screening = make_submission().screening
    revision = revision_in(neuro_client.get(detail_url(screening)).content.decode())
    colleague = signed_in(make_user("colleague", neurologist=True))
    assert colleague.post(decide_url(screening), decision_data(screening, revision=revision)).status_code == 302
    assert neuro_client.post(decide_url(screening), decision_data(screening, revision=revision + 1)).status_code == 302
    response = neuro_client.post(decide_url(screening), decision_data(screening, "more_info", revision=revision))
    assert response.status_code == 409
    assert "Another neurologist saved a decision" in response.content.decode()


def test_one_s_own_decision_from_another_tab_after_a_reply_is_not_named_a_colleague_s(neuro_client, neurologist,
                                                                                        shipped_criteria):
    """A colleague asked for more information; the patient replied; this neurologist answered it in one tab, then
    saves the page they had opened before the reply. The reply moved the revision too: it is not a decision, and
    the colleague's request before it is not one saved since the page was opened."""
    submission = make_submission()
    screening = submission.screening
    colleague = make_user("colleague", neurologist=True)
    decide(screening, colleague, "more_info", "Please send your MRI report.")
    opened = revision_in(neuro_client.get(detail_url(screening)).content.decode())
    patient = Client()
    look_up_status(patient, submission)
    assert reply_to(patient, "Two new lesions.").status_code == 302
    fresh = revision_in(neuro_client.get(detail_url(screening)).content.decode())
    assert neuro_client.post(decide_url(screening), decision_data(
        screening, "refer", "Sent from the fresh tab.", "", revision=fresh)).status_code == 302
    response = neuro_client.post(decide_url(screening), decision_data(
        screening, "not_suitable", "Typed in the old tab.", "", revision=opened))
    assert response.status_code == 409
    content = response.content.decode()
    assert "You saved a decision on this screening in another tab or window" in content
    assert "Another neurologist" not in content


def test_two_neurologists_saving_the_same_screening(shipped_criteria):
    screening = make_submission().screening
    first_user, second_user = make_user("first", neurologist=True), make_user("second", neurologist=True)
    first, second = signed_in(first_user), signed_in(second_user)
    first_revision = revision_in(first.get(detail_url(screening)).content.decode())
    second_revision = revision_in(second.get(detail_url(screening)).content.decode())
    assert first_revision == second_revision == 0

    saved = first.post(decide_url(screening), decision_data(
        screening, "refer", "First neurologist's message.", "First note.", revision=first_revision))
    assert saved.status_code == 302

    response = second.post(decide_url(screening), decision_data(
        screening, "not_suitable", "Second neurologist typed this carefully.", "Second note.",
        revision=second_revision), REMOTE_ADDR="192.0.2.77")

    assert response.status_code == 409
    content = response.content.decode()
    assert "Another neurologist" in content
    assert "Second neurologist typed this carefully." in content
    assert "Second note." in content
    assert revision_in(content) == 1  # saving again now is possible, knowingly
    assert "First neurologist&#x27;s message." in content  # their decision is shown
    review = Review.objects.get()
    assert (review.neurologist, review.decision, review.message) == (first_user, "refer",
                                                                     "First neurologist's message.")
    screening.refresh_from_db()
    assert screening.revision == 1 and screening.status == Screening.Status.REVIEWED
    event = AuditEvent.objects.get(action="decision_conflict")
    assert (event.actor, event.screening, event.ip_address) == (second_user, screening, "192.0.2.77")
    assert AuditEvent.objects.filter(action="decision_saved").count() == 1

    # The second neurologist, now informed, saves on the new revision: a new history entry, nothing overwritten.
    again = second.post(decide_url(screening), decision_data(
        screening, "not_suitable", "Second neurologist typed this carefully.", revision=revision_in(content)))
    assert again.status_code == 302
    assert list(Review.objects.order_by("pk").values_list("neurologist__username", "decision")) == [
        ("first", "refer"), ("second", "not_suitable")]


def test_a_stale_revision_never_overwrites(neuro_client, shipped_criteria):
    screening = make_submission().screening
    neuro_client.post(decide_url(screening), decision_data(screening, revision=0))
    response = neuro_client.post(decide_url(screening), decision_data(screening, "not_suitable", revision=0))
    assert response.status_code == 409
    assert list(Review.objects.values_list("decision", flat=True)) == ["refer"]
    response = neuro_client.post(decide_url(screening), decision_data(screening, message="Other words.", revision=57))
    assert response.status_code == 409
    assert Review.objects.count() == 1


def test_a_decision_sent_twice_by_a_double_click_reads_as_saved(neuro_client, shipped_criteria):
    """The second click of a double click arrives with the revision the first one used: its decision and message are
    the saved ones, so "Nothing from this page was saved" would be untrue."""
    screening = make_submission().screening
    data = decision_data(screening, revision=0)
    assert neuro_client.post(decide_url(screening), data).status_code == 302
    response = neuro_client.post(decide_url(screening), data, follow=True)
    assert response.status_code == 200 and "Decision saved." in response.content.decode()
    assert Review.objects.count() == 1


@pytest.mark.parametrize("revision", ["-1", "-1000000000000000000000000000000", "99999999999999999999"])
def test_a_revision_out_of_range_is_a_form_error_not_a_500(neuro_client, shipped_criteria, revision):
    screening = make_submission().screening
    response = decided_wrongly(neuro_client, screening, decision_data(screening, revision=revision))
    assert response.status_code == 200 and not Review.objects.exists()


# --- the audit log ---------------------------------------------------------------------------------------------


def test_audit_events_cannot_be_changed_or_deleted(db):
    event = services.audit("login")
    event.detail = "tampered"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).detail == ""


def test_the_database_refuses_to_change_or_delete_audit_events_whatever_the_code(db):
    """Not only the model: a bulk update or delete (the shell, a bug, raw SQL) is refused by the database itself.
    Only PostgreSQL, the production database, refuses a delete: Django empties SQLite's tables with DELETE."""
    event = services.audit("login", detail="as it happened")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(detail="tampered")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(screening=None, detail="tampered")
    deleted = False
    try:
        with transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
            deleted = True
    except IntegrityError:
        pass
    assert deleted == (connection.vendor != "postgresql")
    if not deleted:
        assert AuditEvent.objects.get(pk=event.pk).detail == "as it happened"


def test_a_purged_result_leaves_its_audit_entries_unlinked_but_whole(shipped_criteria):
    """The one change the database allows: a deleted screening's entries lose their link to it (SET_NULL)."""
    screening = make_scored()
    event = services.audit("status_viewed", screening=screening, detail="kept")
    Screening.objects.filter(pk=screening.pk).update(created_at=timezone.now() - timedelta(days=400))
    assert services.purge_stale(before=timezone.now() - timedelta(days=30))[1] == 1
    assert AuditEvent.objects.filter(pk=event.pk).values_list("screening", "action", "detail").get() == (
        None, "status_viewed", "kept")


def test_the_admin_shows_the_audit_log_read_only(client, shipped_criteria):
    admin = make_user("admin", superuser=True)
    screening = make_submission().screening
    event = services.audit("detail_viewed", screening=screening)
    client.force_login(admin)

    changelist = client.get(reverse("admin:screening_auditevent_changelist"))
    assert changelist.status_code == 200
    assert "detail_viewed" in changelist.content.decode()
    assert client.get(reverse("admin:screening_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:screening_auditevent_add"), {"action": "login"}).status_code == 403
    assert client.get(reverse("admin:screening_auditevent_delete", args=[event.pk])).status_code == 403
    assert client.post(reverse("admin:screening_auditevent_delete", args=[event.pk]),
                       {"post": "yes"}).status_code == 403
    client.post(reverse("admin:screening_auditevent_change", args=[event.pk]),
                {"action": "login", "detail": "tampered"})
    client.post(reverse("admin:screening_auditevent_changelist"),
                {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    event.refresh_from_db()
    assert (event.action, event.detail) == ("detail_viewed", "")
    assert AuditEvent.objects.filter(pk=event.pk).exists()

    from django.contrib import admin as django_admin
    model_admin = django_admin.site._registry[AuditEvent]
    request = changelist.wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


def test_deleting_a_user_in_the_admin_does_not_rewrite_who_did_what(client, shipped_criteria):
    """The log says who did what: removing an account must not silently blank the actor of its entries."""
    screening = make_submission().screening
    leaver = make_user("leaver", neurologist=True)
    signed_in(leaver).get(detail_url(screening))
    event = AuditEvent.objects.get(action="detail_viewed")
    client.force_login(make_user("admin", superuser=True))

    client.post(reverse("admin:screening_user_delete", args=[leaver.pk]), {"post": "yes"})

    event.refresh_from_db()
    assert event.actor_id == leaver.pk


def test_every_audited_event_says_who_what_which_and_from_where(shipped_criteria, neurologist):
    screening = make_submission().screening
    client = signed_in(neurologist)
    ip = "203.0.113.5"
    client.get(detail_url(screening), REMOTE_ADDR=ip)
    client.post(decide_url(screening), decision_data(screening, revision=0), REMOTE_ADDR=ip)
    client.post(decide_url(screening), decision_data(screening, revision=0), REMOTE_ADDR=ip)  # conflict
    client.post(reverse("review_rescore", args=[screening.pk]), REMOTE_ADDR=ip)
    for action in ("detail_viewed", "decision_saved", "decision_conflict", "rescore_saved"):
        event = AuditEvent.objects.get(action=action)
        assert (event.actor, event.screening, event.ip_address) == (neurologist, screening, ip), action
        assert event.created_at is not None
    client.get(reverse("review_export"), REMOTE_ADDR=ip)
    event = AuditEvent.objects.get(action="exported")
    assert (event.actor, event.ip_address) == (neurologist, ip)
    client.get(reverse("queue"), {"status": "any", "page": "1"}, REMOTE_ADDR=ip)  # its red flags are health data
    event = AuditEvent.objects.get(action="queue_viewed")
    assert (event.actor, event.ip_address, event.detail) == (neurologist, ip, "status=any&page=1")


# --- CSV export ------------------------------------------------------------------------------------------------


EXPORT_HEADER = ["Reference", "Submitted (Europe/London)", "Primary verdict", "Re-scored verdict (latest)", "Status",
                 "Last decision", "Red flags", "Filled in by a carer", "Scored under older criteria"]


@pytest.fixture
def export_mix(shipped_criteria):
    waiting = make_submission(contact_name="Alex Patient", contact_details="alex@example.org")
    unlikely = make_submission(ms_type="ppms", contact_name="Sam Other", contact_details="07700 900123")
    reviewed = make_submission(contact_name="Reviewed Person")
    set_status(reviewed.screening, Screening.Status.REVIEWED)
    make_scored()
    return dict(waiting=waiting, unlikely=unlikely, reviewed=reviewed)


def test_the_export_is_a_streamed_csv_of_the_waiting_queue_without_contact(neuro_client, neurologist,
                                                                          export_mix):
    response = neuro_client.get(reverse("review_export"))
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    rows = csv_rows(response)
    assert rows[0] == EXPORT_HEADER
    assert [row[0] for row in rows[1:]] == [export_mix["waiting"].reference, export_mix["unlikely"].reference]
    body = "\n".join(",".join(row) for row in rows)
    for contact in ("Alex Patient", "alex@example.org", "Sam Other", "07700 900123", "contact"):
        assert contact not in body
    event = AuditEvent.objects.get(action="exported")
    assert event.actor == neurologist and event.ip_address == "127.0.0.1"
    assert "with contact" not in event.detail and event.detail.startswith("2 rows")  # how many people's data left


def test_the_export_follows_the_filters(neuro_client, export_mix):
    rows = csv_rows(neuro_client.get(reverse("review_export"), {"verdict": "unlikely"}))
    assert [row[0] for row in rows[1:]] == [export_mix["unlikely"].reference]
    assert rows[1][2:5] == ["Unlikely", "", "Submitted"]  # as the queue reads, not "unlikely"
    rows = csv_rows(neuro_client.get(reverse("review_export"), {"status": "reviewed"}))
    assert [row[0] for row in rows[1:]] == [export_mix["reviewed"].reference]
    rows = csv_rows(neuro_client.get(reverse("review_export"), {"reference": export_mix["waiting"].reference}))
    assert [row[0] for row in rows[1:]] == [export_mix["waiting"].reference]
    rows = csv_rows(neuro_client.get(reverse("review_export"), {"submitted_to": "2000-01-01"}))
    assert rows[1:] == []
    event = AuditEvent.objects.filter(action="exported").latest("pk")
    assert "submitted_to=2000-01-01" in event.detail


def test_a_reference_searched_is_audited_without_the_health_filters_beside_it(neuro_client, export_mix):
    """The audit log outlives a withdrawal: an entry pairing a reference with a verdict or a decision would keep
    what that person's result was. The auditor still reads whose reference was searched, and that a verdict or a
    decision filter was used with it; without a reference, the filters are kept as applied (nobody is named)."""
    reference = export_mix["unlikely"].reference
    search = {"reference": reference, "verdict": "unlikely", "decision": "none", "status": "submitted"}
    for form in (QueueFilterForm(QueryDict(urlencode(search))), ExportForm(QueryDict(urlencode(search)))):
        assert form.audited() == {"reference": reference, "status": "submitted", "verdict": "withheld",
                                  "decision": "withheld"}
    # the pages send such an address to the reference alone: nothing is left to withhold
    neuro_client.get(reverse("queue"), search, follow=True)
    neuro_client.get(reverse("review_export"), search, follow=True)
    for action in ("queue_viewed", "exported"):
        detail = AuditEvent.objects.get(action=action).detail
        assert f"reference={reference}" in detail, action
        assert "unlikely" not in detail and "decision" not in detail and "verdict" not in detail, action
    neuro_client.get(reverse("queue"), {"verdict": "unlikely", "page": "1"})
    assert AuditEvent.objects.filter(action="queue_viewed").latest("pk").detail == "verdict=unlikely&page=1"
    neuro_client.get(reverse("review_export"), {"verdict": "unlikely"})
    assert AuditEvent.objects.filter(action="exported").latest("pk").detail == "1 rows; verdict=unlikely"


def test_the_export_includes_contact_only_when_asked(neuro_client, export_mix):
    response = export_with_contact(neuro_client)
    # named for what it holds, so that it is not shared or kept as the file without them
    assert re.search(r'filename="screenings-\d{4}-\d\d-\d\d-with-contact-details\.csv"',
                     response["Content-Disposition"])
    rows = csv_rows(response)
    assert rows[0] == EXPORT_HEADER + ["Contact name", "Contact details"]
    by_reference = {row[0]: row for row in rows[1:]}
    assert by_reference[export_mix["waiting"].reference][9:] == ["Alex Patient", "alex@example.org"]
    assert by_reference[export_mix["unlikely"].reference][9:] == ["Sam Other", "07700 900123"]
    event = AuditEvent.objects.get(action="exported")
    assert event.detail.startswith("2 rows; with contact")
    assert "with-contact" not in neuro_client.get(reverse("review_export"))["Content-Disposition"]


def export_buttons(response):
    """The queue's two export links as (text, address), in the page's order."""
    found = re.findall(r'<a class="(btn [^"]*)" href="([^"]*)" data-export[^>]*>([^<]*)</a>', response.content.decode())
    return [(" ".join(text.split()), style, html.unescape(href)) for style, href, text in found]


def test_the_contact_details_are_downloaded_only_from_a_page_that_says_what_the_file_holds(neuro_client,
                                                                                        export_mix):
    """The two exports were 21 px tall links 17 px apart on one line: a slip downloaded the file with the patients'
    names and contact details at once. Now the file without them is the first button; the one with them a secondary
    button below, which leads to a page saying how many people's details the file holds, with the download and a way
    back to the queue as it was filtered. Only that page's button downloads it, and only then is it audited."""
    queue = neuro_client.get(reverse("queue"), {"verdict": "unlikely"})
    (plain, contact) = export_buttons(queue)
    assert plain == ("Download the 1 screening as CSV (no contact details)", "btn btn-primary",
                     f"{reverse('review_export')}?verdict=unlikely")
    assert contact == ("Download with names and contact details…", "btn btn-outline-secondary",
                       f"{reverse('review_export')}?verdict=unlikely&include_contact=on")
    confirm = neuro_client.get(contact[2])
    assert confirm.status_code == 200 and not confirm.streaming
    page = squeeze(confirm)
    assert ("This file holds the name and contact details of 1 patient (the filtered queue). Keep it safe" in page)
    assert "Sam Other" not in page and "07700 900123" not in page  # what it holds is in the file only
    assert f'<form method="post" action="{reverse("review_export")}?verdict=unlikely&amp;include_contact=on">' in page
    assert '<button type="submit" class="btn btn-primary">Download with contact details</button>' in page
    assert f'<a href="{reverse("queue")}?verdict=unlikely">Back to the queue</a>' in page  # its filters kept
    assert "no-store" in confirm["Cache-Control"]
    assert not AuditEvent.objects.filter(action="exported").exists()  # nothing left yet
    rows = csv_rows(neuro_client.post(contact[2]))
    assert [row[9:] for row in rows[1:]] == [["Sam Other", "07700 900123"]]
    assert AuditEvent.objects.get(action="exported").detail == "1 rows; with contact; verdict=unlikely"
    # the whole waiting queue: the names and details of both
    assert "the names and contact details of 2 patients (the filtered queue)" in squeeze(
        neuro_client.get(reverse("review_export"), {"include_contact": "on"}))


def test_the_export_button_says_the_file_holds_every_screening_filtered_not_the_page_shown(neuro_client,
                                                                                         shipped_criteria):
    """On page 2 (22 rows shown) the button said "Download these", and the file held all 72."""
    clone_submissions(make_submission().screening, 71, prefix="R-ALL")
    second = neuro_client.get(reverse("queue"), {"page": 2})
    assert len(references(second)) == 22
    assert export_buttons(second)[0][:2] == ("Download all 72 as CSV (no contact details)", "btn btn-primary")
    assert len(csv_rows(neuro_client.get(export_buttons(second)[0][2]))) == 73  # the header and 72
    # nothing to download: no button to download nothing
    assert export_buttons(neuro_client.get(reverse("queue"), {"status": "withdrawn"})) == []


def test_the_export_shows_the_last_decision(neuro_client, neurologist, export_mix):
    screening = export_mix["reviewed"].screening
    decide(screening, neurologist, "more_info", "a")
    decide(screening, neurologist, "refer", "b")
    rows = csv_rows(neuro_client.get(reverse("review_export"), {"status": "reviewed"}))
    assert rows[1][0] == screening.reference and rows[1][5] == "Refer for transplant assessment"



def test_the_export_lists_each_submissions_red_flags_as_the_queue_does(neuro_client, shipped_criteria):
    """Triage from the file as from the queue: which rows mention a pregnancy or a heart condition."""
    flagged = make_submission(pregnancy="planning", comorbidities=["heart"]).screening
    plain = make_submission().screening
    rows = {row[0]: row for row in csv_rows(neuro_client.get(reverse("review_export")))[1:]}
    assert rows[flagged.reference][6] == ("Health condition reported; "
                                          "Pregnant, breastfeeding or planning a pregnancy")
    assert rows[plain.reference][6] == ""


def test_the_export_marks_a_carers_submission_and_one_scored_under_older_criteria_as_the_queue_does(
        neuro_client, shipped_criteria):
    """Triage from the file as from the queue: whom a message will reach (a carer holds the codes), and which
    verdicts came from criteria since changed. A mark reads "Yes"; a row without it, an empty cell."""
    older = make_submission().screening  # scored under the Article profile's EDSS threshold before it was lowered
    change_primary_criterion(3.0)
    carer = make_submission(respondent="carer").screening
    plain = make_submission().screening
    withdrawn = make_submission(respondent="carer")
    services.screening_withdraw(screening=withdrawn.screening)  # its facts and scoring erased: nothing left to mark

    rows = csv_rows(neuro_client.get(reverse("review_export"), {"status": "any"}))
    assert rows[0][7:] == ["Filled in by a carer", "Scored under older criteria"]
    marks = {row[0]: row[7:] for row in rows[1:]}
    assert marks == {older.reference: ["", "Yes"], carer.reference: ["Yes", ""], plain.reference: ["", ""],
                     withdrawn.reference: ["", ""]}
    queue = squeeze(neuro_client.get(reverse("queue")))  # the very rows the queue marks
    assert queue.count("data-carer") == 1 and queue.count(OLDER_CRITERIA) == 1


def test_the_export_opens_in_a_spreadsheet_as_the_pages_read(neuro_client, shipped_criteria):
    """UTF-8 that spreadsheets recognise (names with accents), and times in UK time to the minute, as on screen."""
    submission = make_submission(contact_name="Zoë Ørsted-Łukasz")
    Screening.objects.filter(pk=submission.screening.pk).update(
        submitted_at=datetime(2026, 7, 1, 11, 30, 15, 123456, tzinfo=UTC))
    response = export_with_contact(neuro_client)
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    (row,) = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]
    assert row[1] == "2026-07-01 12:30"  # British Summer Time
    assert row[9] == "Zoë Ørsted-Łukasz"


@pytest.mark.parametrize("query", [{"include_contact": "maybe"}, {"submitted_from": "garbage"},
                                   {"submitted_from": "2026-12-01", "submitted_to": "2026-01-01"},
                                   {"status": "bogus", "include_contact": "on"}, {"page": "x" * 5000}])
def test_garbage_export_parameters_never_crash(neuro_client, export_mix, query):
    response = neuro_client.get(reverse("review_export"), query, follow=True)
    assert response.status_code == 200
    if response.streaming:
        assert csv_rows(response)[0][0] == "Reference"
    elif "include_contact" in query and not query.get("status"):  # asked for: its confirmation, nothing downloaded
        assert "This file holds the names and contact details of 2 patients" in squeeze(response)
        assert not AuditEvent.objects.filter(action="exported").exists()
    else:
        assert response.context["form"].errors


# --- query budget ----------------------------------------------------------------------------------------------


def count_queries(client, url, data=None, method="get"):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data or {}) if method == "get" else client.post(f"{url}?{urlencode(data)}")
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries)


def measure(client, detail_screening):
    """Queries for the queue's first and a deep page, a detail page, and the export (each warmed up once)."""
    pages = {
        "queue": (reverse("queue"), None),
        "queue deep page": (reverse("queue"), {"page": 150}),
        "queue filtered": (reverse("queue"), {"verdict": "likely", "submitted_from": "2026-01-01"}),
        "queue filtered by decision": (reverse("queue"), {"verdict": "likely", "decision": "none"}),
        "detail": (detail_url(detail_screening), None),
        "export": (reverse("review_export"), None),
        "export with contact, its confirmation": (reverse("review_export"), {"include_contact": "on"}),
        "export with contact": (reverse("review_export"), {"include_contact": "on"}, "post"),
    }
    for url, data, *method in pages.values():
        count_queries(client, url, data, *method)
    return {name: count_queries(client, url, data, *method) for name, (url, data, *method) in pages.items()}


def test_queue_detail_and_export_use_a_fixed_number_of_queries(shipped_criteria, neurologist):
    client = signed_in(neurologist)
    template = make_submission().screening  # the detail measured: a real submission, full snapshot
    other = make_user("other", neurologist=True)
    one = measure(client, template)  # one row: a per-row query would show against a full page below

    few = list(clone_submissions(template, 59, prefix="R-FEW", small=True))
    Review.objects.bulk_create([Review(screening=s, neurologist=n, decision="refer", message="m")
                                for s in few[:10] + [template] for n in (neurologist, other)])
    Rescore.objects.create(screening=template, snapshot=template.snapshot, primary_verdict="likely",
                           scored_on=TODAY, created_by=other)
    Reply.objects.create(screening=template, message="A reply.")
    Screening.objects.filter(pk__in=[s.pk for s in few[:5]]).update(last_decision="more_info")  # replied, waiting
    sixty = measure(client, template)

    many = list(clone_submissions(template, 9_940, prefix="R-MANY", small=True,
                                  start=timezone.make_aware(datetime(2026, 3, 1, 9, 0))))
    assert Screening.objects.exclude(status="scored").count() == 10_000
    Review.objects.bulk_create([Review(screening=s, neurologist=n, decision="more_info", message="m")
                                for s in many[:1000] for n in (neurologist, other)], batch_size=1000)
    # the measured detail now has many decisions and re-scores in its history
    Review.objects.bulk_create([Review(screening=template, neurologist=other, decision="not_suitable",
                                       message="x") for _ in range(30)])
    Rescore.objects.bulk_create([Rescore(screening=template, snapshot=template.snapshot, primary_verdict="likely",
                                         scored_on=TODAY, created_by=neurologist) for _ in range(10)])
    Reply.objects.bulk_create([Reply(screening=template, message="Another reply.") for _ in range(20)])
    ten_thousand = measure(client, template)

    assert ten_thousand == sixty, (sixty, ten_thousand)
    assert sixty == one, (one, sixty)
    page = client.get(reverse("queue"), {"page": 150})
    assert len(references(page)) == 50 and "Page 150 of 200" in page.content.decode()
    assert len(csv_rows(client.get(reverse("review_export")))) == 10_001


@pytest.mark.parametrize("filters, expected", [
    ({}, "2 screenings"),  # waiting: submitted and in review
    ({"status": "reviewed"}, "1 screening,"),
    ({"status": "in_review", "verdict": "likely"}, "0 screenings"),  # a filter beside the status: counted apart
    ({"verdict": "unlikely"}, "1 screening,"),
])
def test_the_queue_says_how_many_screenings_match(neuro_client, queue_mix, filters, expected):
    caption = re.search(r"<caption[^>]*>(.*?)</caption>", neuro_client.get(reverse("queue"), filters).content.decode(),
                        re.S).group(1)
    assert expected in " ".join(caption.split())


def test_the_neurologist_reads_what_each_criterion_not_met_does_to_the_verdict(
        neuro_client, criteria_changed_after_submission):
    """A severity edit turned "Possible" into "Unlikely" with every row reading as before: the preview and the detail
    page now say, row by row, whether a criterion not met rules HSCT out or asks for a closer look."""
    screening = criteria_changed_after_submission
    criterion = Criterion.objects.get(criteria_set__code="article", code="serious_comorbidity")
    criterion.severity = "unlikely"
    criterion.save()
    preview = neuro_client.get(reverse("review_rescore", args=[screening.pk])).content.decode()
    row = re.search(r'<tr data-criterion="serious_comorbidity".*?</tr>', preview, re.S).group(0)
    assert '<td data-label="If not met" data-severity="unlikely">Not usually offered</td>' in row
    detail = neuro_client.get(detail_url(screening)).content.decode()  # as scored: a closer look
    row = re.search(r'<tr data-criterion="serious_comorbidity".*?</tr>', detail, re.S).group(0)
    assert '<td data-label="If not met" data-severity="possible">A closer look</td>' in row


STOP_REVIEWING = "Stop reviewing and return it to the queue"


def test_the_button_that_returns_a_screening_to_the_queue_is_not_read_as_a_link_back_to_it(
        neuro_client, shipped_criteria):
    """"Back to the queue" (a link) and "Put back in the queue: I am not reviewing it now" (a button that changes the
    status for colleagues) read alike, the button 18 px above "Go to the decision form". The button says what it does,
    in a block of its own after the links."""
    screening = make_submission().screening
    page = neuro_client.get(detail_url(screening)).content.decode()
    assert "Put back in the queue" not in page
    form = re.search(r'<form method="post" action="%s" class="release-form">.*?</form>'
                     % re.escape(reverse("review_release", args=[screening.pk])), page, re.S)
    assert form and f'<button type="submit" class="btn btn-outline-secondary">{STOP_REVIEWING}</button>' in form.group(0)
    assert page.index(">Back to the queue</a>") < page.index(">Go to the decision form</a>") < form.start()


def test_a_screening_opened_by_mistake_is_put_back_in_the_queue_by_whoever_opened_it(
        neuro_client, neurologist, shipped_criteria):
    """Opening a screening marked it "in review, opened by" its reader for good: after a misclick, or work lost,
    colleagues skipped it. Its reader can put it back; nobody else can, nor once it is decided."""
    screening = make_submission().screening
    page = neuro_client.get(detail_url(screening)).content.decode()
    assert STOP_REVIEWING in page
    response = neuro_client.post(reverse("review_release", args=[screening.pk]), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("queue"))
    assert f"{screening.reference} is back in the queue" in html.unescape(response.content.decode())
    screening.refresh_from_db()
    assert (screening.status, screening.opened_by, screening.opened_at) == (Screening.Status.SUBMITTED, None, None)
    assert AuditEvent.objects.filter(action="released", screening=screening, actor=neurologist).count() == 1

    colleague = Client()
    colleague.force_login(make_user("dr-colleague", neurologist=True))
    colleague.get(detail_url(screening))  # opened by them now: theirs to put back, not the first reader's
    assert STOP_REVIEWING not in neuro_client.get(detail_url(screening)).content.decode()
    response = neuro_client.post(reverse("review_release", args=[screening.pk]), follow=True)
    assert "was not put back: it is no longer opened by you alone" in html.unescape(response.content.decode())
    screening.refresh_from_db()
    assert screening.status == Screening.Status.IN_REVIEW and screening.opened_by.username == "dr-colleague"
    assert neuro_client.get(reverse("review_release", args=[screening.pk])).status_code == 302  # a GET: to the queue


# --- the patient's reply to "more information needed" --------------------------------------------------------------


def squeeze(response):
    return " ".join(response.content.decode().split())


def reply_to(client, text):
    return client.post(reverse("reply"), {"message": text})


def test_a_patient_replies_to_more_information_needed_and_the_submission_waits_again(neurologist, shipped_criteria):
    """"The neurologist needs more information from you": the patient answers on their status page, the submission
    goes back to the queue marked as replied, and the neurologist reads the reply above the evidence."""
    submission = make_submission()
    decide(submission.screening, neurologist, "more_info", "Please tell me your latest EDSS score from clinic.")
    patient = Client()
    look_up_status(patient, submission)
    page = squeeze(patient.get(reverse("status_detail")))
    assert "The neurologist needs more information from you" in page and "Your reply to the neurologist" in page

    response = reply_to(patient, "My neurologist wrote 3.5 in\nMarch.")
    assert response.status_code == 302 and response.url == reverse("status_detail")
    page = squeeze(patient.get(reverse("status_detail")))
    assert "Your reply has been sent." in page and "Your reply, sent" in page and "My neurologist wrote 3.5 in<br>March." in page
    assert "Add this to my reply" in page  # something remembered after sending, until the neurologist answers
    assert "3.5" not in patient.cookies.output()  # the confirmation is in a cookie: it carries no health data
    (event,) = AuditEvent.objects.filter(action="replied")
    assert event.screening_id == submission.screening.pk and event.actor is None and event.ip_address is None

    neuro = signed_in(neurologist)
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{submission.reference}.*?</tr>", squeeze(neuro.get(reverse("queue"))))
    assert row and "Submitted" in row.group(0) and "The patient replied" in row.group(0)  # waiting, and why
    detail = squeeze(neuro.get(detail_url(submission.screening)))
    assert "The patient has replied" in detail and "My neurologist wrote 3.5 in<br>March." in detail
    assert detail.index("The patient has replied") < detail.index('id="decision"')

    neuro.post(reverse("review_decide", args=[submission.screening.pk]),
               decision_data(Screening.objects.get(pk=submission.screening.pk), message="Thank you: see you soon."))
    assert "The patient replied" not in squeeze(neuro.get(reverse("queue"), {"status": "reviewed"}))
    assert "The patient's replies" in squeeze(neuro.get(detail_url(submission.screening)))
    page = squeeze(patient.get(reverse("status_detail")))
    assert "Thank you: see you soon." in page and "Your reply to the neurologist" not in page
    earlier = page[page.index("Your earlier replies"):]  # what they wrote is still theirs to read, out of the way
    assert "My neurologist wrote 3.5 in<br>March." in earlier[:earlier.index("</details>")]


def test_a_reply_is_shown_with_the_request_it_answers(neurologist, shipped_criteria):
    """The reply sat above the evidence and the request it answered at the foot of the page, under the answers: the
    neurologist read "Yes, two." without the question. The request is shown once with the replies that answer it,
    and a second request with the reply to it."""
    submission = make_submission()
    decide(submission.screening, neurologist, "more_info", "Have you had any relapses since March?")
    services.screening_reply(screening=submission.screening, message="Yes, two.")
    services.screening_reply(screening=submission.screening, message="The second one in June.")
    detail = squeeze(signed_in(neurologist).get(detail_url(submission.screening)))
    replies = detail[detail.index("The patient has replied"):detail.index("</section>", detail.index("replies-title"))]
    assert replies.count("Have you had any relapses since March?") == 1
    assert re.search(r"In answer to the message of neuro, \d+ \w+ \d{4} \d\d:\d\d: "
                     r"Have you had any relapses since March\?</span><br>The second one in June\.", replies), replies
    assert "Yes, two." in replies

    decide(submission.screening, neurologist, "more_info", "Which month was the first?")
    services.screening_reply(screening=submission.screening, message="April.")
    detail = squeeze(signed_in(neurologist).get(detail_url(submission.screening)))
    replies = detail[detail.index("The patient has replied"):detail.index("</section>", detail.index("replies-title"))]
    assert re.search(r"Which month was the first\?</span><br>April\..*Have you had any relapses since March\?"
                     r"</span><br>The second one in June\.", replies), replies


@pytest.mark.parametrize("decision", [None, "refer", "not_suitable", "more_info, replied, refer"])
def test_there_is_no_reply_without_a_request_for_more_information(neurologist, shipped_criteria, decision):
    submission = make_submission()
    patient = Client()
    look_up_status(patient, submission)
    for step in (decision or "").split(", "):
        if step == "replied":
            assert reply_to(patient, "The first reply.").status_code == 302
        elif step:
            decide(submission.screening, neurologist, step, "A message.")
    assert "Your reply to the neurologist" not in squeeze(patient.get(reverse("status_detail")))

    replies = Reply.objects.count()
    response = reply_to(patient, "A reply nobody asked for,\ntyped with care.")  # a page left open, or a second tab
    assert Reply.objects.count() == replies
    # not sent, and said why as things stand now; what was typed is on the page to copy, not lost
    assert response.status_code == 409
    page = squeeze(response)
    assert "There is no request for more information to reply to now, so this reply was not sent" in page
    assert "A reply nobody asked for,<br>typed with care." in page
    assert page.index("What you wrote just now (not sent)") < page.index("A reply nobody asked for")
    assert "Your reply to the neurologist" not in page  # no box to send it again
    assert "nobody asked for" not in squeeze(patient.get(reverse("status_detail")))  # shown once, kept nowhere


@pytest.mark.parametrize("text, error", [
    ("", "Write your reply before sending it."),
    ("   ", "Write your reply before sending it."),
    # in plain words, the limit as the hint writes it: not "Ensure this value has at most 3000 characters"
    ("word " * 700, "This is 499 characters too long. Shorten it to 3,000 characters or fewer."),
], ids=["empty", "spaces", "long"])
def test_a_reply_that_cannot_be_sent_says_why_next_to_the_box_and_keeps_the_text(neurologist, shipped_criteria,
                                                                                 text, error):
    submission = make_submission()
    decide(submission.screening, neurologist, "more_info", "Please send your MRI report.")
    patient = Client()
    look_up_status(patient, submission)
    response = reply_to(patient, text)  # answered with a redirect: Back and reload never send it again
    assert response.status_code == 303 and response.url == reverse("status_detail")
    page = patient.get(response.url).content.decode()
    box = page[page.index('id="div_id_message"'):page.index("</form>", page.index('id="div_id_message"'))]
    assert error in box and text.strip() in box and "<title>Error:" in " ".join(page.split())
    assert not Reply.objects.exists() and Screening.objects.get(pk=submission.screening.pk).status == "reviewed"
    again = patient.get(response.url).content.decode()  # shown once: a reload gives the box as new
    assert error not in again and "<title>Error:" not in " ".join(again.split())


def test_withdrawing_erases_the_replies(neurologist, shipped_criteria):
    submission = make_submission()
    decide(submission.screening, neurologist, "more_info", "Please send your MRI report.")
    patient = Client()
    look_up_status(patient, submission)
    reply_to(patient, "The report says two new lesions.")
    patient.post(reverse("withdraw"), {"confirm": "on"})
    assert not Reply.objects.exists()
    assert "two new lesions" not in squeeze(signed_in(neurologist).get(detail_url(submission.screening)))


@pytest.mark.parametrize("decided", [False, True])
def test_the_withdrawn_page_says_a_neurologists_decision_is_kept_where_one_was_made(neurologist, shipped_criteria,
                                                                                     decided):
    """A decision's bare outcome outlives a withdrawal (the neurologists' record); "no details about you" would not
    be true then, and the page says what is kept instead."""
    submission = make_submission()
    if decided:
        decide(submission.screening, neurologist, "refer", "Please book an appointment with the transplant team.")
    patient = Client()
    look_up_status(patient, submission)
    page = squeeze(patient.post(reverse("withdraw"), {"confirm": "on"}, follow=True))
    assert "Your answers, result and contact details have been erased." in page
    assert ("the neurologist's decision about it" in page) is decided
    assert ("with no details about you" in page) is not decided


def test_a_decision_form_opened_before_the_patient_replied_is_refused_and_says_so(neurologist, shipped_criteria):
    """Deciding without having read the reply would answer a question the patient has already answered."""
    submission = make_submission()
    neuro, response = decided_on_a_page_opened_before_a_reply(
        neurologist, submission, "Only interferon beta, from 2019 to 2021.", "Thank you, we will refer you.")
    assert response.status_code == 409
    page = squeeze(response)
    assert "The patient replied to the request for more information while this page was open." in page
    assert "Only interferon beta, from 2019 to 2021." in page and "Thank you, we will refer you." in page
    assert Review.objects.count() == 1 and Screening.objects.get(pk=submission.screening.pk).replied

    form = dict(decision_data(submission.screening, message="Thank you, we will refer you."), revision=revision_in(
        response.content.decode()))
    assert neuro.post(reverse("review_decide", args=[submission.screening.pk]), form).status_code == 302  # now read
    assert Review.objects.count() == 2


@pytest.mark.parametrize("decision", [None, "more_info", "more_info, replied", "refer", "not_suitable"])
def test_a_carers_status_page_speaks_of_the_ms_of_the_person_they_help(neurologist, shipped_criteria, decision):
    """Someone who sent the result for another person reads what to do about that person's MS and team, as the
    questions were put to them: not "if your MS changes… contact your own MS team"."""
    pages = {}
    for respondent in ("carer", "self"):
        submission = make_submission(respondent=respondent)
        if decision:
            decide(submission.screening, neurologist, decision.split(",")[0], "A message.")
        patient = Client()
        look_up_status(patient, submission)
        if decision == "more_info, replied":
            reply_to(patient, "A reply.")
        page = squeeze(patient.get(reverse("status_detail")))
        pages[respondent] = page[page.index("<main"):page.index("</main>")]  # not the help or the footer, for all
    said_to_the_person_with_ms = re.compile(
        r"\byour (own )?(MS|usual MS care|neurologist|earlier reference)\b|decides with you\b")
    assert said_to_the_person_with_ms.findall(pages["carer"]) == []
    assert re.search(r"\btheir (own )?(MS|neurologist)\b|with the person you helped", pages["carer"])
    assert said_to_the_person_with_ms.search(pages["self"])  # the person with MS: as before


@pytest.mark.parametrize("respondent", ["self", "carer"])
def test_asked_for_more_information_a_new_result_is_linked_by_a_reply_not_by_their_own_neurologist(
        neurologist, shipped_criteria, respondent):
    """The page that sent the result says it does not go to their own neurologist; the status page then said to
    "mention the earlier reference to your neurologist", which no form asks for and no one here would read. A new
    result reaches the neurologist who asked through a reply naming its reference (the queue searches by it)."""
    submission = make_submission(respondent=respondent)
    decide(submission.screening, neurologist, "more_info", "Has your MS changed since?")
    patient = Client()
    look_up_status(patient, submission)
    page = squeeze(patient.get(reverse("status_detail")))
    page = page[page.index("<main"):page.index("</main>")]
    assert not re.search(r"\b(your|their) (own )?neurologist\b", page)
    assert "send the new result; then give its reference in a reply here" in page


@pytest.mark.parametrize("steps, said", [
    ([], "Sent: waiting for a neurologist to read it"),
    (["open"], "A neurologist has started looking at it"),  # opened once, maybe days ago: not "is reading it"
    (["open", "more_info"], "Read: the neurologist's message is below"),
    (["open", "more_info", "reply"], "Your reply was sent: waiting for the neurologist to read it"),
    (["open", "more_info", "reply", "open"], "Your reply was sent: waiting for the neurologist to read it"),
], ids=["sent", "opened", "decided", "replied", "reply opened"])
def test_the_patient_reads_where_their_submission_is_in_their_own_words(neurologist, shipped_criteria, steps, said):
    """"Reviewed", then "Submitted" again after a reply, read as going backwards. Opened once by a neurologist, it
    said "A neurologist is reading it" for as long as it stayed opened, which may be days."""
    submission = make_submission()
    patient, neuro = Client(), signed_in(neurologist)
    look_up_status(patient, submission)
    for step in steps:
        if step == "open":
            neuro.get(detail_url(submission.screening))
        elif step == "reply":
            reply_to(patient, "My EDSS was 3.5 in March.")
        else:
            decide(submission.screening, neurologist, step, "Please tell me your latest EDSS score.")
    status = re.search(r'<dd data-status="[^"]+">(.*?)</dd>', squeeze(patient.get(reverse("status_detail"))))
    assert html.unescape(status.group(1)) == said


def test_a_reply_sent_as_the_submission_is_withdrawn_in_another_tab_leads_to_withdrawn_not_a_500(
        neurologist, shipped_criteria, monkeypatch):
    """The reply's page found the submission, then the withdrawal (another tab, another device) erased it before the
    reply was saved: nothing is sent, and the page says it was withdrawn rather than failing on its status."""
    submission = make_submission()
    decide(submission.screening, neurologist, "more_info", "Please send your MRI report.")
    patient = Client()
    look_up_status(patient, submission)
    reply = services.screening_reply

    def withdrawn_first(*, screening, **sent):
        services.screening_withdraw(screening=Screening.objects.get(pk=screening.pk))
        return reply(screening=screening, **sent)

    monkeypatch.setattr(services, "screening_reply", withdrawn_first)
    response = reply_to(patient, "The report says two new lesions.")
    assert response.status_code == 302 and response.url == reverse("status")
    assert not Reply.objects.exists()
    assert "two new lesions" not in squeeze(patient.get(reverse("status")))


@pytest.mark.parametrize("text", ["", "word " * 700], ids=["empty", "too long"])
def test_a_reply_from_a_page_left_open_after_the_neurologist_answered_says_it_was_not_sent_even_if_it_could_not_be(
        neurologist, shipped_criteria, text):
    """The box is gone from the page as it now is: "too long" would point at nothing; "nothing asks" is why."""
    submission = make_submission()
    decide(submission.screening, neurologist, "more_info", "Please send your MRI report.")
    patient = Client()
    look_up_status(patient, submission)
    reply_to(patient, "The report says two new lesions.")
    decide(submission.screening, neurologist, "refer", "Thank you: I am referring you.")
    response = reply_to(patient, text)
    page = squeeze(response)
    assert response.status_code == 409 and "There is no request for more information to reply to now" in page
    assert text.strip()[:40] in page and Reply.objects.count() == 1


def reply_from_page(client, text):
    """The status page's reply form, sent with the hidden fields the page gave it; and a way to send it again, as a
    double click does."""
    page = client.get(reverse("status_detail")).content.decode()
    hidden = {name: value for name, value in re.findall(
        r'<input type="hidden" name="(answering|after)"(?: value="([^"]*)")?', page)}
    assert set(hidden) == {"answering", "after"}
    return lambda: client.post(reverse("reply"), {"message": text, **hidden})


def test_the_same_words_sent_again_on_purpose_are_added_but_a_double_click_sends_once(neurologist, shipped_criteria):
    """A short answer can be the same twice ("Yes.", to a question, then to the next one asked in the same message):
    sent again from the page that shows the first, it is added, not taken for a double click and dropped unseen."""
    submission = make_submission()
    decide(submission.screening, neurologist, "more_info", "Have you had a relapse this year? Any new MRI lesions?")
    patient = Client()
    look_up_status(patient, submission)
    send = reply_from_page(patient, "Yes.")
    assert send().status_code == 302 and send().status_code == 302  # a double click
    assert [r.message for r in Reply.objects.all()] == ["Yes."]

    send = reply_from_page(patient, "Yes.")  # the page now shows that reply; this is another
    assert send().status_code == 302 and send().status_code == 302
    assert [r.message for r in Reply.objects.all()] == ["Yes.", "Yes."]
    page = squeeze(patient.get(reverse("status_detail")))
    assert page.count("Added to your reply") == 1


def test_a_reply_written_under_an_earlier_message_is_not_sent_as_the_answer_to_a_newer_one(neurologist,
                                                                                            shipped_criteria):
    """The neurologist asked again while the page was open: the reply would answer a question its writer has not read.
    It is not sent; the page shows the new message, and the text to copy into the reply to it."""
    submission = make_submission()
    decide(submission.screening, neurologist, "more_info", "Have you had a relapse this year?")
    patient = Client()
    look_up_status(patient, submission)
    shown = re.search(r'name="answering" value="(\d+)"', patient.get(reverse("status_detail")).content.decode())
    reply_to(patient, "No relapse this year.")
    decide(submission.screening, neurologist, "more_info", "Thank you. Which MS medicine do you take now?")

    response = patient.post(reverse("reply"), {"message": "Also: my last MRI was clear.", "answering": shown.group(1)})
    page = squeeze(response)
    assert response.status_code == 409 and Reply.objects.count() == 1
    assert "The neurologist has sent a new message since this page was opened, so this reply was not sent." in page
    assert page.index("Which MS medicine do you take now?") < page.index("Also: my last MRI was clear.")
    now = re.search(r'name="answering" value="(\d+)"', response.content.decode()).group(1)
    assert now != shown.group(1)  # the box on the page answers the new message
    assert patient.post(reverse("reply"), {"message": "Ocrelizumab since 2023.", "answering": now}).status_code == 302
    assert Reply.objects.count() == 2


def test_until_the_neurologist_answers_the_patient_can_add_to_their_reply(neurologist, shipped_criteria):
    """Something remembered after sending ("I also had a relapse in October") need not wait for another request; a
    neurologist who opened the decision form before it is told, as for the reply itself; a double click sends once."""
    submission = make_submission()
    decide(submission.screening, neurologist, "more_info", "Have you had a relapse this year?")
    patient, neuro = Client(), signed_in(neurologist)
    look_up_status(patient, submission)
    reply_to(patient, "No relapse this year.")
    opened = revision_in(neuro.get(detail_url(submission.screening)).content.decode())

    for _ in range(2):  # a double click
        response = reply_to(patient, "Sorry: I forgot one in October, treated with steroids.")
        assert response.status_code == 302 and response.url == reverse("status_detail")
    assert [r.message for r in Reply.objects.order_by("pk")] == [
        "No relapse this year.", "Sorry: I forgot one in October, treated with steroids."]
    assert AuditEvent.objects.filter(action="replied", screening=submission.screening).count() == 2
    page = squeeze(patient.get(reverse("status_detail")))
    assert page.index("Your reply, sent") < page.index("No relapse") < page.index("Added to your reply") < page.index(
        "I forgot one in October")
    assert "Your earlier replies" not in page  # both answer the message shown

    response = neuro.post(reverse("review_decide", args=[submission.screening.pk]),
                          decision_data(submission.screening, message="Thank you.", revision=opened))
    assert response.status_code == 409
    assert "The patient replied to the request for more information while this page was open." in squeeze(response)
    detail = squeeze(neuro.get(detail_url(submission.screening)))
    assert "No relapse this year." in detail and "I forgot one in October" in detail

    decide(submission.screening, neurologist, "refer", "Thank you: I am referring you.")
    page = squeeze(patient.get(reverse("status_detail")))
    assert "Your reply to the neurologist" not in page and "Add this to my reply" not in page
    assert reply_to(patient, "One more thing.").status_code == 409 and Reply.objects.count() == 2


def test_an_error_report_from_the_queue_names_no_filter_searched_beside_a_reference(neuro_client, queue_mix, settings,
                                                                                  monkeypatch, mailoutbox):
    """``?reference=R-…&verdict=unlikely`` says what that person's result was (the audit log withholds it): an error
    report emailed to ADMINS keeps the filters' names, not their values, in its URL, GET items, META and referrer
    (the queue sends such an old address to the reference alone: an error on the way)."""
    settings.ADMINS = [("Ops", "ops@example.org")]

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(review_views, "reference_alone", broken)
    neuro_client.raise_request_exception = False
    reference = queue_mix["in_review"].reference
    query = {"reference": reference, "verdict": "unlikely", "decision": "not_suitable"}
    response = neuro_client.get(reverse("queue"), query,
                                HTTP_REFERER=f"http://testserver/review/?reference={reference}&verdict=unlikely")
    assert response.status_code == 500
    (report,) = mailoutbox
    text = report.body + "".join(content for content, _type in getattr(report, "alternatives", []))
    assert "the database went away" in text and "verdict" in text  # the error, and which filters were used
    for health_data in ("unlikely", "not_suitable", reference):
        assert health_data not in text, health_data


def test_the_withdrawn_page_says_a_decision_is_kept_when_it_was_saved_while_the_withdrawal_was_on_its_way(
        neurologist, shipped_criteria, monkeypatch):
    """A decision saved after the status page read the submission, just before its withdrawal locked the row, is kept
    (its bare outcome): the page must not say "no details about you" because the submission read said undecided."""
    submission = make_submission()
    patient = Client()
    look_up_status(patient, submission)
    withdraw = services.screening_withdraw

    def decided_meanwhile(*, screening, request=None):
        decide(Screening.objects.get(pk=screening.pk), neurologist, "refer", "Please book an appointment.")
        return withdraw(screening=screening, request=request)

    monkeypatch.setattr(services, "screening_withdraw", decided_meanwhile)
    page = squeeze(patient.post(reverse("withdraw"), {"confirm": "on"}, follow=True))
    assert Review.objects.filter(screening=submission.screening, decision="refer").exists()
    assert "the neurologist's decision about it" in page and "with no details about you" not in page


@pytest.mark.parametrize("query, said", [
    ({"reference": "zzz"}, "No submission has a reference containing “zzz”."),
    ({"reference": " zz<b>z "}, "No submission has a reference containing “zz&lt;b&gt;z”."),  # as typed, escaped
    ({"status": "reviewed", "verdict": "unlikely"}, "Nothing matches these filters."),
    ({"status": "reviewed", "verdict": "unlikely", "reference": " "}, "Nothing matches these filters."),
])
def test_a_reference_that_finds_nothing_says_so_not_that_the_filters_match_nothing(neuro_client, queue_mix, query,
                                                                                     said):
    response = neuro_client.get(reverse("queue"), query)
    assert references(response) == []
    assert said in squeeze(response)
    assert "Nothing matches" not in squeeze(response) or "reference" not in said
