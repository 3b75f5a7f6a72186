# Two commands do all the set-up on a fresh machine:
#   make book   - create .venv, install gankit with the book's tools, build the book
#   make test   - create .venv, install, run every test (nbval on every chapter too)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The book is executed in the profile chosen by GANKIT_PROFILE (see README);
# the tests run every chapter in the quick 'smoke' profile unless
# GANKIT_PROFILE names another.
export PYTHONUNBUFFERED := 1

.PHONY: install book test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[book,test]'
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(PY) scripts/build_book.py $(BOOKFLAGS)
	@echo "open _build/html/index.html"

test: $(STAMP)
	$(VENV)/bin/ruff check gankit tests benchmarks scripts book
	$(PY) scripts/fetch_data.py
	GANKIT_PROFILE=$${GANKIT_PROFILE:-smoke} $(PY) -m pytest tests book --nbval-lax --nbval-current-env

lint: $(STAMP)
	$(VENV)/bin/ruff check gankit tests benchmarks scripts book
	$(VENV)/bin/ruff format --check gankit tests benchmarks scripts book/_ext

clean:
	rm -rf _build .pytest_cache
