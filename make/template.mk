# Template checks and the deployable build (issue 6). Included by the top-level Makefile, which
# provides PYTHON, VENV, VPY and SAMVENV and exports SAM_CLI_TELEMETRY=0.
#
#   make template   cfn-lint, `sam validate --lint`, `sam build` (arm64 layer, no Docker),
#                   then scripts/check_layer.py on the built layer and functions (aarch64 ELF only,
#                   size budget, every import of deployed code resolvable in Lambda), then
#                   scripts/smoke_layer.py: each built function imported in an isolated interpreter
#                   against a host-architecture twin of the layer (Linux hosts; the arm64 layer
#                   itself cannot be loaded on an x86_64 machine).
#
# checkov (the template's static security checks) lives in .venv-checkov (requirements-checkov.txt,
# the whole resolved set pinned). Every deliberate exception is written in template.yaml beside
# the resource it concerns (Metadata: checkov: skip, with its reason): any other failed check
# fails the build.
#
# The SAM CLI lives in its own virtualenv (.venv-sam, requirements-sam.txt): it pins its own
# boto3/botocore, which must not hold back the test environment's. It is created with the same
# Python 3.13 the Makefile selected, because `sam build` insists on finding `python3.13` on PATH
# for a python3.13 runtime (it validates the interpreter even though our layer is cross-built).

SAM := $(SAMVENV)/bin/sam
SAM_BUILD_DIR := .aws-sam/build
# 8 MB until issue 15; the X-Ray SDK and wrapt (tracing, layers/auth_core/requirements-nodeps.txt)
# add 0.6 MB zipped, for 8.5 MB in all.
LAYER_MAX_ZIPPED_MB ?= 9
HOST_OS := $(shell uname -s)
HOST_ARCH := $(subst arm64,aarch64,$(shell uname -m))
SMOKE_LAYER_DIR := .aws-sam/smoke-layer-$(HOST_ARCH)

CHECKOV_VENV := .venv-checkov

.PHONY: template sam-venv sam-build layer-smoke check-py313 checkov

check-py313:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || { \
	  echo "error: 'make test' and 'make template' need Python 3.13 (the Lambda runtime, for sam build); found PYTHON=$(PYTHON) ($$($(PYTHON) --version 2>&1))."; \
	  echo "       Install it ('pyenv install 3.13', or your OS's python3.13 package) or pass PYTHON=/path/to/python3.13."; \
	  exit 1; }

$(SAMVENV)/.installed: requirements-sam.txt | check-py313
	$(PYTHON) -m venv $(SAMVENV)
	$(SAMVENV)/bin/python -m pip install -q --upgrade pip
	$(SAMVENV)/bin/python -m pip install -q -r requirements-sam.txt
	@touch $@

sam-venv: $(SAMVENV)/.installed

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install -q -r requirements-checkov.txt
	@touch $@

# --quiet --compact: only failed checks, without code excerpts (a clean run prints the counts).
checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --quiet --compact \
	    --skip-download

# PATH: `sam build` looks for python3.13 on PATH; the layer's Makefile uses it for the cross-platform pip install.
# (SAM says "requirements.txt file not found" for every function: by design their code has no
# dependencies of its own, the layer carries them; that expected line is filtered out.)
sam-build: sam-venv check-py313
	set -o pipefail; PATH="$(abspath $(dir $(PYTHON))):$$PATH" $(SAM) build --template-file template.yaml \
	    --build-dir $(SAM_BUILD_DIR) 2>&1 | grep -v "requirements.txt file not found"

# Same Makefile, same pins, host wheels: what the import smoke test loads. Needs sam-build first.
layer-smoke: check-py313
ifeq ($(HOST_OS),Linux)
	PATH="$(abspath $(dir $(PYTHON))):$$PATH" $(MAKE) --no-print-directory -s -C layers/auth_core build-AuthCoreLayer \
	    ARTIFACTS_DIR=$(abspath $(SMOKE_LAYER_DIR)) PLATFORM=manylinux2014_$(HOST_ARCH) PYTHON=$(PYTHON)
	$(VPY) scripts/smoke_layer.py --python $(PYTHON) $(SMOKE_LAYER_DIR)/python $(SAM_BUILD_DIR)/*Function
else
	@echo "layer-smoke: skipped on $(HOST_OS) (it loads manylinux wheels; run it on Linux or in CI)"
endif

template: venv sam-venv check-py313
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template-file template.yaml
	@$(MAKE) --no-print-directory checkov
	@$(MAKE) --no-print-directory sam-build
	$(VPY) scripts/check_layer.py --max-zipped-mb $(LAYER_MAX_ZIPPED_MB) $(SAM_BUILD_DIR)/AuthCoreLayer \
	    --code $(SAM_BUILD_DIR)/*Function
	@$(MAKE) --no-print-directory layer-smoke
