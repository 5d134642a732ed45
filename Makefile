# ltc2c: `make demo` sets everything up and compiles + verifies the bundled example;
# `make test` sets everything up and runs the test suite (what CI runs).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LTC2C  := $(VENV)/bin/ltc2c
DEMO_MODEL := examples/models/sine_ltc.pt
DEMO_DATA  := examples/models/sine_inputs.npz
DEMO_OUT   := demo-out

.PHONY: setup toolchains demo test bench clean

setup: $(VENV)/.installed toolchains

# torch is pinned exactly: other specs pull multi-GB CUDA builds.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,examples]'
	touch $@

toolchains:
	sh tools/setup-toolchains.sh

demo: setup
	$(LTC2C) info $(DEMO_MODEL)
	$(LTC2C) compile $(DEMO_MODEL) -o $(DEMO_OUT)/c --name sine
	$(LTC2C) verify $(DEMO_MODEL) --data $(DEMO_DATA) --json $(DEMO_OUT)/report.json --plot $(DEMO_OUT)/parity.png
	$(LTC2C) compile $(DEMO_MODEL) -o $(DEMO_OUT)/c_cortex_m4 --name sine --target cortex-m4 --calib $(DEMO_DATA)
	$(LTC2C) build $(DEMO_OUT)/c_cortex_m4 --target cortex-m4
	$(LTC2C) verify $(DEMO_MODEL) --target cortex-m4 --quant int16 --calib $(DEMO_DATA) --data $(DEMO_DATA) --json $(DEMO_OUT)/report_cortex_m4.json

test: setup
	$(PY) -m pytest -n 2 -q -p no:cacheprovider

bench: setup
	$(PY) benchmarks/host_latency.py

clean:
	rm -rf $(DEMO_OUT) build dist
