# Each target does its own set-up on a fresh machine: it creates .venv and installs the package.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: test test-fast test-sdk-floor demo demo-cli demo-harness bench docs venv engine sdks clean

# The test extra includes the docs extra (MkDocs, mkdocstrings): the suite builds the docs site.
# setuptools' editable install of a package at the top of the repository maps that package alone (an import
# finder; a "." package root would put the whole checkout on sys.path) and warns about it with a banner
# ("Editable installation ... Please be careful with folders in your working directory"): silenced here.
QUIET_EDITABLE := PYTHONWARNINGS="ignore:Editable installation"
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(QUIET_EDITABLE) $(PY) -m pip install --quiet -e '.[test]'
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

# The floor lane: the tests that a floor of pyproject.toml decides run again in .venv-floor with those
# dependencies at their floors, the others resolved as pip resolves them: pulumi==3.271.0 for the tests
# of the SDK's own code (the workarounds of its defects, its unit-test mocks), urllib3==2.2.0 for the
# gzip-bomb test (urllib3 >= 2.6 caps decompression itself, so only the floor shows our own cap). The
# venv is made once (1m16s here with pip's cache warm, 31 s of it the tests), then about 30 s a run. The whole suite runs on .venv's versions,
# the newest served when .venv was made. Every floor at once: `python3 tools/check_floors.py` (manual).
VENV_FLOOR := .venv-floor
FLOOR_PINS := --pin pulumi --pin urllib3
SDK_TESTS := tests/test_sdk_workarounds.py tests/test_output_wait.py tests/test_mocks.py
URLLIB3_TESTS := tests/test_credential_deadlines.py::test_a_gzip_bomb_from_a_credential_service_is_not_decoded

test-sdk-floor: venv
	$(PY) tools/check_floors.py --venv $(VENV_FLOOR) $(FLOOR_PINS) $(SDK_TESTS) $(URLLIB3_TESTS)

# The whole suite, the docs with it: every code block of README.md and docs/ runs (tests/test_readme.py,
# test_docs.py, test_credentials_readme.py, test_plugin_readme.py), docs/getting-started.md runs as
# written with the real CLI (test_getting_started.py), and the site builds strict (test_docs_site.py).
# The tiers are markers (tests/conftest.py applies them from what a test uses): `engine`, the tests that run
# the real Pulumi CLI (or another part of `make engine`'s build); `slow`, those over about 10 s without it
# (the soak, the fault matrix, wheel builds, the benchmarks' smoke run); and the rest. pytest-xdist runs the
# tiers that allow it on every core (-n auto); the engine tier runs serially (its tests share `make engine`'s
# build, and on two workers test_engine_project_layout's `pulumi install` found a plugin it should have sought).
PARALLEL := -n auto
test: venv engine sdks test-sdk-floor
	@$(PY) -c "from importlib.metadata import version; print('make test: the suite on pulumi', version('pulumi'))"
	$(PY) -m pytest -q $(PARALLEL) -m "not engine"
	$(PY) -m pytest -q -m engine

# The day-to-day lane: every test but the engine and slow tiers, in parallel (5m22s here, 2 cores shared at
# load 5; its tests' durations add up to 9m39s).
test-fast: venv
	$(PY) -m pytest -q $(PARALLEL) -m "not engine and not slow"

# The documentation site into site/ (mkdocs.yml): strict, so a broken link or API reference fails.
docs: venv
	$(PY) -m mkdocs build --strict

# FC 3.0 by default, through the real CLI when one is found (else the harness); ARGS picks the rest:
# make demo ARGS="--api fc2 --harness" (see --help). demo-cli needs a Pulumi CLI; demo-harness never uses one.
demo: venv
	$(PY) -m pulumi_fc_invocation.demo $(ARGS)

demo-cli: venv
	$(PY) -m pulumi_fc_invocation.demo --cli $(ARGS)

demo-harness: venv
	$(PY) -m pulumi_fc_invocation.demo --harness $(ARGS)

bench: venv
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) $(VENV_FLOOR) build *.egg-info .pulumi site
