"""Criteria administration through the Django admin, driven with the test client the way an admin's browser posts.

Criteria sets with their inline criteria, criteria on their own, notes and reference cases: every edit moves the
set's version, leaves a history record (who, when, a readable diff) and an audit entry; the set's page shows the
reference cases' verdicts, and the preview shows the effect of unsaved edits; bad input is a message on the form,
never a 500; screenings, reviews and the audit log are read-only.

Each test opens a real admin page, turns its form into POST data (``form_data``) and changes just one value, so
that what is posted is exactly what the admin's browser would send.
"""

import html
import json
import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from screening import services
from screening.facts import FACTS
from screening.forms import validate_answers
from screening.models import AuditEvent, CriteriaSet, Criterion, Note, ReferenceCase, Review
from screening.rules import OPERATORS

from .conftest import FIXTURES
from .factories import answers, make_criterion, make_set

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)
PASSWORD = "Correct-Horse-Battery-42"
SHIPPED_SET_CODES = ["article", "beat-ms", "ebmt-2020", "ectrims-ebmt-2025", "mist", "nmss-2021", "ram-ms", "starms"]
FLIPPING_CASE = "active-rrms-failed-natalizumab"  # EDSS 3.5: likely under the Article set while its limit is 6.0


# --- Users and clients -------------------------------------------------------------------------------------------


def make_user(username="admin", *, superuser=True, staff=True, password=PASSWORD):
    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.org", password)
    return User.objects.create_user(username, f"{username}@example.org", password, is_staff=staff)


@pytest.fixture
def superuser(db):
    return make_user("admin")


@pytest.fixture
def admin(superuser):
    """A browser session signed in as the superuser. A server error comes back as a 500 response (as the admin
    would see it) rather than as an exception, so that "never a 500" can be asserted."""
    client = Client(raise_request_exception=False)
    client.force_login(superuser)
    return client


# --- Reading admin pages -----------------------------------------------------------------------------------------


class FormReader(HTMLParser):
    """The values a browser would submit from one form: inputs, checked boxes, selected options, textareas.

    Submit buttons are left out (the test says which one it presses) and so is the inline's empty template row
    (``criteria-__prefix__-…``), which the admin's JavaScript only copies and is never posted."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.fields = form_id, False, []
        self.select = self.textarea = None
        self.options = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id if self.form_id else a.get("id") != "logout-form"
            return
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.add(name, a.get("value", "on"))
                return
            self.add(name, a.get("value") or "")
        elif tag == "select" and name:
            self.select, self.options = (name, "multiple" in a), []
        elif tag == "option" and self.select:
            self.options.append([a.get("value"), "selected" in a, ""])
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_data(self, data):
        if self.textarea:
            self.text += data
        elif self.select and self.options:
            self.options[-1][2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            name, multiple = self.select
            values = [(v if v is not None else label.strip()) for v, selected, label in self.options if selected]
            if not values and not multiple and self.options:  # a browser submits the first option
                first = self.options[0]
                values = [first[0] if first[0] is not None else first[2].strip()]
            for value in values:
                self.add(name, value)
            self.select = None
        elif tag == "textarea" and self.textarea:
            text = self.text[1:] if self.text.startswith("\n") else self.text  # HTML drops one leading newline
            self.add(self.textarea, text)
            self.textarea = None

    def add(self, name, value):
        if "__prefix__" not in name:
            self.fields.append((name, value))


def form_data(response, form_id=None):
    """The POST data of the page's form as it stands: ``{name: value}`` (a list for repeated names)."""
    assert response.status_code == 200, response.status_code
    reader = FormReader(form_id)
    reader.feed(response.content.decode())
    data = {}
    for name, value in reader.fields:
        if name in data:
            data[name] = (data[name] if isinstance(data[name], list) else [data[name]]) + [value]
        else:
            data[name] = value
    assert data, "no form found on the page"
    return data


class RowReader(HTMLParser):
    """The ``data-*`` attributes of each row of one table."""

    def __init__(self, table_id):
        super().__init__()
        self.table_id, self.inside, self.rows = table_id, False, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.inside = a.get("id") == self.table_id
        elif tag == "tr" and self.inside and "data-case" in a:
            self.rows.append({k[5:]: v for k, v in a.items() if k.startswith("data-")})

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False


def table_rows(response, table_id):
    """``{case code: {"agrees": …, "before": …, …}}`` from a table of reference cases."""
    reader = RowReader(table_id)
    reader.feed(response.content.decode())
    return {row["case"]: row for row in reader.rows}


def page_text(response):
    return html.unescape(response.content.decode())


def form_errors(response):
    """Every message on the admin form: ``{field or "criteria-N-field" or "__all__": [messages]}``."""
    context = response.context
    found = {}
    for field, errors in context["adminform"].form.errors.items():
        found[field] = list(errors)
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        if formset.non_form_errors():
            found.setdefault("__all__", []).extend(formset.non_form_errors())
        for form in formset.forms:
            for field, errors in form.errors.items():
                found[form.add_prefix(field)] = list(errors)
    return found


def all_messages(errors):
    return " ".join(message for messages in errors.values() for message in messages)


# --- Admin URLs and POST data ------------------------------------------------------------------------------------


def url(name, *args):
    return reverse(f"admin:screening_{name}", args=args)


def article():
    return CriteriaSet.objects.get(code="article")


def criterion(code, set_code="article"):
    return Criterion.objects.get(criteria_set__code=set_code, code=code)


def set_page(client, criteria_set):
    return client.get(url("criteriaset_change", criteria_set.pk))


def row_of(data, code, /):
    """The inline row ``criteria-N-`` that holds the criterion with ``code``."""
    total = int(data["criteria-TOTAL_FORMS"])
    for n in range(total):
        if data.get(f"criteria-{n}-code") == code:
            return f"criteria-{n}-"
    raise AssertionError(f"no inline row for criterion {code!r}")


def with_criterion(data, code, /, **fields):
    """``data`` with the criterion ``code`` changed: ``value=`` is JSON text, ``active=False`` unticks the box."""
    data, prefix = dict(data), row_of(data, code)
    for field, value in fields.items():
        if value is False:
            data.pop(prefix + field, None)
        elif value is True:
            data[prefix + field] = "on"
        else:
            data[prefix + field] = value
    return data


def edss_threshold(value):
    """A new EDSS threshold as an admin types it: the value, and the label that quotes it."""
    return {"value": value, "label": f"Disability score (EDSS) below {value}"}


NEW_CRITERION = {
    "order": "90", "code": "age_under_50", "active": "on", "label": "Younger than 50",
    "fact": "age", "operator": "lt", "value": "50", "kind": "inclusion", "severity": "possible",
    "explanation": "Younger people recover better from the treatment.", "source": "Muraro 2025",
}


def with_new_row(data, **fields):
    """``data`` with one more (new) criterion in the set's inline, as the "Add another Criterion" link makes."""
    data = dict(data)
    n = int(data["criteria-TOTAL_FORMS"])
    for field, value in {**NEW_CRITERION, **fields}.items():
        data[f"criteria-{n}-{field}"] = value
    data[f"criteria-{n}-id"] = ""
    data[f"criteria-{n}-criteria_set"] = data["criteria-0-criteria_set"]
    data["criteria-TOTAL_FORMS"] = str(n + 1)
    return data


def save(client, obj_url, data, button="_continue"):
    """Post the change form as the "Save and continue editing" button does; follow the redirect."""
    return client.post(obj_url, {**data, button: "Save"}, follow=True)


# The preview's tick and reason, as an admin gives them to save an edit that leaves a reference case disagreeing
ANYWAY = {"_confirming": "1", "disagreements_checked": "on", "change_reason": "Checked against the new guideline"}


def save_anyway(client, obj_url, data, button="_continue"):
    """``save`` with the preview's tick and reason: for an edit that leaves a reference case disagreeing."""
    return save(client, obj_url, {**data, **ANYWAY}, button)


def assert_saved(response):
    assert response.status_code == 200
    assert response.redirect_chain, f"the form did not save: {form_errors(response)}"


def assert_not_saved_with_message(response, *words):
    """The admin form came back (200, not a redirect, not a 500) with a message containing ``words``."""
    assert response.status_code != 500, "bad input gave a server error (500) instead of a message on the form"
    assert response.status_code == 200, response.status_code
    assert not getattr(response, "redirect_chain", None), "the bad input was saved"
    text = page_text(response)
    assert "Please correct the error" in text, "no error note at the top of the form"
    errors = form_errors(response)
    assert errors, "no message on any field"
    for word in words:
        assert word in all_messages(errors), f"{word!r} not in the form's messages: {errors}"
        assert word in text, f"{word!r} is not shown on the page"
    return errors


def history_page(client, name, pk):
    response = client.get(url(f"{name}_history", pk))
    assert response.status_code == 200
    return page_text(response)


def history_rows(client, name, pk):
    """The history page's table as an admin reads it, newest first: each column by its heading ("Changed by",
    "Comment", …) and the "Changes" column as ``[(field label, old, new)]``."""
    text = history_page(client, name, pk)
    start = text.index('id="change-history"')
    table = text[start:text.index("</table>", start)]
    head, body = table.split("<tbody>", 1)
    headings = [re.sub(r"<[^>]+>", "", th).strip() for th in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        entry = dict(zip(headings, cells))
        entry["changes"] = [(f.strip(), old.strip(), new.strip()) for f, old, new in re.findall(
            r"<strong>(.*?):</strong>(.*?)\xa0→\xa0\xa0(.*?)</li>", row, re.S)]
        rows.append(entry)
    return rows


def entry(row):
    """The parts of a history row every test checks: the kind of entry, who, and the changes."""
    return {"type": row["Comment"], "by": row["Changed by"], "changes": row["changes"]}


def criteria_audits(user):
    return AuditEvent.objects.filter(action="criteria_changed", actor=user)


# --- The forms: lists to choose from, help with examples ---------------------------------------------------------


def test_the_set_page_offers_facts_and_operators_as_lists_with_examples_in_the_help(shipped_criteria, admin):
    response = set_page(admin, article())
    body = response.content.decode()
    prefix = row_of(form_data(response), "edss_below_6")
    for field, choices in (("fact", FACTS), ("operator", OPERATORS)):
        assert f'<select name="{prefix}{field}"' in body, f"{field} is not a list"
        formset = response.context["inline_admin_formsets"][0].formset
        offered = [value for value, _label in formset.forms[0].fields[field].choices if value]
        assert offered == list(choices)
    text = page_text(response)
    assert "The test" in text and "For patients" in text  # the inline's fieldsets
    assert "a number (6.0), a range for between ([2, 6])" in text  # the value's help names examples
    assert "e.g. “edss_below_6”" in text and "e.g. “ebmt-2020”" in text


def test_the_set_page_lists_the_criteria_in_order(shipped_criteria, admin):
    response = set_page(admin, article())
    data = form_data(response)
    codes = [data[f"criteria-{n}-code"] for n in range(int(data["criteria-TOTAL_FORMS"]))]
    stored = list(article().criteria.order_by("order", "code").values_list("code", flat=True))
    assert codes == stored and len(codes) == 7


def test_the_list_of_sets_names_each_kind_in_a_word_or_two_and_the_set_page_explains_them(shipped_criteria, admin):
    """The kind is a column and a filter: a sentence there made each trial's row five lines tall and pushed the
    list wider than the page. What a kind means for patients is said once, as the field's help."""
    response = admin.get(url("criteriaset_changelist"))
    kinds = dict(re.findall(r'<th class="field-name"><a [^>]*>.*?</a></th>.*?<td class="field-code">(.*?)</td>'
                            r'<td class="field-kind">(.*?)</td>', response.content.decode(), re.S))
    assert kinds["article"] == "Profile" and kinds["ebmt-2020"] == "Guideline" and kinds["mist"] == "Trial entry rules"
    text = page_text(set_page(admin, article()))
    assert "A trial's entry rules: patients read whether their answers fit the people it took" in text


def test_a_line_break_typed_or_pasted_into_a_source_is_saved_as_a_space(shipped_criteria, admin):
    """The long one-line fields are boxes that wrap (to be read whole); Enter in one, or a citation pasted from a
    PDF with its line breaks, still makes one line, as it is shown to patients."""
    data = with_criterion(form_data(set_page(admin, article())), "edss_below_6",
                          source="Sharrack B, et al.\r\n  Bone Marrow Transplant 2020;55:283")
    assert_saved(save(admin, url("criteriaset_change", article().pk), data))
    assert criterion("edss_below_6").source == "Sharrack B, et al. Bone Marrow Transplant 2020;55:283"


# --- Criteria: create, edit, deactivate; version, history, audit -------------------------------------------------


def test_adding_a_criterion_in_the_sets_inline_moves_the_version_and_is_in_history_and_audit(
        shipped_criteria, admin, superuser):
    criteria_set = article()
    page = set_page(admin, criteria_set)
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk), with_new_row(form_data(page))))

    added = criterion("age_under_50")
    assert (added.fact, added.operator, added.value, added.active) == ("age", "lt", 50, True)
    assert article().version == criteria_set.version + 1
    record = added.history.latest()
    assert record.history_type == "+" and record.history_user == superuser
    assert entry(history_rows(admin, "criterion", added.pk)[0]) == {"type": "Created", "by": "admin", "changes": []}
    assert criteria_audits(superuser).exists()
    assert history_rows(admin, "criteriaset", criteria_set.pk)[0]["Changed by"] == "admin"  # the set's page was saved


def test_adding_a_criterion_in_the_criterion_admin_moves_the_version_and_is_in_history_and_audit(
        shipped_criteria, admin, superuser):
    criteria_set = article()
    add = admin.get(url("criterion_add"))
    data = {**form_data(add), **NEW_CRITERION, "criteria_set": str(criteria_set.pk)}
    response = admin.post(url("criterion_add"), data, follow=True)
    assert_saved(response)

    added = criterion("age_under_50")
    assert article().version == criteria_set.version + 1
    assert added.history.latest().history_user == superuser
    audit = criteria_audits(superuser).latest("created_at")
    assert "added" in audit.detail and "Younger than 50" in audit.detail


def test_editing_a_threshold_in_the_inline_moves_the_version_and_is_in_history_and_audit(
        shipped_criteria, admin, superuser):
    criteria_set, edss = article(), criterion("edss_below_6")
    assert edss.value == 6.0
    audits_before = criteria_audits(superuser).count()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", **edss_threshold("5.5"))
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk), data))

    assert criterion("edss_below_6").value == 5.5
    assert article().version == criteria_set.version + 1  # one criterion changed: one step
    record = edss.history.latest()
    assert record.history_type == "~" and record.history_user == superuser and record.value == 5.5
    newest = history_rows(admin, "criterion", edss.pk)[0]
    assert newest["Changed by"] == "admin"
    assert newest["Change reason"] == ""  # none was given: not the word "None"
    assert criteria_audits(superuser).count() == audits_before + 1


def version_shown(client, criteria_set):
    """The version the set's page shows."""
    text = set_page(client, criteria_set).content.decode()
    return re.search(r'fieldBox field-version">.*?<div class="readonly">(.*?)</div>', text, re.S).group(1)


ONE_SAVE = [  # each changes two criteria or more
    pytest.param(lambda page: with_criterion(page, "diagnosed_under_10_years", source="Edited"), id="two criteria"),
    pytest.param(lambda page: with_new_row({**page, row_of(page, "serious_comorbidity") + "DELETE": "on"}),
                 id="added, deleted and changed"),
    pytest.param(lambda page: {**with_criterion(page, "serious_comorbidity", source="Edited"),
                               "description": "Reworded."}, id="the set's own fields and criteria"),
]


@pytest.mark.parametrize("edit", ONE_SAVE)
def test_one_save_of_the_sets_page_is_one_version(shipped_criteria, admin, superuser, edit):
    """However many of its criteria one Save changes, the set's page and history show one version more (v1 → v2, not
    v3): the version a result quotes is matched to the set's history, one Save at a time."""
    criteria_set = article()
    audits = criteria_audits(superuser).count()
    page = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", **edss_threshold("5.5"))
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk), edit(page)))
    assert version_shown(admin, criteria_set) == "2"
    versions = [row["version"] for row in history_rows(admin, "criteriaset", criteria_set.pk)]
    assert versions[0] == "2" and set(versions) == {"1", "2"}, f"the set's history shows the versions {versions}"
    assert criteria_audits(superuser).count() == audits + 1


def test_one_save_of_the_sets_own_fields_and_its_criteria_is_one_entry_in_its_history(shipped_criteria, admin):
    """An admin who rewords a set and changes one of its thresholds in one Save finds one entry for it in the set's
    history: the new version, by them, with the reworded field. It was two: the rewording at the old version, then an
    entry with nothing in its Changes column at the new one."""
    criteria_set = article()
    before = history_rows(admin, "criteriaset", criteria_set.pk)
    page = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", **edss_threshold("5.5"))
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk), {**page, "description": "Reworded."}))

    rows = history_rows(admin, "criteriaset", criteria_set.pk)
    assert len(rows) == len(before) + 1 and rows[1:] == before, f"one Save added {len(rows) - len(before)} entries"
    newest = rows[0]
    assert (newest["Comment"], newest["Changed by"], newest["version"]) == ("Changed", "admin", "2")
    assert [(field, new) for field, old, new in newest["changes"]] == [("Description", "Reworded.")]
    assert version_shown(admin, criteria_set) == "2"


def test_a_new_set_saved_with_its_criteria_is_one_entry_and_version_1(shipped_criteria, admin):
    """A set added with its first criteria in one Save is created at version 1 with one entry in its history
    (it was "Created" at version 1, then a "Changed" entry with nothing in its Changes column at version 2)."""
    data = {**form_data(admin.get(url("criteriaset_add"))), "name": "New set", "code": "new-set",
            "citation": "Somewhere", "order": "9", "active": "on", "criteria-TOTAL_FORMS": "1",
            **{f"criteria-0-{field}": value for field, value in NEW_CRITERION.items()}}
    assert_saved(admin.post(url("criteriaset_add"), {**data, "_save": "Save"}, follow=True))

    new_set = CriteriaSet.objects.get(code="new-set")
    assert list(new_set.criteria.values_list("code", flat=True)) == ["age_under_50"]
    assert [(row["Comment"], row["Changed by"], row["version"])
            for row in history_rows(admin, "criteriaset", new_set.pk)] == [("Created", "admin", "1")]
    assert version_shown(admin, new_set) == "1"


SHIPPED_EDSS_LABEL = "Disability score (EDSS) below 6.0: able to walk about 100 m without a stick and without resting"
EDITS = [pytest.param(edss_threshold("5.5"), [("Label", SHIPPED_EDSS_LABEL, "Disability score (EDSS) below 5.5"),
                                              ("Value", "6.0", "5.5")],
                      id="threshold"),
         pytest.param({"active": False}, [("Active", "True", "False")], id="deactivation")]


@pytest.mark.parametrize("change, diffs", EDITS)
def test_the_first_edit_of_a_shipped_criterion_shows_old_and_new_value_in_its_history(
        shipped_criteria, admin, change, diffs):
    """The shipped criteria are loaded as `make run` loads them; their first admin edit must read "6.0 → 5.5"."""
    criteria_set, edss = article(), criterion("edss_below_6")
    data = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", **change)
    assert_saved(save_anyway(admin, url("criteriaset_change", criteria_set.pk), data))
    rows = history_rows(admin, "criterion", edss.pk)
    assert rows[0]["Changed by"] == "admin"
    assert rows[0]["changes"] == diffs, (
        f"the history page shows {rows} instead of {diffs} (the shipped row had no history record before the edit)")


def test_a_second_edit_shows_old_and_new_value_in_the_criterions_history(shipped_criteria, admin, superuser):
    add = admin.get(url("criterion_add"))
    data = {**form_data(add), **NEW_CRITERION, "criteria_set": str(article().pk)}
    assert_saved(admin.post(url("criterion_add"), data, follow=True))
    added = criterion("age_under_50")
    change = url("criterion_change", added.pk)
    assert_saved(save(admin, change, {**form_data(admin.get(change)), "value": "45", "label": "Younger than 45"}))

    record = added.history.latest()
    assert [(c.field, c.old, c.new) for c in record.diff_against(record.prev_record).changes] == [
        ("label", "Younger than 50", "Younger than 45"), ("value", 50, 45)]
    assert [entry(row) for row in history_rows(admin, "criterion", added.pk)] == [
        {"type": "Changed", "by": "admin", "changes": [("Label", "Younger than 50", "Younger than 45"),
                                                       ("Value", "50", "45")]},
        {"type": "Created", "by": "admin", "changes": []}]


def test_the_sets_history_shows_the_version_an_edit_of_its_criteria_made(shipped_criteria, admin, superuser):
    """An admin reading the set's history sees, on the entry of the edit, the version the edit produced (2): the
    version a stored screening quotes can then be matched to the set's history."""
    criteria_set = article()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", **edss_threshold("5.5"))
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk), data))

    assert article().version == 2
    assert criteria_set.history.latest().history_user == superuser
    assert criteria_set.history.latest().version == 2, (
        f"the set's history entry for this edit stores version {criteria_set.history.latest().version}, "
        f"the set is at version {article().version}")
    newest = history_rows(admin, "criteriaset", criteria_set.pk)[0]
    column = {heading.lower(): value for heading, value in newest.items() if isinstance(value, str)}.get("version")
    assert column == "2" or ("Version", "1", "2") in newest["changes"], (
        f"the set's history page does not show the version on the entry of this edit: {newest}")


def criteria_changes(client, criteria_set):
    """The set's history page's "Changes to its criteria", newest first: ``(criterion, change, [lines])``."""
    text = history_page(client, "criteriaset", criteria_set.pk)
    table = text[text.index('id="criteria-changes"'):]
    rows = re.findall(r'<tr data-criterion="([^"]+)" data-type="(.)">(.*?)</tr>', table, re.S)
    return [(code, kind, [" ".join(html.unescape(re.sub(r"<[^>]+>", "", item)).split())
                          for item in re.findall(r"<li>(.*?)</li>", cells, re.S)]) for code, kind, cells in rows]


def test_the_sets_history_lists_what_changed_in_its_criteria_with_a_fixed_number_of_queries(
        shipped_criteria, admin):
    """The version a result quotes is made by changes to the set's criteria: the set's history says which, by whom,
    from what to what (a deleted criterion included), however many there are."""
    criteria_set = article()
    page = form_data(set_page(admin, criteria_set))
    assert_saved(save_anyway(admin, url("criteriaset_change", criteria_set.pk),
                      with_criterion(page, "edss_below_6", **edss_threshold("5.5"))))
    with CaptureQueriesContext(connection) as few:
        first = criteria_changes(admin, criteria_set)
    assert first[0] == ("edss_below_6", "~", [
        f"Label: {SHIPPED_EDSS_LABEL} → Disability score (EDSS) below 5.5", "Value: 6.0 → 5.5"])
    for value in ("5.0", "4.5", "4.0"):
        page = form_data(set_page(admin, criteria_set))
        assert_saved(save_anyway(admin, url("criteriaset_change", criteria_set.pk),
                          with_criterion(page, "edss_below_6", **edss_threshold(value))))
    page = form_data(set_page(admin, criteria_set))
    assert_saved(save_anyway(admin, url("criteriaset_change", criteria_set.pk),
                      {**page, row_of(page, "serious_comorbidity") + "DELETE": "on"}))
    with CaptureQueriesContext(connection) as many:
        changes = criteria_changes(admin, criteria_set)
    assert changes[0][:2] == ("serious_comorbidity", "-")
    assert [lines for code, kind, lines in changes if kind == "~"][0][-1] == "Value: 4.5 → 4.0"
    assert len(many) == len(few)


def queries_for(client, page_url):
    client.get(page_url)  # warmed up: what is read once per process is not counted
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page_url).status_code == 200
    return len(queries)


def test_a_sets_page_and_the_audit_log_read_a_fixed_number_of_queries(shipped_criteria, admin):
    """Neither page reads a row more for each criterion or entry it shows (the set's criteria name their set; the
    audit log names each entry's actor and screening)."""
    criteria_set = article()
    set_url, log_url = url("criteriaset_change", criteria_set.pk), reverse("admin:screening_auditevent_changelist")
    for n in range(2):
        services.audit("detail_viewed", screening=services.screening_create(answers=answers(), today=TODAY))
    few = queries_for(admin, set_url), queries_for(admin, log_url)
    for n in range(10):
        make_criterion(criteria_set, code=f"extra_{n}", label=f"Extra {n}", fact="age", value=90 + n)
        services.audit("detail_viewed", screening=services.screening_create(answers=answers(), today=TODAY))
    assert (queries_for(admin, set_url), queries_for(admin, log_url)) == few


@pytest.mark.django_db(transaction=True)  # as in production: the revert page opens no transaction of its own
@pytest.mark.parametrize("name, row, field, new", [
    ("criterion", lambda: criterion("edss_below_6"), "order", "11"),
    ("note", lambda: Note.objects.order_by("pk").first(), "order", "77"),
    ("referencecase", lambda: ReferenceCase.objects.order_by("pk").first(), "name", "Renamed"),
])
def test_reverting_to_an_earlier_version_saves_it_with_a_history_entry(shipped_criteria, admin, name, row, field,
                                                                       new):
    """A revert's form starts from the old version: it was taken for "no change" (no history entry, while a
    criterion's set moved to a new version), and on PostgreSQL its row lock was a 500 outside a transaction."""
    old = str(getattr(row(), field))
    change_url = url(f"{name}_change", row().pk)
    assert_saved(save(admin, change_url, {**form_data(admin.get(change_url)), field: new}))
    records, first = row().history.count(), row().history.earliest()
    revert_url = url(f"{name}_simple_history", row().pk, first.history_id)
    response = admin.post(revert_url, form_data(admin.get(revert_url)), follow=True)
    assert response.status_code == 200 and response.redirect_chain, form_errors(response)
    assert str(getattr(row(), field)) == old
    assert row().history.count() == records + 1 and str(getattr(row().history.latest(), field)) == old


def test_a_set_cannot_be_reverted_from_its_history(shipped_criteria, admin):
    """Its history holds its version and primary flag, not its criteria: a revert would show an old version beside
    today's criteria (so a neurologist would not see that a result was scored with other ones)."""
    criteria_set = article()
    old = criteria_set.history.earliest()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", **edss_threshold("6.5"))
    assert_saved(save_anyway(admin, url("criteriaset_change", criteria_set.pk), data))
    revert_url = url("criteriaset_simple_history", criteria_set.pk, old.history_id)
    assert "Revert" not in page_text(admin.get(revert_url))
    form = form_data(admin.get(revert_url))
    assert admin.post(revert_url, form).status_code == 403
    assert article().version == criteria_set.version + 1 and article().is_primary


def test_editing_the_sets_own_fields_is_in_its_history_and_audit_without_moving_the_version(
        shipped_criteria, admin, superuser):
    criteria_set = article()
    data = {**form_data(set_page(admin, criteria_set)), "name": "Article profile"}
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk), data))
    newest = history_rows(admin, "criteriaset", criteria_set.pk)[0]
    assert entry(newest) == {"type": "Changed", "by": "admin",
                             "changes": [("Name", "Article profile (typical HSCT candidate)", "Article profile")]}
    assert criteria_audits(superuser).filter(detail__contains="criteria set").exists() or \
        criteria_audits(superuser).filter(detail__contains="criteriaset").exists()
    assert article().version == criteria_set.version  # the criteria did not change


def test_a_sets_code_cannot_be_changed_once_it_exists(shipped_criteria, admin):
    """Stored results and the reference cases' expected verdicts name a set by its code: a renamed set left the cases
    expecting nothing of it (every case "agreed", whatever an edit did) and every result counting it as changed."""
    criteria_set = CriteriaSet.objects.get(code="ebmt-2020")
    page = set_page(admin, criteria_set)
    assert 'name="code"' not in page.content.decode()
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk), {**form_data(page), "code": "ebmt-rev"}))
    assert CriteriaSet.objects.filter(pk=criteria_set.pk, code="ebmt-2020").exists()
    assert 'name="code"' in admin.get(url("criteriaset_add")).content.decode()  # a new set is given one


def test_saving_the_set_without_changes_leaves_the_version_and_the_history(shipped_criteria, admin):
    """A version that moved without a change would mark every stored screening as scored on old criteria; a history
    entry with nothing in its Changes column would send an admin looking for a change nobody made."""
    criteria_set = article()
    before = history_rows(admin, "criteriaset", criteria_set.pk)
    records = (Criterion.history.count(), CriteriaSet.history.count())
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk), form_data(set_page(admin, criteria_set))))
    assert article().version == criteria_set.version
    assert (Criterion.history.count(), CriteriaSet.history.count()) == records
    assert history_rows(admin, "criteriaset", criteria_set.pk) == before


def test_saving_a_note_without_changes_adds_no_history_entry(shipped_criteria, admin):
    note = Note.objects.first()
    records = note.history.count()
    change_url = url("note_change", note.pk)
    assert_saved(save(admin, change_url, form_data(admin.get(change_url))))
    assert note.history.count() == records


def test_saving_a_criterion_without_a_change_leaves_its_sets_version(shipped_criteria, admin):
    """A Save that changes nothing a result shows must not tell neurologists that the criteria have changed since
    every result they hold."""
    criteria_set, edss = article(), criterion("edss_below_6")
    change_url = url("criterion_change", edss.pk)
    assert_saved(save(admin, change_url, form_data(admin.get(change_url))))
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk), form_data(set_page(admin, criteria_set))))
    assert article().version == criteria_set.version
    assert_saved(save(admin, change_url, {**form_data(admin.get(change_url)), "explanation": "Reworded."}))
    assert article().version == criteria_set.version + 1  # the words patients read are part of the criteria



@pytest.mark.parametrize("moved", [False, True], ids=["edited", "moved to another set"])
def test_a_criterion_saved_on_its_own_page_locks_its_set_first_as_the_sets_page_does(shipped_criteria, admin, moved):
    """One admin saves the set's page while another saves one of its criteria on the criterion's page: both lock
    the set (and the one it moves to) before the criterion, so on PostgreSQL the two take turns rather than deadlock
    (a 500 for one of them). SQLite locks the whole database for a write, and has no row locks to order."""
    edss, ebmt = criterion("edss_below_6"), CriteriaSet.objects.get(code="ebmt-2020")
    change_url = url("criterion_change", edss.pk)
    data = {**form_data(admin.get(change_url)), "explanation": "Reworded."}
    if moved:
        data.update(criteria_set=ebmt.pk, code="edss_below_6_moved")
    with CaptureQueriesContext(connection) as queries:
        assert_saved(save_anyway(admin, change_url, data))
    locks = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert [re.search(r'FROM "(\w+)"', sql).group(1) for sql in locks[:2]] == (
        ["screening_criteriaset", "screening_criterion"] if connection.features.has_select_for_update else [])
    if locks and moved:  # both sets, in one statement, in id order
        assert re.search(rf"IN \(({edss.criteria_set_id}, {ebmt.pk}|{ebmt.pk}, {edss.criteria_set_id})\)", locks[0])


@pytest.mark.parametrize("how", ["own page", "list"])
def test_a_criterion_deleted_locks_its_set_before_itself_as_saving_it_does(shipped_criteria, admin, how):
    """Deleted on its own page or from the list while another admin saves it (or its set's page): both lock the set
    before the criterion, so on PostgreSQL the two take turns rather than deadlock (a 500 for one of them)."""
    edss = criterion("edss_below_6")
    with CaptureQueriesContext(connection) as queries:
        if how == "own page":
            response = admin.post(url("criterion_delete", edss.pk), {"post": "yes"})
        else:
            response = admin.post(url("criterion_changelist"), {
                "action": "delete_selected", "_selected_action": [edss.pk], "post": "yes"})
    assert response.status_code == 302 and not Criterion.objects.filter(pk=edss.pk).exists()
    sql = [q["sql"] for q in queries]
    deleted = next(i for i, q in enumerate(sql) if q.startswith('DELETE FROM "screening_criterion"'))
    locked = [i for i, q in enumerate(sql) if "FOR UPDATE" in q and 'FROM "screening_criteriaset"' in q]
    if connection.features.has_select_for_update:
        assert locked and locked[0] < deleted


def test_deactivating_a_criterion_moves_the_version_and_it_is_no_longer_scored(shipped_criteria, admin, superuser):
    criteria_set = article()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", active=False)
    assert_saved(save_anyway(admin, url("criteriaset_change", criteria_set.pk), data))

    edss = criterion("edss_below_6")
    assert edss.active is False
    assert article().version == criteria_set.version + 1
    assert edss.history.latest().history_user == superuser
    assert criteria_audits(superuser).exists()
    headline = services.evaluate(answers(edss=7.0), TODAY).headline
    assert "edss_below_6" not in [c["code"] for c in headline["criteria"]]


def test_editing_a_criterion_in_the_criterion_admin_moves_the_version_history_and_audit(
        shipped_criteria, admin, superuser):
    criteria_set, edss = article(), criterion("edss_below_6")
    page = admin.get(url("criterion_change", edss.pk))
    data = {**form_data(page), **edss_threshold("5.5")}
    assert_saved(save(admin, url("criterion_change", edss.pk), data))

    assert criterion("edss_below_6").value == 5.5
    assert article().version == criteria_set.version + 1
    assert edss.history.latest().history_user == superuser
    audit = criteria_audits(superuser).latest("created_at")
    assert "changed" in audit.detail and "EDSS" in audit.detail


def test_deleting_a_criterion_in_the_sets_inline_moves_the_version(shipped_criteria, admin, superuser):
    criteria_set = article()
    data = form_data(set_page(admin, criteria_set))
    data[row_of(data, "edss_below_6") + "DELETE"] = "on"
    assert_saved(save_anyway(admin, url("criteriaset_change", criteria_set.pk), data))
    assert not Criterion.objects.filter(criteria_set=criteria_set, code="edss_below_6").exists()
    assert article().version == criteria_set.version + 1
    deleted = Criterion.history.filter(code="edss_below_6", criteria_set_id=criteria_set.pk).latest()
    assert deleted.history_type == "-" and deleted.history_user == superuser


def test_deleting_criteria_from_the_criterion_list_moves_each_sets_version_once(shipped_criteria, admin, superuser):
    """The list's "Delete selected criteria" action is a change to the sets' criteria like any other: one version
    more for each set it deletes from, however many of its criteria."""
    mist = CriteriaSet.objects.get(code="mist")
    chosen = [criterion("edss_below_6"), criterion("serious_comorbidity"), mist.criteria.first()]
    response = admin.post(url("criterion_changelist"), {
        "action": "delete_selected", "_selected_action": [c.pk for c in chosen], "post": "yes"}, follow=True)
    assert response.status_code == 200
    assert not Criterion.objects.filter(pk__in=[c.pk for c in chosen]).exists()
    assert criteria_audits(superuser).filter(detail__startswith="deleted").count() == 3
    assert (version_shown(admin, article()), version_shown(admin, mist)) == ("2", "2")


def set_without_active_criteria(admin, criteria_set, how):
    data = form_data(set_page(admin, criteria_set))
    for code in criteria_set.criteria.values_list("code", flat=True):
        data = with_criterion(data, code, active=False) if how == "untick" else {
            **data, row_of(data, code) + "DELETE": "on"}
    return data


@pytest.mark.parametrize("how", ["untick", "delete"])
def test_an_active_set_keeps_at_least_one_active_criterion(shipped_criteria, admin, how):
    """With no criteria the verdict rules read every patient's answers as "likely", even PPMS at EDSS 8: an active
    set is never left without an active criterion, in its inline, its preview or the criterion admin."""
    criteria_set = article()
    data = set_without_active_criteria(admin, criteria_set, how)
    assert_not_saved_with_message(save(admin, url("criteriaset_change", criteria_set.pk), data),
                                  "needs at least one active criterion")
    preview = admin.post(url("criteriaset_preview", criteria_set.pk), data)
    assert "needs at least one active criterion" in page_text(preview)
    assert article().version == criteria_set.version
    assert services.evaluate(answers(ms_type="ppms", edss=8.0), TODAY).headline["criteria"]

    last = criteria_set.criteria.first()
    criteria_set.criteria.exclude(pk=last.pk).update(active=False)
    page = admin.get(url("criterion_change", last.pk))
    assert_not_saved_with_message(
        save(admin, url("criterion_change", last.pk), {**form_data(page), "active": ""}), "at least one active")
    assert admin.post(url("criterion_delete", last.pk), {"post": "yes"}).status_code == 403
    admin.post(url("criterion_changelist"), {"action": "delete_selected", "_selected_action": [last.pk], "post": "yes"})
    assert Criterion.objects.filter(pk=last.pk, active=True).exists()


def test_deleting_every_criterion_of_a_set_from_the_list_deletes_none_and_says_why(shipped_criteria, admin, superuser):
    """Not "Successfully deleted 8 criteria" over the one kept, with 8 audit entries: the whole choice is refused."""
    criteria_set = article()
    chosen = list(criteria_set.criteria.values_list("pk", flat=True))
    response = admin.post(url("criterion_changelist"), {
        "action": "delete_selected", "_selected_action": chosen, "post": "yes"}, follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert said == [f"Nothing was deleted. {criteria_set.name}: An active set needs at least one active criterion: "
                    "with none, every patient's answers would read as a match. Keep a criterion active, or make the "
                    "set inactive first."]
    assert article().criteria.count() == len(chosen) and article().version == criteria_set.version
    assert not criteria_audits(superuser).exists()
    admin.post(url("criterion_changelist"), {"action": "delete_selected", "_selected_action": chosen[1:],
                                             "post": "yes"})
    assert list(article().criteria.values_list("pk", flat=True)) == chosen[:1]  # one left: allowed


def test_the_primary_set_chosen_for_deletion_in_the_list_is_refused_with_the_reason(shipped_criteria, admin):
    """The reason, not "your account doesn't have permission to delete" shown to an admin who has it."""
    mist = CriteriaSet.objects.get(code="mist")
    response = admin.post(url("criteriaset_changelist"), {
        "action": "delete_selected", "_selected_action": [article().pk, mist.pk]}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Nothing was deleted. The primary set cannot be deleted. Make another set primary first."]
    assert CriteriaSet.objects.filter(code__in=["article", "mist"]).count() == 2


@pytest.mark.parametrize("name, row, first, second", [
    ("criterion", lambda: criterion("diagnosed_under_10_years"),
     {"value": "15", "label": "Diagnosed less than 15 years ago", "explanation": "Shorter is better."},
     {"source": "Edited in tab B"}),
    ("note", lambda: Note.objects.order_by("pk").first(), {"title": "Changed in tab A"}, {"source": "Edited in tab B"}),
    ("referencecase", lambda: ReferenceCase.objects.order_by("pk").first(), {"name": "Changed in tab A"},
     {"description": "Edited in tab B"}),
])
def test_a_row_saved_in_another_tab_since_this_one_opened_is_not_overwritten(shipped_criteria, admin, name, row,
                                                                              first, second):
    """The criterion's own page (and a note's, a reference case's) re-posts every field: the second save put back
    what the first had changed ("changed successfully" both times), and a set's version went up for nothing."""
    change_url = url(f"{name}_change", row().pk)
    tab_a, tab_b = form_data(admin.get(change_url)), form_data(admin.get(change_url))
    assert_saved(save(admin, change_url, {**tab_a, **first}))
    versions = dict(CriteriaSet.objects.values_list("code", "version"))
    response = save(admin, change_url, {**tab_b, **second})
    assert_not_saved_with_message(response, f"Someone saved changes to this {row()._meta.verbose_name} after you "
                                            "opened this page")
    saved = row()
    assert all(str(getattr(saved, field)) == value for field, value in first.items())
    assert all(str(getattr(saved, field)) != value for field, value in second.items())
    assert dict(CriteriaSet.objects.values_list("code", "version")) == versions
    assert_saved(save(admin, change_url, {**form_data(admin.get(change_url)), **second}))  # opened again: saved


def test_a_set_saved_in_another_tab_since_this_one_opened_is_not_overwritten(shipped_criteria, admin):
    """Two admins (or tabs) on one set: the page re-posts every criterion, so the second save silently put back
    what the first had changed. It is refused instead, and the first change stays."""
    criteria_set = article()
    tab_a, tab_b = form_data(set_page(admin, criteria_set)), form_data(set_page(admin, criteria_set))
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk),
                      with_criterion(tab_a, "edss_below_6", label="EDSS below 6.0 (changed in tab A)")))
    response = save(admin, url("criteriaset_change", criteria_set.pk),
                    with_criterion(tab_b, "diagnosed_under_10_years", label="Diagnosed under 10 years ago (tab B)"))
    assert_not_saved_with_message(response, "Someone saved changes to this set or its criteria after you opened")
    assert criterion("edss_below_6").label == "EDSS below 6.0 (changed in tab A)"
    assert "tab B" not in criterion("diagnosed_under_10_years").label

    fresh = form_data(set_page(admin, criteria_set))  # opened again: saves
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk),
                      with_criterion(fresh, "diagnosed_under_10_years", label="Diagnosed under 10 years ago (tab B)")))
    assert criterion("edss_below_6").label == "EDSS below 6.0 (changed in tab A)"


def test_an_inactive_set_may_be_left_without_criteria(shipped_criteria, admin):
    criteria_set = CriteriaSet.objects.get(code="mist")
    data = {**set_without_active_criteria(admin, criteria_set, "untick"), "active": ""}
    assert_saved(save_anyway(admin, url("criteriaset_change", criteria_set.pk), data))
    assert not CriteriaSet.objects.get(code="mist").criteria.filter(active=True).exists()


def test_moving_a_criterion_to_another_set_moves_both_sets_versions(shipped_criteria, admin):
    """The set it left has changed criteria too: screenings scored on it must see that its version moved."""
    edss, mist = criterion("edss_below_6"), CriteriaSet.objects.get(code="mist")
    versions = {"article": article().version, "mist": mist.version}
    change = url("criterion_change", edss.pk)
    data = {**form_data(admin.get(change)), "criteria_set": str(mist.pk), "code": "edss_moved_here"}
    assert_saved(save_anyway(admin, change, data))
    assert Criterion.objects.get(pk=edss.pk).criteria_set == mist
    assert CriteriaSet.objects.get(code="mist").version == versions["mist"] + 1
    assert article().version == versions["article"] + 1, "the set the criterion left kept its version"


# --- Notes: create, edit, deactivate; history, audit -------------------------------------------------------------


NEW_NOTE = {"kind": "risk", "order": "5", "active": "on", "code": "infection-risk", "title": "Infections after HSCT",
            "body": "For some months your immune system is weak.", "source": "Muraro 2025",
            "condition_fact": "", "condition_operator": "", "condition_value": "", "verdicts": "[]"}


def test_a_note_is_created_edited_and_deactivated_with_history_and_audit(shipped_criteria, admin, superuser):
    add = admin.get(url("note_add"))
    assert_saved(admin.post(url("note_add"), {**form_data(add), **NEW_NOTE}, follow=True))
    note = Note.objects.get(code="infection-risk")
    assert note.history.latest().history_type == "+" and note.history.latest().history_user == superuser
    assert criteria_audits(superuser).filter(detail__contains="Infections after HSCT").count() == 1

    change = url("note_change", note.pk)
    assert_saved(save(admin, change, {**form_data(admin.get(change)), "title": "Infections in the first year"}))
    note.refresh_from_db()
    assert note.title == "Infections in the first year"
    assert entry(history_rows(admin, "note", note.pk)[0]) == {"type": "Changed", "by": "admin", "changes": [
        ("Title", "Infections after HSCT", "Infections in the first year")]}

    data = form_data(admin.get(change))
    data.pop("active")
    assert_saved(save(admin, change, data))
    note.refresh_from_db()
    assert note.active is False
    assert note.history.latest().history_user == superuser
    assert entry(history_rows(admin, "note", note.pk)[0]) == {
        "type": "Changed", "by": "admin", "changes": [("Active", "True", "False")]}
    assert criteria_audits(superuser).filter(detail__contains="note").count() == 3
    assert note not in services.evaluate(answers(), TODAY).notes


def test_the_first_edit_of_a_shipped_note_shows_old_and_new_in_its_history(shipped_criteria, admin, superuser):
    note = Note.objects.get(code="msc-experimental")
    change = url("note_change", note.pk)
    data = form_data(admin.get(change))
    assert_saved(save(admin, change, {**data, "order": "25"}))
    assert note.history.latest().history_user == superuser
    assert criteria_audits(superuser).filter(detail__contains=note.title).exists()
    rows = history_rows(admin, "note", note.pk)
    assert rows[0]["changes"] == [("Order", "20", "25")], (
        f"the history page shows {rows} (the shipped note had no history record before the edit)")


def test_an_admin_writes_a_note_in_paragraphs_by_leaving_a_blank_line(shipped_criteria, admin):
    """The body is a box that takes a blank line, and says that one starts a paragraph; a body typed so (a browser
    sends each line break as CR LF) shows on the result page as paragraphs."""
    add = admin.get(url("note_add"))
    assert re.search(r'<textarea [^>]*name="body"', page_text(add))
    assert "A blank line starts a new paragraph" in page_text(add)
    first, second = "For some months your immune system is weak.", "You will get medicines to prevent infections."
    assert_saved(admin.post(url("note_add"), {**form_data(add), **NEW_NOTE, "body": f"{first}\r\n\r\n{second}"},
                            follow=True))
    shown = render_to_string("screening/_note.html", {"note": Note.objects.get(code="infection-risk")})
    assert re.findall(r"<p>(.*?)</p>", shown, re.S) == [first, second]


def test_a_notes_condition_is_checked_against_the_facts_type(shipped_criteria, admin):
    add = admin.get(url("note_add"))
    data = {**form_data(add), **NEW_NOTE, "condition_fact": "pregnancy", "condition_operator": "lt",
            "condition_value": "3"}
    errors = assert_not_saved_with_message(admin.post(url("note_add"), data), "does not suit")
    assert "condition_operator" in errors
    assert not Note.objects.filter(code="infection-risk").exists()


def test_a_notes_verdicts_must_be_verdicts(shipped_criteria, admin):
    data = {**form_data(admin.get(url("note_add"))), **NEW_NOTE, "verdicts": '["maybe"]'}
    errors = assert_not_saved_with_message(admin.post(url("note_add"), data), "likely, possible, unlikely")
    assert "verdicts" in errors


@pytest.mark.parametrize("condition, field, words", [
    ({"condition_fact": "pregnancy", "condition_operator": "ne", "condition_value": ""}, "condition_value",
     "Enter a value, or clear the whole condition."),
    ({"condition_fact": "", "condition_operator": "ne", "condition_value": '"no"'}, "condition_fact",
     "Choose a fact, or clear the whole condition."),
    ({"condition_fact": "pregnancy", "condition_operator": "", "condition_value": '"no"'}, "condition_operator",
     "Choose an operator, or clear the whole condition."),
])
def test_a_notes_condition_half_written_says_what_is_missing(shipped_criteria, admin, condition, field, words):
    data = {**form_data(admin.get(url("note_add"))), **NEW_NOTE, **condition}
    errors = assert_not_saved_with_message(admin.post(url("note_add"), data), words)
    assert list(errors) == [field]


def test_a_note_with_its_optional_verdicts_left_empty_shows_for_every_verdict(shipped_criteria, admin):
    data = {**form_data(admin.get(url("note_add"))), **NEW_NOTE, "verdicts": ""}
    assert_saved(admin.post(url("note_add"), data, follow=True))
    assert Note.objects.get(code=NEW_NOTE["code"]).verdicts == []


# --- Reference cases on the set page, the preview, and a screening stored before the edit -------------------------


@pytest.mark.parametrize("set_code", SHIPPED_SET_CODES)
def test_each_sets_page_lists_every_active_case_agreeing_with_the_shipped_criteria(shipped_criteria, admin, set_code):
    response = set_page(admin, CriteriaSet.objects.get(code=set_code))
    rows = table_rows(response, "reference-cases")
    assert set(rows) == set(ReferenceCase.objects.filter(active=True).values_list("code", flat=True))
    assert len(rows) == 11
    assert {code: row["agrees"] for code, row in rows.items() if row["agrees"] != "yes"} == {}


def test_an_inactive_case_is_not_listed(shipped_criteria, admin):
    ReferenceCase.objects.filter(code="heart-disease").update(active=False)
    assert "heart-disease" not in table_rows(set_page(admin, article()), "reference-cases")


def test_the_preview_shows_a_case_flip_before_saving_and_saving_flags_it(shipped_criteria, admin, superuser):
    criteria_set = article()
    stored = services.screening_create(answers=answers(edss=5.5), today=TODAY)  # scored under "EDSS below 6.0"
    assert stored.primary_verdict == "likely"
    history_before = (Criterion.history.count(), CriteriaSet.history.count())
    audits_before = AuditEvent.objects.count()

    page = set_page(admin, criteria_set)
    assert table_rows(page, "reference-cases")[FLIPPING_CASE]["agrees"] == "yes"
    data = with_criterion(form_data(page), "edss_below_6", **edss_threshold("3.0"))
    preview = admin.post(url("criteriaset_preview", criteria_set.pk), {**data, "_preview": "Preview"})

    assert preview.status_code == 200
    rows = table_rows(preview, "preview-results")
    assert set(rows) == set(table_rows(page, "reference-cases"))
    assert rows[FLIPPING_CASE] == {"set": "article", "case": FLIPPING_CASE, "before": "likely", "after": "unlikely",
                                   "agrees": "no"}
    flipped = {code for code, row in rows.items() if row["before"] != row["after"]}
    assert flipped == {FLIPPING_CASE, "breakthrough-first-line-only", "heart-disease",  # EDSS 3.0 to 3.5
                       "active-rrms-never-treated"}
    assert "Nothing has been saved" in page_text(preview)
    # Nothing was written: not the value, not the version, not the history, not the audit log.
    assert criterion("edss_below_6").value == 6.0
    assert article().version == criteria_set.version
    assert (Criterion.history.count(), CriteriaSet.history.count()) == history_before
    assert AuditEvent.objects.count() == audits_before

    # "Save" re-posts exactly what was previewed, with the tick and reason a disagreeing case needs.
    again = form_data(preview, form_id=None)
    assert again.get(row_of(again, "edss_below_6") + "value") == "3.0" and "_continue" not in again
    saved = admin.post(url("criteriaset_change", criteria_set.pk), {**again, **ANYWAY, "_continue": "Save"},
                       follow=True)
    assert_saved(saved)
    assert criterion("edss_below_6").value == 3.0
    assert article().version == criteria_set.version + 1
    assert criterion("edss_below_6").history.latest().history_user == superuser
    after = table_rows(saved, "reference-cases")
    assert after[FLIPPING_CASE]["agrees"] == "no"
    assert "DISAGREES" in page_text(saved)

    # The screening stored before the edit keeps the criteria and the verdict it was given.
    stored.refresh_from_db()
    assert stored.primary_verdict == "likely"
    headline = stored.snapshot[0]
    assert headline["set"] == "article" and headline["version"] == criteria_set.version
    assert next(c for c in headline["criteria"] if c["code"] == "edss_below_6")["value"] == 6.0
    assert services.evaluate(stored.answers, TODAY).headline["verdict"] == "unlikely"  # today's criteria differ


@pytest.mark.parametrize("name, row", [("criteriaset", article), ("criterion", lambda: criterion("edss_below_6"))])
def test_the_preview_needs_the_change_permission(shipped_criteria, admin, name, row):
    data = form_data(admin.get(url(f"{name}_change", row().pk)))
    viewer = make_user("viewer", superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename=f"view_{name}"))
    client = Client()
    client.force_login(viewer)
    assert client.post(url(f"{name}_preview", row().pk), data).status_code == 403
    anonymous = Client().post(url(f"{name}_preview", row().pk), data)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous.url


def preview_rows(response):
    """The preview's table: ``{(set code, case code): {"before": …, "after": …, …}}``."""
    reader = RowReader("preview-results")
    reader.feed(response.content.decode())
    return {(row["set"], row["case"]): row for row in reader.rows}


def test_a_criterions_own_page_previews_its_edit_as_the_sets_page_does(shipped_criteria, admin, superuser):
    """The criterion's page has the set page's preview: the same verdicts for the same edit, nothing written, and
    its Save saves what was previewed."""
    criteria_set, edss = article(), criterion("edss_below_6")
    change = url("criterion_change", edss.pk)
    page = admin.get(change)
    assert "Preview the effect on reference cases" in page_text(page)
    records = (Criterion.history.count(), CriteriaSet.history.count(), AuditEvent.objects.count())
    preview = admin.post(url("criterion_preview", edss.pk), {**form_data(page), **edss_threshold("3.0")})
    on_the_sets_page = admin.post(url("criteriaset_preview", criteria_set.pk), with_criterion(
        form_data(set_page(admin, criteria_set)), "edss_below_6", **edss_threshold("3.0")))
    assert preview_rows(preview) == preview_rows(on_the_sets_page)
    assert preview_rows(preview)[("article", FLIPPING_CASE)]["after"] == "unlikely"
    assert criterion("edss_below_6").value == 6.0 and version_shown(admin, criteria_set) == "1"
    assert (Criterion.history.count(), CriteriaSet.history.count(), AuditEvent.objects.count()) == records

    assert_saved(admin.post(change, {**form_data(preview), **ANYWAY, "_continue": "Save"}, follow=True))
    assert criterion("edss_below_6").value == 3.0 and version_shown(admin, criteria_set) == "2"
    assert criterion("edss_below_6").history.latest().history_user == superuser


SAVE_BUTTON = "Save: patients' results use these criteria from now"
TICK = "I have checked that 4 reference cases now disagree with their expected result, and want to save anyway."
NO_TICK = "Tick this box to save with reference cases that disagree, or go back and change your edits."
NO_REASON = "Write why you are saving with reference cases that disagree: it is kept in the history."


def preview_of(client, name, obj, data):
    """The preview of the edits ``data`` on the change page of ``obj`` (a set, a criterion)."""
    preview = client.post(url(f"{name}_preview", obj.pk), {**data, "_preview": "Preview"})
    assert preview.status_code == 200, preview.status_code
    return preview


def criteria_change_cells(client, criteria_set):
    """The set's history page's "Changes to its criteria", newest first, each row's cells as read."""
    text = history_page(client, "criteriaset", criteria_set.pk)
    table = text[text.index('id="criteria-changes"'):]
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r'<tr data-criterion="[^"]+" data-type=".">(.*?)</tr>', table, re.S)]


@pytest.mark.parametrize("name", ["criteriaset", "criterion"])
def test_an_edit_that_leaves_cases_disagreeing_is_saved_only_with_the_tick_and_a_reason(shipped_criteria, admin,
                                                                                         name):
    """The EDSS limit moved to 3.0 leaves 4 reference cases disagreeing: the preview says so, and its Save is refused,
    with a message beside each, until the box is ticked and a reason written; nothing typed is lost meanwhile. The
    reason is the change's in the history."""
    criteria_set, edss = article(), criterion("edss_below_6")
    obj = criteria_set if name == "criteriaset" else edss
    change = url(f"{name}_change", obj.pk)
    page = form_data(admin.get(change))
    data = with_criterion(page, "edss_below_6", **edss_threshold("3.0")) if name == "criteriaset" else \
        {**page, **edss_threshold("3.0")}
    preview = preview_of(admin, name, obj, data)
    text = page_text(preview)
    assert "4 reference cases would disagree with their expected result" in text and TICK in text
    assert SAVE_BUTTON in text and "Save these changes" not in text
    records = (Criterion.history.count(), CriteriaSet.history.count())

    posted = form_data(preview)
    for given, missing in [({}, [NO_TICK, NO_REASON]), ({"change_reason": "   "}, [NO_TICK, NO_REASON]),
                           ({"disagreements_checked": "on"}, [NO_REASON]),
                           ({"change_reason": "EBMT lowered the limit"}, [NO_TICK])]:
        refused = admin.post(change, {**posted, **given, "_continue": SAVE_BUTTON}, follow=True)
        assert refused.status_code == 200 and not refused.redirect_chain, f"saved with only {given}"
        text = page_text(refused)
        assert [message for message in (NO_TICK, NO_REASON) if message in text] == missing, given
        assert text.count("Error:") and TICK in text  # the page's title says so; the box is there to tick
        again = form_data(refused)
        assert again[(row_of(again, "edss_below_6") if name == "criteriaset" else "") + "value"] == "3.0"
        assert again.get("change_reason", "") == given.get("change_reason", "")  # as typed, kept
        assert ("disagreements_checked" in again) == ("disagreements_checked" in given)
        assert criterion("edss_below_6").value == 6.0
        assert (Criterion.history.count(), CriteriaSet.history.count()) == records

    saved = admin.post(change, {**posted, "disagreements_checked": "on", "change_reason": " EBMT lowered the limit ",
                                "_continue": SAVE_BUTTON}, follow=True)
    assert_saved(saved)
    assert criterion("edss_below_6").value == 3.0
    assert history_rows(admin, "criterion", edss.pk)[0]["Change reason"] == "EBMT lowered the limit"
    assert criteria_change_cells(admin, criteria_set)[0][-1] == "EBMT lowered the limit"
    if name == "criteriaset":
        assert history_rows(admin, "criteriaset", criteria_set.pk)[0]["Change reason"] == "EBMT lowered the limit"


def test_a_save_from_the_change_page_that_leaves_cases_disagreeing_shows_the_preview_first(shipped_criteria, admin):
    """The change page's own Save, straight past the preview, saves nothing either: it shows the preview, with the
    tick and the reason to give, before any message."""
    criteria_set = article()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", **edss_threshold("3.0"))
    shown = save(admin, url("criteriaset_change", criteria_set.pk), data)
    assert shown.status_code == 200 and not shown.redirect_chain
    assert criterion("edss_below_6").value == 6.0
    text = page_text(shown)
    assert table_rows(shown, "preview-results")[FLIPPING_CASE]["agrees"] == "no"
    assert TICK in text and NO_TICK not in text and NO_REASON not in text
    assert_saved(admin.post(url("criteriaset_change", criteria_set.pk),
                            {**form_data(shown), **ANYWAY, "_continue": SAVE_BUTTON}, follow=True))
    assert criterion("edss_below_6").value == 3.0


def test_an_edit_every_case_still_agrees_with_needs_no_tick_and_may_give_a_reason(shipped_criteria, admin):
    criteria_set = article()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", explanation="Reworded.")
    preview = preview_of(admin, "criteriaset", criteria_set, data)
    assert all(row["agrees"] == "yes" for row in table_rows(preview, "preview-results").values())
    text = page_text(preview)
    assert "now disagree" not in text and "Reason for this change" in text and SAVE_BUTTON in text
    assert_saved(admin.post(url("criteriaset_change", criteria_set.pk),
                            {**form_data(preview), "_continue": SAVE_BUTTON}, follow=True))
    assert criterion("edss_below_6").explanation == "Reworded."
    assert history_rows(admin, "criterion", criterion("edss_below_6").pk)[0]["Change reason"] == ""

    data = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", explanation="Reworded again.")
    preview = preview_of(admin, "criteriaset", criteria_set, data)
    assert_saved(admin.post(url("criteriaset_change", criteria_set.pk), {
        **form_data(preview), "change_reason": "Matches the 2025 update", "_continue": SAVE_BUTTON}, follow=True))
    assert criteria_change_cells(admin, criteria_set)[0][-1] == "Matches the 2025 update"


def test_a_reason_longer_than_the_history_keeps_is_refused_not_cut_short(shipped_criteria, admin):
    criteria_set = article()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", **edss_threshold("3.0"))
    preview = preview_of(admin, "criteriaset", criteria_set, data)
    refused = admin.post(url("criteriaset_change", criteria_set.pk), {
        **form_data(preview), **ANYWAY, "change_reason": "x" * 101, "_continue": SAVE_BUTTON}, follow=True)
    assert not refused.redirect_chain and "at most 100 characters" in page_text(refused)
    assert criterion("edss_below_6").value == 6.0


def test_the_tick_counts_the_disagreeing_cases_in_words_for_one_and_for_many():
    from screening.admin import SaveConfirmation
    assert SaveConfirmation(disagreeing=1).fields["disagreements_checked"].label == (
        "I have checked that 1 reference case now disagrees with its expected result, and want to save anyway.")
    assert SaveConfirmation(disagreeing=4).fields["disagreements_checked"].label == TICK


@pytest.mark.parametrize("name, row", [("criteriaset", article), ("criterion", lambda: criterion("edss_below_6"))])
def test_a_preview_opened_again_by_its_address_goes_to_the_change_page(shipped_criteria, admin, name, row):
    """A preview opened in a new tab or from a bookmark has no edits to show: the saved page, not "no access"."""
    response = admin.get(url(f"{name}_preview", row().pk))
    assert response.status_code == 302 and response.url == url(f"{name}_change", row().pk)


def test_a_history_entry_nobody_made_in_the_admin_says_so_with_a_dash_in_both_tables(shipped_criteria, admin):
    """A change saved by a release's load or a script has no admin: both histories show "—", not "None"."""
    criteria_set, edss = article(), criterion("edss_below_6")
    edss.value, edss.label = 5.5, "Disability score (EDSS) below 5.5"
    edss.save()
    assert history_rows(admin, "criterion", edss.pk)[0]["Changed by"] == "—"
    assert criteria_change_cells(admin, criteria_set)[0][1] == "—"
    assert history_rows(admin, "criteriaset", criteria_set.pk)[0]["Changed by"] == "—"
    assert "None" not in history_page(admin, "criterion", edss.pk)


def test_a_preview_is_headed_by_what_is_being_previewed_not_what_is_saved(shipped_criteria, admin):
    edss = criterion("edss_below_6")
    page = form_data(admin.get(url("criterion_change", edss.pk)))
    preview = page_text(admin.post(url("criterion_preview", edss.pk), {**page, **edss_threshold("3.0")}))
    assert "Preview for article: Disability score (EDSS) below 3.0" in preview
    blanked = page_text(admin.post(url("criterion_preview", edss.pk), {**page, "label": ""}))
    assert f"Preview for {edss}" in blanked  # nothing to name it by but the saved label


def test_a_criterions_preview_lists_the_problems_of_its_page(shipped_criteria, admin):
    edss = criterion("edss_below_6")
    data = {**form_data(admin.get(url("criterion_change", edss.pk))), "value": "5.5"}  # its label still says 6.0
    preview = admin.post(url("criterion_preview", edss.pk), data)
    assert "Label: The label still says 6.0, but the threshold is now 5.5." in page_text(preview)
    assert not preview_rows(preview)


def test_a_criterions_preview_of_a_move_shows_both_sets(shipped_criteria, admin):
    """Moved to another set, a criterion changes two sets: the preview shows each as its own page would."""
    criteria_set, edss, mist = article(), criterion("edss_below_6"), CriteriaSet.objects.get(code="mist")
    data = {**form_data(admin.get(url("criterion_change", edss.pk))), "criteria_set": str(mist.pk),
            "code": "edss_moved_here"}
    rows = preview_rows(admin.post(url("criterion_preview", edss.pk), data))
    assert {set_code for set_code, case in rows} == {"article", "mist"}
    left = form_data(set_page(admin, criteria_set))
    joined = with_new_row(form_data(set_page(admin, mist)), **{name: data[name] for name in NEW_CRITERION})
    assert rows == {**preview_rows(admin.post(url("criteriaset_preview", criteria_set.pk),
                                              {**left, row_of(left, "edss_below_6") + "DELETE": "on"})),
                    **preview_rows(admin.post(url("criteriaset_preview", mist.pk), joined))}


# --- The shipped reference cases agree with the shipped sets ------------------------------------------------------


def test_every_shipped_set_has_expectations_in_every_shipped_case():
    fixtures = {Path(f).name: json.loads(Path(f).read_text(encoding="utf-8")) for f in FIXTURES}
    objects = fixtures["reference_cases.json"]
    shipped_sets = sorted({o["fields"]["code"] for rows in fixtures.values() for o in rows
                           if o["model"] == "screening.criteriaset"})
    assert shipped_sets == SHIPPED_SET_CODES
    assert len(objects) == 11
    for case in objects:
        assert sorted(case["fields"]["expected"]) == SHIPPED_SET_CODES, case["fields"]["code"]


@pytest.mark.parametrize("set_code", SHIPPED_SET_CODES)
def test_every_shipped_case_gets_its_expected_verdict_from_the_shipped_set(shipped_criteria, set_code):
    criteria_set = CriteriaSet.objects.get(code=set_code)
    rules = [c.to_rule() for c in criteria_set.criteria.filter(active=True).order_by("order", "code")]
    results = services.reference_case_results({set_code: rules})
    table = {row["case"].code: (row["verdicts"][set_code]["verdict"], row["verdicts"][set_code]["expected"])
             for row in results}
    assert len(table) == 11
    assert {code: got for code, got in table.items() if got[0] != got[1]} == {}


def test_every_shipped_case_has_valid_answers(shipped_criteria):
    for case in ReferenceCase.objects.all():
        _clean, problems = validate_answers(case.answers, case.scored_on)
        assert problems == [], case.code


# --- Reference cases in the admin --------------------------------------------------------------------------------


def case_data(admin, **changes):
    page = admin.get(url("referencecase_add"))
    case_answers = changes.pop("answers", answers())
    data = {**form_data(page), "code": "young-active", "name": "Young and active", "description": "A test case.",
            "answers": case_answers if isinstance(case_answers, str) else json.dumps(case_answers),
            "scored_on": "2026-11-23", "expected": json.dumps({"article": "likely"}), "active": "on"}
    data.update(changes)
    return data


def test_a_reference_case_with_valid_answers_is_saved_cleaned_and_listed_on_the_set_page(
        shipped_criteria, admin, superuser):
    raw = answers(edss="3.5", age="34")  # typed as text: the admin keeps the cleaned answers
    assert_saved(admin.post(url("referencecase_add"), {**case_data(admin, answers=raw), "_save": "Save"}, follow=True))
    case = ReferenceCase.objects.get(code="young-active")
    assert case.answers["edss"] == 3.5 and case.answers["age"] == 34
    assert case.expected == {"article": "likely"} and case.scored_on == TODAY
    assert case.history.latest().history_user == superuser
    assert criteria_audits(superuser).filter(detail__contains="Young and active").exists()
    assert table_rows(set_page(admin, article()), "reference-cases")["young-active"]["agrees"] == "yes"


def test_a_reference_case_with_an_impossible_age_gets_a_message_naming_age(shipped_criteria, admin):
    response = admin.post(url("referencecase_add"), case_data(admin, answers=answers(age=12)))
    errors = assert_not_saved_with_message(response, "age")
    assert any(message.startswith("age:") for message in errors["answers"]), errors
    assert not ReferenceCase.objects.filter(code="young-active").exists()


@pytest.mark.parametrize("field, typed, message", [
    ("answers", '{"age": 34,', "This is not JSON"),
    ("answers", "[1, 2]", "JSON object"),
    ("expected", '{"no-such-set": "likely"}', "no-such-set"),
    ("expected", '{"article": "probably"}', "likely"),
    ("answers", '{"age": ' + "9" * 5000 + "}", "This is not JSON"),
    ("expected", '{"article": "\\udfff\\ud800"}', "This is not JSON"),
    ("answers", '{"age": 1e400}', "This is not JSON"),
    ("expected", '{"article": NaN}', "This is not JSON"),
], ids=["malformed JSON", "answers not an object", "unknown set", "not a verdict", "number of 5000 digits",
        "lone surrogates", "number Python reads as infinity", "NaN"])
def test_a_reference_case_with_unusable_json_gets_a_message_next_to_the_field(shipped_criteria, admin, field, typed,
                                                                               message):
    response = admin.post(url("referencecase_add"), case_data(admin, **{field: typed}))
    assert field in assert_not_saved_with_message(response, message)


def test_a_reference_case_edit_shows_on_the_set_page(shipped_criteria, admin):
    case = ReferenceCase.objects.get(code=FLIPPING_CASE)
    change = url("referencecase_change", case.pk)
    data = form_data(admin.get(change))
    expected = json.loads(data["expected"])
    assert expected["article"] == "likely"
    data["expected"] = json.dumps({**expected, "article": "possible"})
    assert_saved(save(admin, change, data))
    assert table_rows(set_page(admin, article()), "reference-cases")[FLIPPING_CASE]["agrees"] == "no"


# --- Bad input on a criterion: a message on the form, never a 500 -------------------------------------------------


BAD_CRITERIA = [
    pytest.param("edss_below_6", {"value": "[6,"}, "This is not JSON", id="malformed-json"),
    # the mistakes people make typing JSON, and what to write instead
    pytest.param("edss_below_6", {"value": "5,5"}, "Write a number with a dot (5.5, not 5,5)", id="decimal-comma"),
    pytest.param("relapsing_remitting", {"value": "rrms"}, 'text in double quotes ("no", not no)', id="bare-word"),
    pytest.param("edss_below_6", {"value": "55"}, "runs from 0 to 9.5: 55 is outside it", id="edss-55-for-5.5"),
    pytest.param("edss_below_6", {"value": "-3"}, "runs from 0 to 9.5", id="edss-below-the-scale"),
    pytest.param("relapsing_remitting", {"operator": "lt"}, "does not suit", id="lt-on-a-choice-fact"),
    pytest.param("relapsing_remitting", {"value": '"rrsm"'}, "'rrsm' is not a value", id="choice-not-allowed"),
    pytest.param("edss_below_6", {"operator": "between", "value": "[6, 2]"}, "The range is reversed: write [2, 6]",
                 id="reversed-range"),
    pytest.param("edss_below_6", {"value": '"six"'}, "is a number", id="text-for-a-number"),
    pytest.param("relapsing_remitting", {"operator": "in", "value": '"rrms"'}, "Use a list", id="in-without-a-list"),
    pytest.param("edss_below_6", {"fact": "shoe_size"}, "Select a valid choice", id="unknown-fact"),
    pytest.param("edss_below_6", {"operator": "about"}, "Select a valid choice", id="unknown-operator"),
    # Python's NaN and Infinity, and numbers it reads as infinity: not JSON, which no database stores either
    pytest.param("edss_below_6", {"value": "NaN"}, "This is not JSON", id="nan"),
    pytest.param("edss_below_6", {"value": "Infinity"}, "This is not JSON", id="infinity"),
    pytest.param("edss_below_6", {"operator": "between", "value": "[-Infinity, 6]"}, "This is not JSON",
                 id="minus-infinity-in-a-range"),
    pytest.param("edss_below_6", {"value": "1e999"}, "This is not JSON", id="overflowing-number"),
    pytest.param("edss_below_6", {"value": "9" * 309}, "is a number", id="whole-number-too-long-for-a-float"),
    # JSON that Python's reader refuses beyond its syntax, or that no page can show again
    pytest.param("edss_below_6", {"value": "9" * 5000}, "This is not JSON", id="number-of-5000-digits"),
    pytest.param("edss_below_6", {"value": "[" * 10_000 + "]" * 10_000}, "This is not JSON", id="nested-10000-deep"),
    pytest.param("relapsing_remitting", {"value": '"\\ud800"'}, "This is not JSON", id="lone-surrogate"),
]


@pytest.mark.parametrize("code, change, message", BAD_CRITERIA)
def test_bad_criterion_input_in_the_sets_inline_is_a_message(shipped_criteria, admin, code, change, message):
    criteria_set, records = article(), criterion(code).history.count()
    data = with_criterion(form_data(set_page(admin, criteria_set)), code, **change)
    errors = assert_not_saved_with_message(save(admin, url("criteriaset_change", criteria_set.pk), data), message)
    field = next(iter(change)) if len(change) == 1 else "value"
    assert row_of(data, code) + field in errors, errors
    assert article().version == criteria_set.version
    assert criterion(code).history.count() == records


@pytest.mark.parametrize("code, change, message", BAD_CRITERIA)
def test_bad_criterion_input_in_the_criterion_admin_is_a_message(shipped_criteria, admin, code, change, message):
    target = criterion(code)
    records = target.history.count()
    change_url = url("criterion_change", target.pk)
    data = {**form_data(admin.get(change_url)), **change}
    errors = assert_not_saved_with_message(save(admin, change_url, data), message)
    assert (next(iter(change)) if len(change) == 1 else "value") in errors
    assert criterion(code).history.count() == records


@pytest.mark.parametrize("typed", ["1e400", "-1e400", "NaN", "-Infinity", "[2, 1e400]"])
def test_a_number_json_cannot_hold_comes_back_as_typed_with_its_message(shipped_criteria, admin, typed):
    """Python reads 1e400 as infinity: the box showed "Infinity" (not what was typed, and not JSON) with a message
    about numbers, instead of the message for malformed JSON beside what was typed."""
    change_url = url("criterion_change", criterion("edss_below_6").pk)
    response = save(admin, change_url, {**form_data(admin.get(change_url)), "value": typed})
    assert "value" in assert_not_saved_with_message(response, "This is not JSON")
    assert form_data(response)["value"] == typed
    assert criterion("edss_below_6").value == 6.0


def test_a_preview_lists_the_problems_of_the_sets_own_fields_too(shipped_criteria, admin):
    """A blanked code, or a page opened before someone else saved: said before "Save these changes" is offered."""
    criteria_set = article()
    stale = form_data(set_page(admin, criteria_set))
    text = page_text(admin.post(url("criteriaset_preview", criteria_set.pk), {**stale, "name": ""}))
    assert "Name: This field is required." in text and "Save these changes" not in text
    assert_saved(save(admin, url("criteriaset_change", criteria_set.pk),
                      {**form_data(set_page(admin, criteria_set)), "description": "Edited in another tab."}))
    text = page_text(admin.post(url("criteriaset_preview", criteria_set.pk), stale))
    assert "Someone saved changes to this set" in text and "Save these changes" not in text


def test_a_preview_that_lists_problems_says_error_first_in_the_pages_title(shipped_criteria, admin):
    """As the admin's change form and the patients' forms do: the title is what a screen reader says first."""
    criteria_set = article()
    data = form_data(set_page(admin, criteria_set))
    title = re.compile(r"<title>\s*(.*?)\s*</title>", re.S)
    fine = title.search(page_text(admin.post(url("criteriaset_preview", criteria_set.pk), data))).group(1)
    assert fine.startswith("Preview: effect of your edits"), fine
    wrong = title.search(page_text(admin.post(url("criteriaset_preview", criteria_set.pk), {**data, "name": ""})))
    assert wrong.group(1) == "Error: " + fine, wrong.group(1)


def test_a_preview_has_one_main_heading_naming_the_set(shipped_criteria, admin):
    """The admin's "Preview: effect of your edits on the reference cases" stood above the page's own "Preview for
    <set>": two headings of the first level, the same words twice for a screen reader's list of headings."""
    criteria_set = article()
    text = page_text(admin.post(url("criteriaset_preview", criteria_set.pk), form_data(set_page(admin, criteria_set))))
    headings = [re.sub(r"<[^>]+>|\s+", " ", h).strip() for h in re.findall(r"<h1\b[^>]*>(.*?)</h1>", text, re.S)]
    assert headings == ["Preview for Article profile (typical HSCT candidate)"], headings


@pytest.mark.parametrize("code, change, message", BAD_CRITERIA)
def test_a_preview_with_bad_input_lists_the_problems_and_writes_nothing(shipped_criteria, admin, code, change,
                                                                        message):
    criteria_set, records = article(), criterion(code).history.count()
    audits = AuditEvent.objects.count()
    data = with_criterion(form_data(set_page(admin, criteria_set)), code, **change)
    preview = admin.post(url("criteriaset_preview", criteria_set.pk), data)
    assert preview.status_code == 200, preview.status_code
    text = page_text(preview)
    field = next(iter(change)) if len(change) == 1 else "value"
    problems = re.findall(r'<ul class="errorlist">(.*?)</ul>', text, re.S)
    items = [item.strip() for item in re.findall(r"<li>(.*?)</li>", "".join(problems), re.S)]
    assert any(item.startswith(f"{code} · {field}: ") and message in item for item in items), (
        f"the preview does not say what is wrong with {code} · {field}; it lists {items}")
    assert "Go back and correct these" in text and "Save these changes" not in text
    assert not table_rows(preview, "preview-results")
    assert article().version == criteria_set.version and AuditEvent.objects.count() == audits
    assert criterion(code).history.count() == records


def go_back_to_the_edits(client, preview):
    """Press the preview's "Go back to your edits" button: its form posted where it points, as a browser would."""
    text = page_text(preview)
    button = re.search(r'<input type="submit"[^>]* name="([^"]+)" value="(Go back to your edits[^"]*)"', text)
    assert button, "the preview offers no way back to the edits"
    action = re.search(r'<form method="post" action="([^"]+)">', text).group(1)
    return client.post(action, {**form_data(preview), button.group(1): button.group(2)})


def test_a_preview_with_problems_goes_back_to_the_edits_as_typed_with_each_message_beside_its_field(
        shipped_criteria, admin):
    """Not only "Discard and go back to the saved page", which lost every edit (the browser's Back button was the only
    way back to them): the edits come back as typed, the problem marked on its field, and nothing is saved."""
    criteria_set = article()
    records = (Criterion.history.count(), CriteriaSet.history.count(), AuditEvent.objects.count())
    data = with_criterion({**form_data(set_page(admin, criteria_set)), "description": "Edited before a slip."},
                          "edss_below_6", value="5,5", label="Disability score (EDSS) below 5.5")
    preview = admin.post(url("criteriaset_preview", criteria_set.pk), {**data, "_preview": "Preview"})
    assert "Go back and correct these" in page_text(preview)

    back = go_back_to_the_edits(admin, preview)
    errors = assert_not_saved_with_message(back, "Write a number with a dot", "These are your edits as you typed")
    shown, row = form_data(back), row_of(data, "edss_below_6")
    assert "Write a number with a dot" in " ".join(errors[row + "value"])
    typed = {name: value for name, value in data.items() if name != "csrfmiddlewaretoken"}  # masked anew each page
    assert {name: shown.get(name) for name in typed} == typed
    assert "Preview the effect on reference cases" in page_text(back)  # the page to correct, preview and save from
    assert article().description == criteria_set.description and article().version == criteria_set.version
    assert criterion("edss_below_6").value == 6.0
    assert (Criterion.history.count(), CriteriaSet.history.count(), AuditEvent.objects.count()) == records


def test_going_back_from_a_preview_saves_nothing_even_when_its_problem_has_gone_since(shipped_criteria, admin):
    """The preview said the set's last active criterion cannot be switched off; meanwhile another admin switched
    another one on. Going back to the edits is not saving them: they come back to be looked at again."""
    criteria_set = article()
    last = criteria_set.criteria.order_by("order").last()
    criteria_set.criteria.exclude(pk=last.pk).update(active=False)
    data = {**form_data(admin.get(url("criterion_change", last.pk))), "active": ""}
    preview = admin.post(url("criterion_preview", last.pk), data)
    assert "needs at least one active criterion" in page_text(preview)
    criteria_set.criteria.filter(code="edss_below_6").update(active=True)

    back = go_back_to_the_edits(admin, preview)
    assert_not_saved_with_message(back, "These are your edits as you typed them")
    assert "active" not in form_data(back)  # unticked, as the admin left it
    assert Criterion.objects.get(pk=last.pk).active
    assert article().version == criteria_set.version


# A threshold changed while the label still quotes the old one: patients would read "below 6.0" beside "below 5.5".
STALE_LABELS = [
    pytest.param("article", "edss_below_6", "5.5", "6.0", id="edss"),
    pytest.param("mist", "edss_2_to_6", "[2.0, 6.5]", "6.0", id="one-end-of-a-range"),
    pytest.param("ebmt-2020", "age_under_45", "50", "45", id="age"),
]


@pytest.mark.parametrize("set_code, code, value, quoted", STALE_LABELS)
def test_a_new_threshold_under_a_label_quoting_the_old_one_is_a_message_on_the_label(
        shipped_criteria, admin, set_code, code, value, quoted):
    criteria_set, before = CriteriaSet.objects.get(code=set_code), criterion(code, set_code).value
    data = with_criterion(form_data(set_page(admin, criteria_set)), code, value=value)
    errors = assert_not_saved_with_message(save(admin, url("criteriaset_change", criteria_set.pk), data),
                                           f"The label still says {quoted}, but the threshold is now {value}")
    assert row_of(data, code) + "label" in errors, errors  # (and the explanation, where it quotes the old one too)
    assert criterion(code, set_code).value == before
    preview = page_text(admin.post(url("criteriaset_preview", criteria_set.pk), data))
    assert f"{code} · label: The label still says {quoted}," in preview

    change_url = url("criterion_change", criterion(code, set_code).pk)
    errors = assert_not_saved_with_message(
        save(admin, change_url, {**form_data(admin.get(change_url)), "value": value}), f"still says {quoted},")
    assert "label" in errors
    words = {name: getattr(criterion(code, set_code), name).replace(quoted, "NEW") for name in ("label", "explanation")}
    assert_saved(save(admin, change_url, {**form_data(admin.get(change_url)), "value": value, **words}))
    assert criterion(code, set_code).value == json.loads(value)


@pytest.mark.parametrize("value, message", [
    ('"abc"', "“edss” is a number: write a number"), ("NaN", "This is not JSON"),
    ("[1, 2]", "“edss” is a number: write a number"),
])
def test_a_threshold_that_is_not_one_is_one_message_on_the_value_not_also_one_on_the_label(
        shipped_criteria, admin, value, message):
    """What is wrong is the value: "The label still says 6.0, but the threshold is now "abc"" beside it sent the admin
    to change a label that was right (and read as though "abc" had been taken as the new threshold)."""
    criteria_set = article()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", value=value)
    errors = assert_not_saved_with_message(save(admin, url("criteriaset_change", criteria_set.pk), data), message)
    assert list(errors) == [row_of(data, "edss_below_6") + "value"], errors
    assert "still says" not in page_text(admin.post(url("criteriaset_preview", criteria_set.pk), data))


@pytest.mark.parametrize("value, message", [
    ('"rrsm"', "'rrsm' is not a value"), ("1e400", "This is not JSON"), ('["rrms"]', ""),
])
def test_a_choice_that_is_not_one_is_one_message_on_the_value_not_also_one_on_the_label(
        shipped_criteria, admin, value, message):
    """"The label is unchanged, but the test is not (value)" beside "'rrsm' is not a value" sent the admin to change a
    label that was right: the typo is the only thing to correct."""
    criteria_set = article()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "relapsing_remitting", value=value)
    errors = assert_not_saved_with_message(save(admin, url("criteriaset_change", criteria_set.pk), data), message)
    assert list(errors) == [row_of(data, "relapsing_remitting") + "value"], errors


def test_a_new_threshold_under_an_explanation_quoting_the_old_one_is_a_message_on_the_explanation(
        shipped_criteria, admin):
    """ECTRIMS-EBMT's EDSS explains "The ideal is below 6.0": beside a new 5.5 it would contradict the label."""
    edss = criterion("edss_below_6", "ectrims-ebmt-2025")
    change_url = url("criterion_change", edss.pk)
    data = {**form_data(admin.get(change_url)), **edss_threshold("5.5")}
    errors = assert_not_saved_with_message(save(admin, change_url, data),
                                           "The explanation still says 6.0, but the threshold is now 5.5.")
    assert list(errors) == ["explanation"]
    data["explanation"] = edss.explanation.replace("6.0", "5.5")
    assert_saved(save(admin, change_url, data))


@pytest.mark.parametrize("code, change, named", [
    ("age_under_45", {"operator": "gte"}, "operator"), ("age_under_45", {"kind": "exclusion"}, "kind"),
    ("age_under_45", {"operator": "gte", "kind": "exclusion"}, "operator, kind"),
    # "Aged under 45" over years since diagnosis under 45 (a fact whose range holds 45: EDSS's does not)
    ("age_under_45", {"fact": "years_since_diagnosis"}, "fact"),
    ("relapsing_remitting", {"value": '"spms"'}, "value"),  # the answer tested, not a number
    ("highly_active", {"value": "false"}, "value"),
    ("relapsing_remitting", {"operator": "in", "value": '["rrms", "spms"]', "kind": "exclusion"},
     "operator, value, kind"),
])
def test_a_test_turned_round_under_an_unchanged_label_is_a_message_on_the_label(shipped_criteria, admin, code,
                                                                               change, named):
    """"Aged under 45" over a test of age 45 or above would tell patients the opposite of what is tested."""
    tested = criterion(code, "ebmt-2020")
    change_url = url("criterion_change", tested.pk)
    errors = assert_not_saved_with_message(save(admin, change_url, {**form_data(admin.get(change_url)), **change}),
                                           f"The label is unchanged, but the test is not ({named})")
    assert list(errors) == ["label"]
    assert_saved(save_anyway(admin, change_url, {**form_data(admin.get(change_url)), **change, "label": "Reworded"}))
    assert criterion(code, "ebmt-2020").label == "Reworded"


def test_a_preview_of_a_duplicate_code_lists_the_problem(shipped_criteria, admin):
    criteria_set = article()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "diagnosed_under_10_years", code="edss_below_6")
    preview = admin.post(url("criteriaset_preview", criteria_set.pk), data)
    assert preview.status_code == 200
    assert "duplicate" in page_text(preview) and not table_rows(preview, "preview-results")


def test_the_preview_counts_new_deleted_and_deactivated_rows(shipped_criteria, admin):
    """A new criterion, a deleted one and a deactivated one change the preview as they would the saved set."""
    criteria_set = article()
    data = with_new_row(form_data(set_page(admin, criteria_set)), code="age_under_30", value="30",
                        severity="unlikely")
    rows = table_rows(admin.post(url("criteriaset_preview", criteria_set.pk), data), "preview-results")
    ages = {case.code: case.answers["age"] for case in ReferenceCase.objects.all()}
    for code, row in rows.items():  # unfavourable from 30 (severity unlikely); younger cases keep their verdict
        assert row["after"] == ("unlikely" if ages[code] >= 30 else row["before"]), (code, ages[code], row)
    assert sum(age < 30 for age in ages.values()) >= 1 and sum(age >= 30 for age in ages.values()) >= 1
    assert rows[FLIPPING_CASE]["before"] == "likely"

    moved = with_criterion(form_data(set_page(admin, criteria_set)), "edss_below_6", **edss_threshold("3.0"))
    deleted = {**moved, row_of(moved, "edss_below_6") + "DELETE": "on"}
    deactivated = with_criterion(moved, "edss_below_6", active=False)
    for data in (deleted, deactivated):
        rows = table_rows(admin.post(url("criteriaset_preview", criteria_set.pk), data), "preview-results")
        assert rows[FLIPPING_CASE]["after"] == "likely"  # the 3.0 threshold is not counted once it is gone
    assert article().criteria.count() == 7 and criterion("edss_below_6").active


def test_two_rows_with_the_same_code_in_the_inline_is_a_message(shipped_criteria, admin):
    criteria_set = article()
    data = with_criterion(form_data(set_page(admin, criteria_set)), "diagnosed_under_10_years", code="edss_below_6")
    response = save(admin, url("criteriaset_change", criteria_set.pk), data)
    assert_not_saved_with_message(response, "duplicate")
    assert article().criteria.filter(code="diagnosed_under_10_years").exists()
    assert article().version == criteria_set.version


def test_a_new_row_with_an_existing_code_in_the_inline_is_a_message(shipped_criteria, admin):
    criteria_set = article()
    data = with_new_row(form_data(set_page(admin, criteria_set)), code="edss_below_6")
    assert_not_saved_with_message(save(admin, url("criteriaset_change", criteria_set.pk), data), "duplicate")
    assert article().criteria.count() == 7


@pytest.mark.parametrize("delete_second", [False, True], ids=["swap", "code-of-a-deleted-row"])
def test_a_code_another_criterion_still_holds_in_the_inline_is_a_message_not_a_500(shipped_criteria, admin,
                                                                                    delete_second):
    """Criteria are saved one at a time: the first row to take the other's code met the database's unique
    constraint (a 500). What the admin typed comes back on the form."""
    criteria_set = article()
    data = form_data(set_page(admin, criteria_set))
    first, second = data["criteria-0-code"], data["criteria-1-code"]
    held = {code: criterion(code).pk for code in (first, second)}
    data["criteria-0-code"] = second
    if delete_second:
        data["criteria-1-DELETE"] = "on"
    else:
        data["criteria-1-code"] = first
    response = save(admin, url("criteriaset_change", criteria_set.pk), data)
    errors = assert_not_saved_with_message(response, "still has the code")
    assert list(errors) == ["criteria-0-code"] if delete_second else ["criteria-0-code", "criteria-1-code"]
    shown = form_data(response)
    assert (shown["criteria-0-code"], shown["criteria-1-code"]) == (data["criteria-0-code"], data["criteria-1-code"])
    assert {code: criterion(code).pk for code in (first, second)} == held
    assert article().version == criteria_set.version


def test_a_new_criterion_in_the_criterion_admin_with_a_code_taken_in_its_set_is_a_message(shipped_criteria, admin):
    data = {**form_data(admin.get(url("criterion_add"))), **NEW_CRITERION, "code": "edss_below_6",
            "criteria_set": str(article().pk)}
    assert_not_saved_with_message(admin.post(url("criterion_add"), data), "already exists")


def test_a_new_set_with_a_code_already_used_is_a_message(shipped_criteria, admin):
    data = {**form_data(admin.get(url("criteriaset_add"))), "name": "Another", "code": "article",
            "citation": "Somewhere", "order": "9", "active": "on"}
    errors = assert_not_saved_with_message(admin.post(url("criteriaset_add"), {**data, "_save": "Save"}),
                                           "already exists")
    assert "code" in errors
    assert CriteriaSet.objects.filter(code="article").count() == 1


# --- Exactly one primary set -------------------------------------------------------------------------------------


def test_is_primary_cannot_be_set_on_the_form(shipped_criteria, admin):
    mist = CriteriaSet.objects.get(code="mist")
    page = set_page(admin, mist)
    data = form_data(page)
    assert "is_primary" not in data  # shown, read-only
    assert_saved(save(admin, url("criteriaset_change", mist.pk), {**data, "is_primary": "on"}))
    assert list(CriteriaSet.objects.filter(is_primary=True).values_list("code", flat=True)) == ["article"]

    add = form_data(admin.get(url("criteriaset_add")))
    add.pop("active")  # a new set with no criteria yet starts inactive
    new = {**add, "name": "New set", "code": "new-set", "citation": "Somewhere", "is_primary": "on"}
    assert_saved(admin.post(url("criteriaset_add"), {**new, "_save": "Save"}, follow=True))
    assert CriteriaSet.objects.get(code="new-set").is_primary is False
    assert CriteriaSet.objects.filter(is_primary=True).count() == 1


def test_deactivating_the_primary_set_is_a_message_not_a_500(shipped_criteria, admin):
    """Unticking "Active" on the primary set would leave the patients without a headline result."""
    criteria_set = article()
    data = form_data(set_page(admin, criteria_set))
    data.pop("active")
    response = save(admin, url("criteriaset_change", criteria_set.pk), data)
    assert response.status_code != 500, "unticking Active on the primary set is a server error (500)"
    assert_not_saved_with_message(response, "primary")
    assert article().active and article().is_primary


def delete_with_the_view(client, criteria_set):
    return client.post(url("criteriaset_delete", criteria_set.pk), {"post": "yes"}, follow=True)


def delete_from_the_list(client, criteria_set):
    return client.post(url("criteriaset_changelist"), {
        "action": "delete_selected", "_selected_action": [criteria_set.pk], "post": "yes"}, follow=True)


@pytest.mark.parametrize("delete", [delete_with_the_view, delete_from_the_list], ids=["delete-page", "list-action"])
def test_the_primary_set_cannot_be_deleted(shipped_criteria, admin, delete):
    """Without a primary set the patients get no headline result: make another set primary first."""
    response = delete(admin, article())
    assert response.status_code in (200, 403)
    assert CriteriaSet.objects.filter(code="article").exists(), "the primary set was deleted"
    assert CriteriaSet.objects.filter(is_primary=True, active=True).count() == 1


@pytest.mark.parametrize("delete", [delete_with_the_view, delete_from_the_list], ids=["delete-page", "list-action"])
def test_a_set_with_one_active_criterion_can_be_deleted_with_it(shipped_criteria, admin, delete):
    """Its last active criterion goes with it: not "you do not have permission to delete criterion" (a 403)."""
    criteria_set = make_set("one-left", active=True)
    make_criterion(criteria_set)
    confirm = admin.post(url("criteriaset_changelist"), {
        "action": "delete_selected", "_selected_action": [criteria_set.pk]})
    assert "permission" not in page_text(confirm) and "Yes, I’m sure" in page_text(confirm)
    response = delete(admin, criteria_set)
    assert response.status_code == 200
    assert not CriteriaSet.objects.filter(code="one-left").exists()
    assert not Criterion.objects.filter(code="edss_below_6", criteria_set_id=criteria_set.pk).exists()


def make_primary(client, *sets):
    return client.post(url("criteriaset_changelist"), {
        "action": "make_primary", "_selected_action": [s.pk for s in sets], "index": "0"}, follow=True)


def test_an_admin_refused_an_action_is_told_why_in_admin_words(shipped_criteria, admin):
    response = admin.get(url("criteriaset_delete", article().pk))
    assert response.status_code == 403
    text = page_text(response)
    assert "the primary criteria set cannot be deleted (make another set primary first)" in html.unescape(text)
    assert "This page is for neurologists" not in text


def test_making_two_sets_primary_at_once_is_refused_with_a_message(shipped_criteria, admin):
    mist, starms = CriteriaSet.objects.get(code="mist"), CriteriaSet.objects.get(code="starms")
    response = make_primary(admin, mist, starms)
    assert response.status_code == 200
    assert "Choose exactly one set to make primary." in [str(m) for m in response.context["messages"]]
    assert list(CriteriaSet.objects.filter(is_primary=True).values_list("code", flat=True)) == ["article"]
    assert not AuditEvent.objects.filter(action="primary_set_changed").exists()


def test_making_the_primary_set_primary_again_changes_nothing_and_says_so(shipped_criteria, admin):
    """It said "… is now the primary set", added an entry with no change to the set's history and audited a change
    of primary set that nobody made."""
    records = article().history.count()
    response = make_primary(admin, article())
    assert [str(m) for m in response.context["messages"]] == [
        "“Article profile (typical HSCT candidate)” is already the primary set: nothing was changed."]
    assert article().is_primary and article().history.count() == records
    assert not AuditEvent.objects.filter(action="primary_set_changed").exists()


def test_an_inactive_set_is_not_made_primary(shipped_criteria, admin):
    """A retired set may have no active criteria left (every patient would read "likely"): it is made active first,
    through its form, which checks them."""
    starms = CriteriaSet.objects.get(code="starms")
    CriteriaSet.objects.filter(pk=starms.pk).update(active=False)
    starms.criteria.update(active=False)
    response = make_primary(admin, starms)
    assert any("is inactive. Make it active first" in str(m) for m in response.context["messages"])
    assert list(CriteriaSet.objects.filter(is_primary=True).values_list("code", flat=True)) == ["article"]
    assert CriteriaSet.objects.get(code="starms").active is False


@pytest.mark.parametrize("chosen", ["abc", "", "1.5", "\x00", "99999999999999999999999"])
def test_an_action_on_a_made_up_row_is_a_message_over_the_list_not_a_500(shipped_criteria, admin, chosen):
    """The chosen rows' ids are posted as they come: one that is not a number (or is beyond the database's) met the
    database (a 500). A number that is no row's id already met the action's own message."""
    mist = CriteriaSet.objects.get(code="mist")
    for ids, message in ([chosen], "a chosen row is not in the list"), ([mist.pk, chosen], "a chosen row is not"), (
            [999999], "Choose exactly one set to make primary."):
        response = admin.post(url("criteriaset_changelist"), {
            "action": "make_primary", "_selected_action": ids, "index": "0"}, follow=True)
        assert response.status_code == 200 and response.redirect_chain == [(url("criteriaset_changelist"), 302)]
        assert any(message in str(m) for m in response.context["messages"]), (ids, response.context["messages"])
    response = admin.post(url("criterion_changelist"), {
        "action": "delete_selected", "_selected_action": [criterion("edss_below_6").pk, chosen], "post": "yes"},
        follow=True)
    assert response.status_code == 200 and response.redirect_chain
    assert list(CriteriaSet.objects.filter(is_primary=True).values_list("code", flat=True)) == ["article"]
    assert article().criteria.filter(code="edss_below_6").exists()
    assert not AuditEvent.objects.filter(action="primary_set_changed").exists()
    response = admin.post(url("user_changelist"), {"action": "delete_selected", "_selected_action": [chosen]},
                          follow=True)  # the staff accounts' list too
    assert response.status_code == 200 and get_user_model().objects.exists()


@pytest.mark.parametrize("model", ["accessattempt", "accesslog", "accessfailurelog"])
def test_an_action_on_a_made_up_row_in_the_sign_in_lists_is_a_message_not_a_500(admin, model):
    """django-axes' lists of sign-in attempts and lockouts take the same check as the app's own lists."""
    response = admin.post(f"/admin/axes/{model}/", {"action": "delete_selected", "_selected_action": ["abc"]},
                          follow=True)
    assert response.status_code == 200 and response.redirect_chain == [(f"/admin/axes/{model}/", 302)]
    assert any("a chosen row is not in the list" in str(m) for m in response.context["messages"])


def test_who_may_read_health_data_is_audited_when_it_changes(shipped_criteria, admin, superuser):
    """An account made superuser, or a group given the review permission, opens every patient's answers: the audit
    log says who did it, and to whom."""
    colleague = get_user_model().objects.create_user("colleague", password="x-Pass-123456")
    change_url = url("user_change", colleague.pk)
    data = {**form_data(admin.get(change_url)), "is_superuser": "on", "is_staff": "on"}
    assert_saved(save(admin, change_url, data))
    group = Group.objects.get(name="Neurologists")
    group_url = reverse("admin:auth_group_change", args=[group.pk])
    assert_saved(save(admin, group_url, form_data(admin.get(group_url))))
    events = AuditEvent.objects.filter(action="access_changed").order_by("pk")
    assert [(event.actor, event.detail) for event in events] == [
        (superuser, "changed user “colleague”"), (superuser, "changed group “Neurologists”")]


@pytest.mark.parametrize("edited, field", [("user", "groups"), ("user", "user_permissions"), ("group", "permissions")])
@pytest.mark.parametrize("made_up", ["9223372036854775808", "99999999999999999999", "-9223372036854775809"])
def test_an_account_or_group_posted_with_a_choice_no_row_could_have_is_refused_with_a_message(
        shipped_criteria, admin, edited, field, made_up):
    """A tampered page naming a group or permission past the database's integers (SQLite refused the lookup with an
    OverflowError, a 500): said next to the field, and nothing changed."""
    colleague = get_user_model().objects.create_user("colleague", password="x-Pass-123456")
    group = Group.objects.get(name="Neurologists")
    change_url = (url("user_change", colleague.pk) if edited == "user"
                  else reverse("admin:auth_group_change", args=[group.pk]))
    data = {**form_data(admin.get(change_url)), field: made_up}
    response = save(admin, change_url, data)
    assert response.status_code == 200 and not response.redirect_chain
    assert f"{made_up} is not one of the available choices" in all_messages(form_errors(response))


@pytest.mark.parametrize("name", ["criteriaset", "criterion", "note", "referencecase"])
@pytest.mark.parametrize("made_up", ["abc", "²", "٣", "99999999999999999999", "1" * 4301])
def test_a_history_page_no_row_could_have_is_not_found(shipped_criteria, admin, name, made_up):
    """A mistyped or cut-off link: "Not found", not a server error."""
    assert admin.get(url(f"{name}_history", made_up)).status_code == 404
    row = {"criteriaset": article, "criterion": lambda: criterion("edss_below_6"), "note": Note.objects.first,
           "referencecase": ReferenceCase.objects.first}[name]()
    assert admin.get(f"{url(f'{name}_history', row.pk)}{made_up}/").status_code == 404
    assert admin.get(f"{url(f'{name}_history', row.pk)}999999/").status_code == 404


def test_a_sets_page_posted_with_its_criteria_as_new_rows_is_refused_with_a_message(shipped_criteria, admin):
    """A page tampered with (or replayed from an old form) is told what is wrong, not a server error."""
    criteria_set = article()
    data = {**form_data(set_page(admin, criteria_set)), "criteria-INITIAL_FORMS": "0"}
    data = {key: value for key, value in data.items() if not re.fullmatch(r"criteria-\d+-id", key)}
    assert_not_saved_with_message(save(admin, url("criteriaset_change", criteria_set.pk), data),
                                  "still has the code")


def test_making_one_set_primary_moves_the_headline_and_is_audited(shipped_criteria, admin, superuser):
    mist = CriteriaSet.objects.get(code="mist")
    response = make_primary(admin, mist)
    assert response.status_code == 200
    assert any("is now the primary set" in str(m) for m in response.context["messages"])
    assert list(CriteriaSet.objects.filter(is_primary=True).values_list("code", flat=True)) == ["mist"]
    assert article().is_primary is False
    event = AuditEvent.objects.get(action="primary_set_changed")
    assert event.actor == superuser and event.detail == "mist"
    assert CriteriaSet.objects.get(code="mist").history.latest().history_user == superuser
    evaluation = services.evaluate(answers(), TODAY)
    assert evaluation.headline["set"] == "mist" and evaluation.headline["primary"] is True
    assert [r["set"] for r in evaluation.results].count("article") == 1


# --- The audit log is read-only; screenings and reviews are not in the admin -------------------------------------


@pytest.fixture
def one_of_each(shipped_criteria, superuser):
    screening = services.screening_create(answers=answers(), today=TODAY)
    services.screening_submit(screening=screening, consent_version="test-1", consent_text="I agree.")
    review = Review.objects.create(screening=screening, neurologist=superuser, decision="refer",
                                   message="Please book an appointment.")
    return {"screening": screening, "review": review, "auditevent": AuditEvent.objects.first()}


@pytest.mark.parametrize("model", ["screening", "review"])
def test_screenings_and_reviews_are_not_in_the_admin(one_of_each, admin, model):
    """Patients are told nobody sees a result they do not send and that every access to one they send is recorded:
    results are read in the review workspace, which audits each view, not in the admin, which would not."""
    obj = one_of_each[model]
    for path in (f"/admin/screening/{model}/", f"/admin/screening/{model}/{obj.pk}/change/"):
        assert admin.get(path).status_code == 404, path
    assert f"/admin/screening/{model}/" not in admin.get("/admin/").content.decode()


@pytest.mark.parametrize("model", ["auditevent"])
def test_submitted_records_cannot_be_added_changed_or_deleted_in_the_admin(one_of_each, admin, model):
    obj = one_of_each[model]
    assert admin.get(url(f"{model}_add")).status_code == 403
    change = admin.get(url(f"{model}_change", obj.pk))
    assert change.status_code in (200, 403)
    if change.status_code == 200:
        body = change.content.decode()
        assert 'name="_save"' not in body and 'name="_continue"' not in body
    assert admin.post(url(f"{model}_change", obj.pk), {}).status_code == 403
    assert admin.get(url(f"{model}_delete", obj.pk)).status_code == 403
    assert admin.post(url(f"{model}_delete", obj.pk), {"post": "yes"}).status_code == 403
    changelist = admin.get(url(f"{model}_changelist"))
    assert changelist.status_code == 200 and "delete_selected" not in changelist.content.decode()
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("changelist, name, value", [
    ("screening_criteriaset", "kind", "trial"), ("screening_criteriaset", "q", "ebmt"),
    ("screening_criterion", "severity", "unlikely"), ("screening_criterion", "kind__exact", "exclusion"),
    ("screening_note", "kind", "risk"), ("screening_referencecase", "q", "rrms"),
    ("screening_auditevent", "action", "login"), ("screening_auditevent", "created_at__year", "2026"),
    ("screening_user", "q", "admin"), ("axes_accessattempt", "path_info", "/accounts/login/"),
])
def test_a_nul_character_in_an_admin_lists_filter_or_search_gets_the_400_page(shipped_criteria, admin, changelist,
                                                                              name, value):
    """The admin passes filter values to the database as they come: PostgreSQL refused the NUL (a 500)."""
    list_url = reverse(f"admin:{changelist}_changelist")
    assert admin.get(list_url, {name: value}).status_code == 200
    for query in ({name: value + "\x00"}, {name: "\x00"}, {name + "\x00": value}):
        response = admin.get(list_url, query)
        assert response.status_code == 400, (query, response.status_code)
        assert "Something went wrong" in page_text(response)
        # in the staff pages' frame, with the way back to their work: not the patients' help and start page
        assert "what do these words mean" not in page_text(response) and "Go to the review queue" in page_text(response)


def test_the_audit_log_gives_times_on_the_24_hour_clock_as_the_queue_does(admin, db, monkeypatch):
    """An afternoon event reads "14:05" in the admin, as in the review queue, not "2:05 p.m."."""
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 7, 14, 14, 5, tzinfo=ZoneInfo("Europe/London")))
    services.audit("login")  # written then: the database refuses to change an audit entry's time afterwards
    monkeypatch.undo()
    text = page_text(admin.get(url("auditevent_changelist")))
    assert "14 Jul 2026, 14:05" in text and "p.m." not in text


def test_admin_tabs_are_named_after_the_app(admin):
    title = re.search(r"<title>(.*?)</title>", admin.get(url("criterion_changelist")).content.decode()).group(1)
    assert title.endswith("| HSCT Self-Check admin") and "Django" not in title


@pytest.mark.parametrize("reviewer, way_on", [(True, "Go to the review queue"), (False, "Go to the administration")])
def test_an_error_page_leads_staff_back_to_their_own_work(db, reviewer, way_on):
    """An admin who edits criteria but reviews no one was sent to the patients' start page."""
    user = make_user("editor", superuser=reviewer)
    client = Client()
    client.force_login(user)
    for response in (client.get("/admin/screening/no-such-thing/"), client.get("/review/none/"),
                     client.get("/admin/screening/criteriaset/", {"kind": "\x00"})):
        assert response.status_code in (400, 404)
        assert way_on in page_text(response) and "Go to the start page" not in page_text(response)


@pytest.mark.parametrize("changelist", ["screening_auditevent", "axes_accessattempt", "axes_accessfailurelog",
                                        "axes_accesslog"])
@pytest.mark.parametrize("name", ["ip_address", "ip_address__exact"])
def test_text_that_is_no_address_in_an_address_filter_gets_the_400_page_not_a_500(admin, changelist, name):
    """PostgreSQL stores addresses as addresses and refuses to compare one with "abc" (a 500); SQLite compares the
    text and finds nothing. (One request per test: the refused statement ends the test's own transaction.)"""
    response = admin.get(reverse(f"admin:{changelist}_changelist"), {name: "abc"})
    assert response.status_code == (400 if connection.vendor == "postgresql" else 200)


@pytest.mark.parametrize("changelist, query", [
    ("screening_auditevent", {"created_at__year": "9999"}),  # the drill-down's next year would be 10000
    ("screening_auditevent", {"created_at__year": "99999999999999999999"}),
    ("screening_criterion", {"id__in": "9223372036854775808"}),  # past 64 bits: SQLite refuses it
    ("screening_auditevent", {"actor": "9223372036854775808"}),
    ("screening_auditevent", {"detail__regex": "("}),  # a broken pattern: SQLite's REGEXP raises
    ("screening_note", {"title__regex": "("}),
    # a JSON field's containment lookups: SQLite has none (NotSupportedError), PostgreSQL reads them
    ("screening_criterion", {"value__contains": "6"}),
    ("screening_note", {"verdicts__contains": "likely"}),
    ("screening_referencecase", {"expected__contained_by": "{}"}),
])
def test_an_admin_lists_query_that_cannot_be_read_gets_the_400_page_not_a_500(admin, changelist, query):
    """Typed or edited addresses of admin lists: the admin passes their values on as they come. (One request per
    test: a refused statement ends the test's own transaction on PostgreSQL.)"""
    response = admin.get(reverse(f"admin:{changelist}_changelist"), query)
    assert response.status_code in (200, 400), response.status_code  # PostgreSQL reads some of them


def test_the_audit_log_finds_who_opened_a_screening_by_its_reference_as_typed(shipped_criteria, admin, superuser):
    """"Who opened R-…?" meant paging through every entry: a search by reference (as the queue reads one) or by a
    member of staff finds them."""
    references = []
    for _person in range(2):
        screening = services.screening_create(answers=answers(), today=TODAY)
        references.append(services.screening_submit(screening=screening, consent_version="v", consent_text="t")[0])
        services.audit("detail_viewed", screening=screening)
    wanted, other = references
    typed = wanted.lower().replace("-", " ")[2:14]  # lower case, spaces for dashes, the R and a tail left off
    rows = page_text(admin.get(url("auditevent_changelist"), {"q": typed})).split("<tr")
    assert [row for row in rows if wanted in row] and not [row for row in rows if other in row]
    services.audit("login", request=type("Request", (), {"user": superuser, "META": {}})())
    rows = page_text(admin.get(url("auditevent_changelist"), {"q": superuser.username})).split("<tr")
    assert [row for row in rows if "login" in row] and not [row for row in rows if wanted in row]
