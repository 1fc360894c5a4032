# valuecare: two commands set everything up on a fresh machine.
#   make demo   - virtual environment, install, synthetic population, load, pipeline, summary
#   make test   - the whole test suite (DuckDB and Spark local mode)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo
MEMBERS ?= 5000
YEARS ?= 3
SEED ?= 42

.PHONY: demo test lint docs bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[spark,dev]"
	touch $@

demo: $(VENV)/.installed
	rm -rf $(DEMO)/pop
	$(BIN)/valuecare synth --members $(MEMBERS) --years $(YEARS) --seed $(SEED) --out $(DEMO)/pop
	$(BIN)/valuecare --workspace $(DEMO) load $(DEMO)/pop
	rm -rf $(DEMO)/costing && cp -r $(DEMO)/pop/costing $(DEMO)/costing  # TDABC inputs
	$(BIN)/valuecare --workspace $(DEMO) run
	$(BIN)/valuecare --workspace $(DEMO) status
	$(BIN)/valuecare --workspace $(DEMO) outcomes --condition hip_knee
	$(BIN)/valuecare --workspace $(DEMO) measures
	$(BIN)/valuecare --workspace $(DEMO) costs --condition hip_knee
	$(BIN)/valuecare --workspace $(DEMO) value --condition diabetes --measure chronic_complication --top 10

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks

docs: $(VENV)/.installed
	$(BIN)/python -m valuecare.docs

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_synth_load.py

clean:
	rm -rf $(DEMO) .pytest_cache .ruff_cache
