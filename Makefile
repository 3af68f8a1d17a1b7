# goldtrace: `make run` serves the demo, `make test` runs the whole suite. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# The browser tests drive Debian's Chromium (never a downloaded browser).
CHROMIUM := /usr/bin/chromium

.PHONY: e2e screenshots browser venv run test test-sqlite test-postgres lint format bench simulate translations catalogs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Compiled message catalogs are build products: made from the committed .po files.
MO := web/translations/es/LC_MESSAGES/messages.mo web/translations/en/LC_MESSAGES/messages.mo
web/translations/%/LC_MESSAGES/messages.mo: web/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -d web/translations -D messages -l $*

catalogs: $(MO)

# After changing user-facing strings: extract them, merge into the catalogs, then translate the new
# empty Spanish entries in web/translations/es/LC_MESSAGES/messages.po.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching --ignore-obsolete
	$(MAKE) catalogs

run: $(STAMP) $(MO)
	$(BIN)/goldtrace init-db
	$(BIN)/goldtrace demo --if-empty
	$(BIN)/goldtrace serve --host 127.0.0.1 --port 5000

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's chromium for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "no $(CHROMIUM): the browser tests will be skipped (apt-get install chromium)"; fi; \
	fi

test: $(STAMP) $(MO) browser
	$(MAKE) test-sqlite
	@if [ -n "$$GOLDTRACE_TEST_DATABASE_URL" ]; then $(MAKE) test-postgres; \
	else echo "GOLDTRACE_TEST_DATABASE_URL not set: PostgreSQL pass skipped"; fi

test-sqlite: $(STAMP) $(MO)
	env -u GOLDTRACE_TEST_DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider

test-postgres: $(STAMP) $(MO)
	$(BIN)/pytest -q -p no:cacheprovider tests/services tests/webapp tests/cli

e2e: $(STAMP) $(MO) browser
	$(BIN)/pytest -q -p no:cacheprovider tests/e2e

# Re-take docs/screenshots/ (desktop and phone) from a browser run.
screenshots: $(STAMP) $(MO) browser
	GOLDTRACE_SCREENSHOTS=1 $(BIN)/pytest -q -p no:cacheprovider tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check src tests migrations $(wildcard bench)
	$(BIN)/ruff format --check src tests migrations $(wildcard bench)
	$(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff format src tests bench migrations
	$(BIN)/ruff check --fix src tests bench migrations

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The laundering simulator (docs/laundering.md): a synthetic year with illegal gold injected.
simulate: $(STAMP)
	$(BIN)/python bench/launder_sim.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
