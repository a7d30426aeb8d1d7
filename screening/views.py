"""Views of the screening app: thin, each reads top to bottom."""

from django.shortcuts import render

from .models import CriteriaSet


def home(request):
    """The landing page: what the check is, who it is for, and the criteria sets it compares against."""
    return render(request, "screening/home.html", {"criteria_sets": CriteriaSet.objects.filter(active=True)})
