# HSCT Self-Check — two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test venv bench

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)/.installed

## make run: the app on SQLite with the shipped criteria, at http://127.0.0.1:8000
run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_shipped_content
	$(PY) manage.py seed_demo_users
	$(PY) manage.py runserver 127.0.0.1:8000

# Debian's Chromium for the browser tests, and poppler's pdftotext to read the printed result, installed when missing
/usr/bin/chromium /usr/bin/pdftotext:
	apt-get update -qq && apt-get install -y -qq chromium poppler-utils

## make test: the whole suite (SQLite by default; set DATABASE_URL for PostgreSQL)
test: venv /usr/bin/chromium /usr/bin/pdftotext
	$(PY) -m pytest

## make bench: gunicorn + PostgreSQL + 100,000 screenings, driven by wrk; writes docs/benchmarks.md
bench: venv
	$(PY) bench/run.py
