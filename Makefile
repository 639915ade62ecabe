# Thin aliases for ./ops (which creates .venv on first use).

# Lint, type-check and run the test suite (what CI runs).
test:
	./ops test

# Run the whole loop against the local sandbox.
demo:
	./ops demo

# Format the code in place.
fmt:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

.PHONY: test demo fmt
