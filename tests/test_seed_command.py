"""``manage.py seed_screenings``: made-up submissions for load tests and demos."""

import io

from django.core.management import call_command

from screening.models import CriteriaSet, ReferenceCase, Screening


def test_a_second_run_adds_its_submissions_after_the_first_run_s(shipped_criteria):
    """Topping up a demo or a benchmark's database: the second run numbers on from the first, rather than failing on
    a reference the first one gave (and adding nothing)."""
    out = io.StringIO()
    call_command("seed_screenings", "3", stdout=out)
    call_command("seed_screenings", "2", stdout=out)
    assert out.getvalue().splitlines() == ["Seeded 3 submitted screenings.", "Seeded 2 submitted screenings."]
    seeded = Screening.objects.filter(reference__startswith="R-SEED-").order_by("reference")
    assert list(seeded.values_list("reference", flat=True)) == [f"R-SEED-{n:07d}" for n in range(1, 6)]
    # each run also submits every reference case once, through the services, as the copies' originals
    cases = ReferenceCase.objects.filter(active=True).count()
    assert Screening.objects.filter(status=Screening.Status.SUBMITTED).count() == 5 + 2 * cases


def test_the_copies_are_scored_under_the_primary_set_as_their_originals(shipped_criteria):
    """The queue marks a submission scored under criteria changed since from the primary set and version kept on
    the row: copies made by the database (PostgreSQL) or by the ORM keep their original's, as a real one would."""
    call_command("seed_screenings", "4", stdout=io.StringIO())
    primary = CriteriaSet.objects.get(is_primary=True)
    assert set(Screening.objects.values_list("scored_primary_set", "scored_primary_version")) == {
        (primary.code, primary.version)}
