# One command for each everyday job: make demo, make test, make bench, make lint.
# Every target sets up .venv first, so a fresh machine needs nothing but Python 3.11.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# nbgrader shells out to alembic when it creates a gradebook: the venv's bin must be on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup demo test bench lint sandbox clean

setup: $(VENV)/.installed sandbox

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,cluster]'
	touch $@

# bubblewrap isolates student code; Debian's chromium runs the browser tests. Install them where we can
# (root on Debian), else say what is missing.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
	      || echo "warning: could not install bubblewrap; grading will not be isolated"; \
	  else echo "warning: bubblewrap (bwrap) not found; install it to isolate student code"; fi; }
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	      || echo "warning: could not install chromium; the browser tests will fail"; \
	  else echo "warning: /usr/bin/chromium not found; the browser tests need Debian's chromium"; fi; }

# The student release at release/line_fit/, then the whole pipeline on a throwaway course in demo_course/.
demo: setup
	$(BIN)/course release line_fit
	$(BIN)/course demo

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/course bench

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) release build demo_course .pytest_cache
