# Two entry points do all set-up on a fresh machine:
#   make demo   the main job (lilyvae demo) on the embedded SYNTHETIC data
#   make test   the test suite
# Both create .venv and install the package into it first (torch pinned to 2.13.0).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lilyvae demo

# The report test renders the HTML report in headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium not installed and not root: the browser test will be skipped"; \
	  fi; }

# The reproducibility tests run a second time with numba's kernels compiled for a generic
# x86-64 CPU and PyTorch's kernels at their portable level: what another processor would
# pick (tests/training/test_reproducibility.py holds every machine to stored weights).
test: $(STAMP) browser
	$(BIN)/python -m pytest -q
	NUMBA_CPU_NAME=generic ATEN_CPU_CAPABILITY=default \
	  $(BIN)/python -m pytest -q tests/training/test_reproducibility.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# The training, ensemble, build and missing-data benchmarks, one after the other (about
# 15 minutes on 2 cores). bench_figures.py reads a demo run (make demo first);
# bench_properties.py needs the bench extra (catboost, the reference's regressor).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_ensemble.py
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_missing.py

clean:
	rm -rf $(VENV) runs .pytest_cache
