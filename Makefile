# The two commands: `make run` (the site with demo data) and `make test`.
# Both start an embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set.

PYTHON ?= python3
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
SERVICES := python scripts/services.py

.PHONY: run test bench install lint lock clean

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8
	$(VENV)/bin/uv pip install --quiet --python $(VENV)/bin/python -r requirements.lock
	touch $@

install: $(VENV)/.installed

run: install
	$(SERVICES) sh -c 'python manage.py migrate --noinput && python manage.py setup_demo && exec honcho -f Procfile.dev start'

test: install
	$(SERVICES) python -m pytest $(ARGS)

lint: install
	ruff check . && ruff format --check .

# Re-resolve the pinned versions after changing pyproject.toml.
lock: install
	uv pip compile pyproject.toml --extra dev --extra embedded --python-version 3.11 --quiet -o requirements.lock

clean:
	rm -rf .data $(VENV)

# Figures as JSON lines; reads the real corpus from BENCH_DATA (default ../shared/data).
bench: install
	$(SERVICES) python -m bench
