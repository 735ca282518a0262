# Each target does its own set-up on a fresh machine: it creates .venv and installs the package.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: test test-sdk-floor demo bench venv engine sdks clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# The real Pulumi CLI for the end-to-end tests, with its Python, YAML and Node.js language hosts, built
# once per machine from the Go module proxy, and the npm packages of TypeScript programs (tools/engine).
# A contributor without Go names a pulumi CLI instead (FC_INVOCATION_PULUMI=/path/to/pulumi); the npm
# packages are still prepared, with node and npm.
engine: venv
	@if [ -n "$$FC_INVOCATION_PULUMI" ]; then echo "engine: using FC_INVOCATION_PULUMI=$$FC_INVOCATION_PULUMI"; \
	  bash tools/engine/build.sh --node-only $(PY); \
	elif command -v go >/dev/null 2>&1; then bash tools/engine/build.sh $(PY); \
	else echo "make engine: needs Go, or FC_INVOCATION_PULUMI naming a pulumi CLI" >&2; exit 1; fi

# The fc-invocation plugin's SDKs as they are published (tools/sdks/build.sh, from schema.json with pkg/v3's
# generators): the TypeScript SDK as an npm tarball, the Python SDK as a wheel, the Go SDK's source, into
# .pulumi/sdks/. The real-CLI tests install them into programs offline. Rebuilt only when an input changed.
sdks: engine
	bash tools/sdks/build.sh $(PY)

# The tests that depend on the Pulumi SDK's own code (the workarounds of its defects, its unit-test mocks)
# run again on the floors of pyproject.toml (pulumi==3.271.0) in .venv-floor, made once (about a minute),
# then about 30 s a run: the floor is what the suite proves. The whole suite runs on .venv's SDK, the
# newest served when .venv was made.
VENV_FLOOR := .venv-floor
SDK_TESTS := tests/test_sdk_workarounds.py tests/test_output_wait.py tests/test_mocks.py

test-sdk-floor: venv
	$(PY) tests/check_floors.py --venv $(VENV_FLOOR) $(SDK_TESTS)

test: venv engine sdks test-sdk-floor
	@$(PY) -c "from importlib.metadata import version; print('make test: the suite on pulumi', version('pulumi'))"
	$(PY) -m pytest -q

demo: venv
	$(PY) -m pulumi_fc_invocation.demo

bench: venv
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) $(VENV_FLOOR) build *.egg-info .pulumi
