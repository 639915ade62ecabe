# Thin aliases for ./ops (which creates .venv on first use).

# Lint, type-check and run the fast tests (not marked slow).
test:
	./ops test

# Lint, type-check and run every test, slow ones included (what CI runs: .ci/run).
test-all:
	./ops test --all

# Run the whole loop against the local sandbox.
demo:
	./ops demo

# Benchmarks (not tests): print tables, write bench/results/; results are recorded in bench/README.md.
bench: bench-sandbox bench-push bench-sync bench-ducklake bench-shared bench-cli

# How many leads a second the sandbox ingests (it must not be what the other benchmarks measure).
bench-sandbox: venv
	.venv/bin/python bench/bench_sandbox.py

# The push at 1,000 leads per request: 10k/100k/1M leads, 20 and 100 req/s, next to the instantlyai SDK.
bench-push: venv bench-sdk-venv
	.venv/bin/python bench/bench_push.py

# A separate venv with the published instantlyai SDK (pinned), for the comparison runs only.
bench-sdk-venv: bench/.venv-sdk/bin/python

bench/.venv-sdk/bin/python:
	python3.11 -m venv bench/.venv-sdk
	bench/.venv-sdk/bin/pip install --quiet instantlyai==0.7.0

# The sync's leads pull (60,000 leads, 250 ms, 20/s and 1,200/min) vs one sequential cursor, fixed and sliding.
bench-sync: venv
	.venv/bin/python bench/bench_sync.py

# Push and sync throughput on a DuckLake (catalog in the local Postgres) vs the DuckDB file, same run.
bench-ducklake: venv
	.venv/bin/python bench/bench_ducklake.py

# 1 and 2 pushes sharing one budget through a Prefect global concurrency limit (a real Prefect server).
bench-shared: venv
	.venv/bin/python bench/bench_shared_budget.py

# How long ./ops commands take to answer (lists, dry run) and a flow command's first output, against a sandbox.
bench-cli: venv
	.venv/bin/python bench/cli_timings.py

# The CSV extract: DuckDB's fixed-option reader vs the row-by-row fallback (a ragged line, a cp1252 file).
bench-extract: venv
	.venv/bin/python bench/bench_extract.py

# Create or update .venv (./ops does it on first use).
venv:
	./ops --help >/dev/null

# Format the code in place.
fmt:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

.PHONY: test test-all demo fmt bench bench-sandbox bench-push bench-sdk-venv bench-sync bench-ducklake bench-shared bench-extract venv bench-cli
