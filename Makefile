# `make test` installs everything the tests need (Python packages and Debian's chromium
# for the browser tests), lints with ruff and runs the whole suite. `make run` installs and starts the app.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: test lint run install install-dev chromium

install:
	$(PIP) install -q -r requirements.txt

install-dev:
	$(PIP) install -q -r requirements-dev.txt

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

lint: install-dev
	$(PYTHON) -m ruff check .

test: install-dev chromium lint
	$(PYTHON) -m pytest

run: install
	$(PYTHON) -m streamlit run app.py
