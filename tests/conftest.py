"""Shared test fixtures: the shipped criteria loaded into the test database as `make run` loads them."""

from pathlib import Path

import pytest
from django.core.management import call_command

FIXTURES = sorted(str(p) for p in (Path(__file__).resolve().parent.parent / "fixtures").glob("*.json"))


@pytest.fixture
def shipped_criteria(db):
    """The database with every shipped criteria set, note and reference case, as `make run` loads them."""
    call_command("load_shipped_content", verbosity=0)


@pytest.fixture(autouse=True)
def fresh_process_caches():
    """Each test starts as a freshly started server would: no criteria read yet, no page fragment rendered yet."""
    from django.core.cache import cache

    from screening import services

    services._RULES.clear()
    services._EDITIONS.clear()
    cache.clear()
