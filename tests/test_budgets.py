"""Budgets that hold as data grows (counts, not timings): the CSV export of 100,000 submissions streams in bounded
memory. Query budgets per page live with each page's tests (test_views.py, test_review_views.py)."""

import tracemalloc
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from screening.models import Screening, User

pytestmark = pytest.mark.django_db


def seed(count, start=0):
    """``count`` submitted screenings with small bodies (the export reads only list columns)."""
    first = timezone.make_aware(datetime(2026, 1, 1))
    Screening.objects.bulk_create([
        Screening(answers={}, facts={}, snapshot=[], scored_on=first.date(), primary_verdict="possible",
                  status=Screening.Status.SUBMITTED, reference=f"R-MEM-{i:07d}", contact_name=f"Person {i}",
                  contact_details=f"person{i}@example.org", submitted_at=first + timedelta(seconds=i))
        for i in range(start, start + count)
    ], batch_size=5000)


def export_peak_bytes(client):
    """Stream the whole export with contact data; the peak memory allocated while doing so, and the row count."""
    tracemalloc.start()
    response = client.post(f"{reverse('review_export')}?include_contact=on")  # from its confirmation
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, lines - 1


def test_the_export_of_100000_submissions_streams_in_bounded_memory():
    neurologist = User.objects.create_user("mem-neurologist", password="x" * 16)
    neurologist.groups.add(Group.objects.get(name="Neurologists"))
    client = Client()
    client.force_login(neurologist)

    seed(10_000)
    small_peak, small_rows = export_peak_bytes(client)
    seed(90_000, start=10_000)
    large_peak, large_rows = export_peak_bytes(client)

    assert (small_rows, large_rows) == (10_000, 100_000)
    # Ten times the rows, nowhere near ten times the memory: the rows are streamed in chunks, never held at once.
    assert large_peak < 2 * small_peak + 5_000_000, (small_peak, large_peak)
    assert large_peak < 40_000_000, large_peak
