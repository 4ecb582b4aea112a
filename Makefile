# Quick start:  make demo   (paper's configuration on built-in defaults, 2 MPI ranks)
#               make test   (serial tests, then the parallel ones on 2 ranks)
VENV ?= .venv
NP ?= 2
OUT ?= results/demo
STAMP := $(VENV)/.flexotip-installed
MPIEXEC := $(VENV)/bin/mpiexec

.PHONY: demo test test-serial test-parallel benchmark lint clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV)
	touch $(STAMP)

demo: $(STAMP)
	$(MPIEXEC) -n $(NP) $(VENV)/bin/flexotip run --out $(OUT)

test: test-serial test-parallel

test-serial: $(STAMP)
	$(VENV)/bin/python -m pytest

test-parallel: $(STAMP)
	timeout 1500 $(MPIEXEC) -n 2 $(VENV)/bin/python -m pytest -m "not serial" -q -p no:cacheprovider

# BENCHMARK_ARGS=--smoke: each script's smallest case, JSON to a temporary folder, README untouched.
# spectral_film.py is serial by design (one process per case, one core): no mpiexec.
benchmark: $(STAMP)
	$(MPIEXEC) -n $(NP) $(VENV)/bin/python benchmarks/elastic_tip.py $(BENCHMARK_ARGS)
	$(MPIEXEC) -n $(NP) $(VENV)/bin/python benchmarks/contact_tip.py $(BENCHMARK_ARGS)
	$(MPIEXEC) -n $(NP) $(VENV)/bin/python benchmarks/electromechanics.py $(BENCHMARK_ARGS)
	$(MPIEXEC) -n $(NP) $(VENV)/bin/python benchmarks/vacancies.py $(BENCHMARK_ARGS)
	$(VENV)/bin/python benchmarks/spectral_film.py $(BENCHMARK_ARGS)

lint: $(STAMP)
	$(VENV)/bin/python -m pip install --quiet ruff
	$(VENV)/bin/python -m ruff check .

clean:
	rm -rf results .pytest_cache
