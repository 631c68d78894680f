# Carebridge: `make run` starts the demo on http://127.0.0.1:8000/, `make test` lints (bin/lint) and runs
# every test on SQLite and on PostgreSQL. Both start from a clean clone; see docs/running.md.
# `make bench` measures booking, search and lookup against DESIGN section 8, and prescribing (issue 7),
# each beside a bare Django ceiling (docs/benchmarks.md).

VENV := .venv
PYTHON := $(VENV)/bin/python
VENDOR := carebridge/core/static/vendor

# The steps depend on each other in ways make cannot see (the Debian packages before the venv).
.NOTPARALLEL:
.PHONY: run test test-another-day bench

run: system-packages-run $(VENV)/.installed-run $(VENDOR)/.installed
	$(PYTHON) bin/run

test: system-packages-test $(VENV)/.installed-test $(VENDOR)/.installed
	bin/test

# The suite once more, on SQLite only, with the tests' frozen "today" a year after its default of
# Monday 30 November 2026: it passes only if no test leans on the day it was written (docs/running.md).
# PYTEST_ARGS and PYTEST_WORKERS work as for `make test`; ANOTHER_DAY=YYYY-MM-DD picks the day.
ANOTHER_DAY ?= 2027-11-30
test-another-day: system-packages-test $(VENV)/.installed-test $(VENDOR)/.installed
	mkdir -p var
	CAREBRIDGE_TEST_TODAY=$(ANOTHER_DAY) DATABASE_URL=sqlite:///$(CURDIR)/var/test-another-day.sqlite3 \
		$(PYTHON) -m pytest -p no:cacheprovider -n $(or $(PYTEST_WORKERS),0) $(PYTEST_ARGS)

# The API and a bare Django ceiling under load, on a throwaway PostgreSQL (or BENCH_DATABASE_URL's
# server). Needs no test tools and no front-end files; see docs/benchmarks.md for the settings.
bench: system-packages-run $(VENV)/.installed-run
	$(PYTHON) bench/run.py

.PHONY: system-packages-run system-packages-test
system-packages-run system-packages-test: system-packages-%:
	bin/system-packages $*

# A venv half made (say, without ensurepip) is removed, so the next attempt starts afresh.
$(PYTHON):
	python3 -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

# Reinstalled when the pinned dependencies change. `run` needs no test tools (Playwright is large).
$(VENV)/.installed-run: pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-run

$(VENDOR)/.installed: frontend/package-lock.json bin/vendor-assets
	bin/vendor-assets
	touch $@
