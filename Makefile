# Quick start:  make demo   (paper's configuration on built-in defaults, 2 MPI ranks)
#               make test   (serial tests on 2 workers, then the parallel ones on 2 ranks)
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

# The serial stage runs on two pytest-xdist workers (each a one-rank MPI process), a test
# file per worker at a time (--dist loadfile) so that a module-scoped fixture runs once; one
# BLAS/OpenMP thread per worker, so that the two do not compete for the same cores.
test-serial: $(STAMP)
	OMP_NUM_THREADS=1 $(VENV)/bin/python -m pytest -n 2 --dist loadfile

test-parallel: $(STAMP)
	timeout 1500 $(MPIEXEC) -n 2 $(VENV)/bin/python -m pytest -m "not serial" -q -p no:cacheprovider

# BENCHMARK_ARGS=--smoke: each script's smallest case, JSON to a temporary folder, README untouched.
# spectral_film.py is serial by design (one process per case, one core): no mpiexec; studies.py
# launches its own mpiexec -n 2 per study run.
benchmark: $(STAMP)
	$(MPIEXEC) -n $(NP) $(VENV)/bin/python benchmarks/elastic_tip.py $(BENCHMARK_ARGS)
	$(MPIEXEC) -n $(NP) $(VENV)/bin/python benchmarks/contact_tip.py $(BENCHMARK_ARGS)
	$(MPIEXEC) -n $(NP) $(VENV)/bin/python benchmarks/electromechanics.py $(BENCHMARK_ARGS)
	$(MPIEXEC) -n $(NP) $(VENV)/bin/python benchmarks/vacancies.py $(BENCHMARK_ARGS)
	$(VENV)/bin/python benchmarks/spectral_film.py $(BENCHMARK_ARGS)
	$(VENV)/bin/python benchmarks/studies.py $(BENCHMARK_ARGS)

lint: $(STAMP)
	$(VENV)/bin/python -m pip install --quiet ruff
	$(VENV)/bin/python -m ruff check .

clean:
	rm -rf results .pytest_cache
