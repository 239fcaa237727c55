# The course's entry points. Quickstart on a fresh machine:  make run ; make test
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Any interpreter 3.10-3.13, e.g. `make test PYTHON=python3.13` (versions pyenv has are found too).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# Quiet TF's C++ logs; draw figures off-screen.
export TF_CPP_MIN_LOG_LEVEL := 2
export MPLBACKEND := Agg
# pip on this machine warns about every missing local index; keep the log readable.
PIP_FILTER := grep -v "is ignored: it is neither a file nor a directory" || true
NBVAL_ARGS := --nbval-lax --nbval-current-env --nbval-cell-timeout=600

.PHONY: help venv test test-unit test-notebooks test-gpu test-compat run site site-check lab bench bench-doctor bench-prescribe clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

venv: $(STAMP)  ## create .venv with the requirements and the editable toolkit (idempotent)

$(STAMP): requirements.txt pyproject.toml
	@echo "Creating $(VENV) and installing requirements (about 2 minutes the first time) ..."
	@test -x $(PY) || "$$(tools/find_python.sh $(PYTHON))" -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip 2>&1 | $(PIP_FILTER)
	@$(PY) -m pip install -q -r requirements.txt -e . 2>&1 | $(PIP_FILTER)
	@$(PY) -c "from toolkit.quiet import import_tensorflow; import_tensorflow(); import keras, toolkit"
	@touch $(STAMP)
	@echo "$(VENV) is ready."

test: venv  ## unit tests + every notebook through nbval, in fast mode and offline
	TOOLKIT_MODE=fast TOOLKIT_OFFLINE=1 $(PY) -m pytest tests $(if $(NOTEBOOKS),$(NBVAL_ARGS) $(NOTEBOOKS))

test-unit: venv  ## unit tests only
	TOOLKIT_MODE=fast TOOLKIT_OFFLINE=1 $(PY) -m pytest tests

test-notebooks: venv  ## notebooks only (fast mode, offline)
	TOOLKIT_MODE=fast TOOLKIT_OFFLINE=1 $(PY) -m pytest $(NBVAL_ARGS) $(NOTEBOOKS)

test-gpu: venv  ## unit tests + every notebook in FULL mode on a GPU
	@$(PY) -c "import tensorflow as tf; raise SystemExit(0 if tf.config.list_physical_devices('GPU') else 1)" 2>/dev/null || { \
	  echo "make test-gpu needs a visible GPU, and TensorFlow sees none."; \
	  echo "Run it on a GPU machine (a Colab GPU runtime, a lab server); on a CPU use 'make test'."; exit 1; }
	env -u TOOLKIT_FAST TOOLKIT_MODE=full $(PY) -m pytest tests $(NBVAL_ARGS) --nbval-cell-timeout=3600 $(NOTEBOOKS)

# The oldest supported pins (Python 3.12) and the newest releases (Python 3.13), each in a
# fresh venv with the toolkit pip-installed from the checkout, not editable. About 2 x (install + make test).
STACKS ?= oldest newest colab
test-compat:  ## unit tests + notebooks on the oldest pins (3.12) and the newest versions (3.13); notebooks on a Colab-like stack
	tools/test_compat.sh $(STACKS)

run: venv  ## execute every notebook headless into build/, print a summary, build build/site/ (FULL=1 for full size)
	$(if $(filter-out 0 1,$(FULL)),$(error FULL must be 0 (fast, the default) or 1 (full size); got FULL=$(FULL)))
	@status=0; $(PY) -m toolkit run --out build $(if $(filter 1,$(FULL)),--full,) || status=$$?; \
	if [ $$status -ne 130 ] && [ $$status -ne 143 ]; then $(PY) -m toolkit site --build build || status=$${status/#0/1}; fi; \
	exit $$status

site: venv  ## the course site from make run's notebooks -> build/site/index.html (links and images checked)
	@ls build/[0-9][0-9]_*.ipynb >/dev/null 2>&1 || { echo "make site needs the executed notebooks in build/: run 'make run' first."; exit 2; }
	$(PY) -m toolkit site --build build

site-check: site  ## open every page of build/site in headless Chromium; screenshots -> build/site-check/
	@command -v chromium >/dev/null || { echo "make site-check needs Chromium: apt-get install chromium"; exit 2; }
	$(PY) -m toolkit site --build build --check-only --browser

bench: venv  ## time the notebooks, the monitors' overhead (beside livelossplot, TensorBoard), the fast MNIST recipe and prescribe -> build/bench.json
	@$(PY) -m pip install -q -r requirements-bench.txt 2>&1 | $(PIP_FILTER)  # bench-only: not toolkit dependencies
	$(PY) benchmarks/bench.py --out build/bench.json $(BENCH_ARGS)

bench-doctor: venv  ## score the training doctor on real and planted-fault runs -> build/bench_doctor.json
	$(PY) benchmarks/doctor/score.py --out build/bench_doctor.json

bench-prescribe: venv  ## how often prescribe ranks a cure of a planted fault first, within its budget -> build/bench_prescribe.json
	$(PY) benchmarks/prescribe/bench_prescribe.py --out build/bench_prescribe.json $(PRESCRIBE_ARGS)

lab: venv  ## open JupyterLab on notebooks/
	$(PY) -m jupyter lab notebooks/

clean:  ## remove build outputs (keeps .venv)
	rm -rf build .pytest_cache
