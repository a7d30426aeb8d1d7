"""Production refuses an unsafe configuration; the deploy check is silent when configured."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests in this process; a deployment never has it.
    unset = ("SECRET_KEY", "DJANGO_ENV", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_refuses_to_start_without_a_real_secret_key():
    for key in (None, "short", "django-insecure-" + "x" * 60):
        env = {"DJANGO_ENV": "production", "ALLOWED_HOSTS": "hsct.example.org"}
        if key:
            env["SECRET_KEY"] = key
        result = manage("check", **env)
        assert result.returncode != 0
        assert "needs SECRET_KEY" in result.stderr


def test_production_passes_the_deploy_check_with_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_ENV="production",
                    ALLOWED_HOSTS="hsct.example.org", SECRET_KEY=secrets.token_urlsafe(64))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


CONCURRENT_WRITERS = """
import threading, time
from django.db import connection, transaction
with connection.cursor() as c:
    c.execute("create table t (n integer)")
errors = []
def score(delay):  # like scoring: read inside a transaction, then write
    time.sleep(delay)
    try:
        with transaction.atomic(), connection.cursor() as c:
            c.execute("select count(*) from t")
            time.sleep(0.2)
            c.execute("insert into t values (1)")
            time.sleep(0.2)
    except Exception as e:
        errors.append(repr(e))
    finally:
        connection.close()
threads = [threading.Thread(target=score, args=(0.05 * i,)) for i in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
with connection.cursor() as c:
    c.execute("select count(*) from t")
    print("stored", c.fetchone()[0], "errors", errors)
"""


def test_on_sqlite_people_scoring_at_once_wait_their_turn_instead_of_failing(tmp_path):
    # SQLite is what `make run` uses; its default transactions fail with "database is locked" when two overlap.
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", CONCURRENT_WRITERS], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "stored 4 errors []" in result.stdout


READER_AND_WRITER = """
import threading
from django.db import connection, transaction
with connection.cursor() as c:
    c.execute("create table t (n integer)")
    c.executemany("insert into t values (%s)", [(i,) for i in range(5000)])
reader = connection.cursor()  # a download streamed row by row (the CSV export): its statement stays open
reader.execute("select n from t")
reader.fetchmany(100)
errors = []
def write():  # a patient's step saved meanwhile
    try:
        connection.ensure_connection()
        connection.connection.execute("pragma busy_timeout = 2000")  # not the 20 s a person would wait
        with transaction.atomic(), connection.cursor() as c:
            c.execute("insert into t values (-1)")
    except Exception as e:
        errors.append(repr(e))
    finally:
        connection.close()
thread = threading.Thread(target=write)
thread.start()
thread.join()
print("read on", len(reader.fetchall()), "errors", errors)
"""


def test_on_sqlite_a_download_still_being_read_does_not_lock_patients_out(tmp_path):
    # A CSV export streams its rows from an open statement for as long as the download takes (a slow line, a paused
    # download); with SQLite's default rollback journal no write could commit until it ended: every patient's step
    # waited 20 s and was a 500, "database is locked".
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", READER_AND_WRITER], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "errors []" in result.stdout, result.stdout
