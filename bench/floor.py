"""The floor of a patient-flow request, for `make bench`: what a step does with the database and the page, and no more.

GET reads the draft its cookie opens with the step's own statement and renders the site's page around a
one-button form; POST (CSRF-checked) merges an answer into that draft with the step's own statement and redirects.
No questionnaire, no forms, no scoring. Served with ``DJANGO_SETTINGS_MODULE=bench.floor_settings``.

Each of wrk's connections is a person with a draft of their own (``TOKENS``), as in the flow: one draft shared by
every connection made each post wait for the others' row lock, which no patient does.
"""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.template import engines
from django.urls import include, path
from django.views.decorators.cache import never_cache

from screening import services
from screening.views import DRAFT

TOKENS = [f"bench-floor-draft-{n}" for n in range(1, 9)]  # run.py creates the drafts they open; floor.lua sends one
PAGE = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<h1>Step</h1><form method="post">{% csrf_token %}'
    '<p>{{ draft.data }}</p><button name="action" value="next">Continue</button></form>{% endblock %}')


@never_cache
def step(request):
    if request.method == "POST":
        services.draft_save_step(request.COOKIES.get(DRAFT), {"floor": request.POST.get("action")})
        return redirect("floor")
    return HttpResponse(PAGE.render({"draft": services.draft_for_token(request.COOKIES.get(DRAFT))}, request))


urlpatterns = [path("", include("config.urls")), path("bench/floor/", step, name="floor")]
