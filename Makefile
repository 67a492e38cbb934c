# The few commands a contributor needs. `make run` and `make test` work on a fresh machine.
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
VPY := .venv/bin/python

.PHONY: setup run test check lint typecheck bench

setup:            ## install everything (idempotent)
	@bash scripts/setup.sh

run: setup        ## set up, then open the app with the embedded model and built-in scenarios
	@.venv/bin/mosaic

test: setup check ## set up, then run lint, types and the whole test suite
	@$(VPY) -m pytest -q -p no:cacheprovider --durations=15

check: lint typecheck

lint:
	@.venv/bin/ruff check mosaic_studio sandboxes trainer tests benchmarks
	@.venv/bin/ruff format --check mosaic_studio sandboxes trainer tests benchmarks

typecheck:
	@.venv/bin/mypy

bench: setup      ## run the benchmark scripts
	@for f in benchmarks/bench_*.py; do $(VPY) $$f; done
