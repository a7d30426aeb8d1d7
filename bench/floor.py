"""The floor of a patient-flow request, for `make bench`: what a step does with the database and the page, and no more.

GET reads a draft with the step's own statement and renders the site's page around a
one-button form; POST (CSRF-checked) merges an answer into the draft with the step's own statement and redirects.
No questionnaire, no forms, no scoring. Served with ``DJANGO_SETTINGS_MODULE=bench.floor_settings``.
"""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.template import engines
from django.urls import include, path
from django.views.decorators.cache import never_cache

from screening import services

TOKEN = "bench-floor-draft"  # run.py creates the draft this token opens
PAGE = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<h1>Step</h1><form method="post">{% csrf_token %}'
    '<p>{{ draft.data }}</p><button name="action" value="next">Continue</button></form>{% endblock %}')


@never_cache
def step(request):
    if request.method == "POST":
        services.draft_save_step(TOKEN, {"floor": request.POST.get("action")})
        return redirect("floor")
    return HttpResponse(PAGE.render({"draft": services.draft_for_token(TOKEN)}, request))


urlpatterns = [path("", include("config.urls")), path("bench/floor/", step, name="floor")]
