# Thin aliases for ./ops (which creates .venv on first use).

# Lint, type-check and run the test suite (what CI runs).
test:
	./ops test

# Run the whole loop against the local sandbox.
demo:
	./ops demo

# Benchmarks (not tests): print tables, write bench/results/; results are recorded in bench/README.md.
bench: bench-sandbox bench-sync

# How many leads a second the sandbox ingests (it must not be what the other benchmarks measure).
bench-sandbox: venv
	.venv/bin/python bench/bench_sandbox.py

# The sync's leads pull (60,000 leads, 250 ms, 20/s and 1,200/min) vs one sequential cursor, fixed and sliding.
bench-sync: venv
	.venv/bin/python bench/bench_sync.py

# The CSV extract: DuckDB's fixed-option reader vs the row-by-row fallback (a ragged line, a cp1252 file).
bench-extract: venv
	.venv/bin/python bench/bench_extract.py

# Create or update .venv (./ops does it on first use).
venv:
	./ops --help >/dev/null

# Format the code in place.
fmt:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

.PHONY: test demo fmt bench bench-sandbox bench-sync bench-extract venv
