"""Shared test fixtures: the shipped criteria loaded into the test database as `make run` loads them."""

from pathlib import Path

import pytest
from django.core.management import call_command

FIXTURES = sorted(str(p) for p in (Path(__file__).resolve().parent.parent / "fixtures").glob("*.json"))


def pytest_collection_modifyitems(items):
    """No test outside tests/e2e may take pytest-playwright's fixtures (a parameter named "page" does): pytest groups
    it with the browser tests, which flush the database, so the tests it then runs after them find none of the rows
    the migrations made (the Neurologists group), and fail for no reason of their own."""
    strays = [item.nodeid for item in items
              if "/e2e/" not in str(item.fspath) and "browser_name" in getattr(item, "fixturenames", ())]
    if strays:
        raise pytest.UsageError("Browser fixtures outside tests/e2e (rename the parameter): " + ", ".join(strays))


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
