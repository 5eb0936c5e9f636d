# Neural Networks from Scratch — the two commands a newcomer needs:
#   make lab    install everything into .venv/ and open JupyterLab on the start notebook
#   make test   install everything into .venv/ and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
# nbval runs notebooks/ and solutions/ cell by cell; pytest-xdist splits files over JOBS workers.
PYTEST_ARGS ?= -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
               -p no:cacheprovider tests notebooks solutions

# The test workers already use every core: one BLAS thread each avoids oversubscription (and
# makes seeded runs bit-reproducible). Solutions must pass their own checks (strict mode).
TEST_ENV := COURSEPKG_STRICT_CHECKS=1 MPLBACKEND=Agg OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: lab test venv unit notebooks exercises check-exercises lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# JupyterLab refuses to run as root unless told to (containers often run as root)
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_ARGS) notebooks/00_start_here.ipynb

test: $(STAMP)
	$(BIN)/ruff check coursepkg tests bench tools conftest.py
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

unit: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest -n $(JOBS) tests

notebooks: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval-lax \
		--nbval-current-env -p no:cacheprovider notebooks solutions

exercises: $(STAMP)
	$(BIN)/python -m coursepkg.grading.generate

check-exercises: $(STAMP)
	$(BIN)/python -m coursepkg.grading.generate --check

lint: $(STAMP)
	$(BIN)/ruff check coursepkg tests bench tools conftest.py

# Benchmarks run with the machine's best BLAS kernel (OPENBLAS_CORETYPE pins an old one here).
bench: $(STAMP)
	for f in bench/bench_*.py; do echo "== $$f"; \
		env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
