# One interface for people and CI. `make synth` and `make test` bootstrap what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

VENV := .venv
PYTHON := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CDK := node_modules/.bin/cdk
PY_DIRS := platform_config stacks constructs_lib k8s_manifests synth_checks pipeline_defs platform_cli functions containers tests bench tools
# Folders that hold Python (mypy refuses a folder without any).
PY_SOURCES := app.py $(foreach dir,$(PY_DIRS),$(if $(shell find $(dir) -name '*.py' 2>/dev/null | head -n 1),$(dir)))

# Offline and quiet: no telemetry, no version check.
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1
# The pinned Node LTS (package.json's `node`) first on PATH: the CDK CLI, the app it starts and jsii inside
# that app all run on it, whatever Node the machine has (any Node with npm can bootstrap).
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export AWS_EC2_METADATA_DISABLED := true
# mypy --strict reads the aws-cdk-lib stubs (about 70 s cold); a cache outside the checkout lets clean
# clones on the same machine reuse it.
export MYPY_CACHE_DIR ?= $(HOME)/.cache/sagemaker-mlops-platform/mypy
# Compiled bytecode is kept, out of the tree: a machine that sets PYTHONDONTWRITEBYTECODE (this one does)
# otherwise recompiles every module of the project and pytest rewrites every test file's asserts in each
# process, each run; that was half of a test worker's collection (19 s of CPU) and a second of every synth.
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX ?= $(CURDIR)/.cache/pycache

.PHONY: help bootstrap nginx synth test lint format typecheck pytest cfn-lint bench diff smoke iam-report bootstrap-policy first-deploy-plan deploy diff-live k8s-manifests destroy run-pipeline lock clean

# Bootstrap says what it installs: one line per step, and pip's one line per package it collects (a fresh
# machine downloads about 155 pinned packages, a few minutes); pip's per-file chatter is dropped, its
# warnings and errors are not (stderr), and an already complete install prints next to nothing.
PIP_CHATTER := ^(  |Looking in |Ignoring |Requirement already satisfied|Using cached|Downloading|Obtaining|Preparing metadata|Getting requirements|Installing build dependencies|Building wheel|Building editable|Created wheel|Stored in directory|Checking if build backend)
PIP_INSTALL = $(PYTHON) -m pip install --disable-pip-version-check --progress-bar off

# pip runs in hash-checking mode (--require-hashes): every file it installs must match a sha256 in
# requirements-lock.txt, and a dependency the lock lacks stops the install. Outside hash checking: the
# project itself, an editable install of this checkout (a local folder has no published hash) with
# --no-deps, so nothing else comes in unchecked; pip builds it with the setuptools pyproject.toml pins.
$(VENV_STAMP): requirements-lock.txt pyproject.toml
	@echo "bootstrap: Python virtualenv $(VENV)"
	test -x $(PYTHON) || python3 -m venv $(VENV)
	@echo "bootstrap: $(VENV): the packages requirements-lock.txt pins (about 155), each file checked against its sha256"
	$(PIP_INSTALL) --require-hashes -r requirements-lock.txt | { grep --line-buffered -vE '$(PIP_CHATTER)' || true; }
	@echo "bootstrap: $(VENV): this project, for its console script mlplatform (no dependencies: pinned above)"
	$(PIP_INSTALL) --quiet --no-deps -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	@echo "bootstrap: node_modules: the CDK CLI, Node $$(sed -n 's/.*"node": "\([0-9]*\)\..*/\1/p' package.json) and the IAM evaluator, as package-lock.json pins them (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## bootstrap: only create the virtualenv and node modules (every other target does it when they are missing)
bootstrap: $(VENV_STAMP) $(NODE_STAMP)

## help: every target and what it does (these ## comments)
help:
	@awk '/^## [a-z-]+: / { if (text) print text; text = substr($$0, 4); next } \
	      /^## / { text = text " " substr($$0, 4); next } \
	      { if (text) print text; text = "" }' $(firstword $(MAKEFILE_LIST)) \
	  | awk '{ name = $$1; sub(/:$$/, "", name); $$1 = ""; printf "  %-18s%s\n", name, $$0 }'

# The container's nginx, for tests that run `serve` for real: the Debian package the Dockerfile pins (a test
# checks that they agree), unpacked without installing it. apt-get update only when the lists lack it.
NGINX_VERSION := 1.22.1-9+deb12u9
NGINX_DIR := .cache/nginx
NGINX := $(NGINX_DIR)/usr/sbin/nginx
$(NGINX):
	rm -rf $(NGINX_DIR) $(NGINX_DIR).deb && mkdir -p $(NGINX_DIR).deb
	cd $(NGINX_DIR).deb && { apt-get download -q 'nginx=$(NGINX_VERSION)' 2>/dev/null \
	  || { apt-get update -qq && apt-get download -q 'nginx=$(NGINX_VERSION)'; }; }
	dpkg -x $(NGINX_DIR).deb/nginx_*.deb $(NGINX_DIR)
	rm -rf $(NGINX_DIR).deb
	$(NGINX) -v

## nginx: unpack the container's pinned nginx into .cache/nginx (pytest runs it when it is there)
nginx: $(NGINX)

## synth: synthesize every environment's stage; fails on config, cdk-nag or template-validation errors
synth: bootstrap
	rm -rf cdk.out
	$(CDK) synth '**' --quiet
	@echo "synthesized stages: $$(ls -d cdk.out/assembly-* | sed 's|cdk.out/assembly-||' | tr '\n' ' ')"

## test: lint, strict types, synth, cfn-lint on every template, then pytest
test: lint typecheck synth cfn-lint pytest

## lint: ruff check and ruff format --check
lint: bootstrap
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)

## format: ruff format, then ruff check --fix
format: bootstrap
	$(VENV)/bin/ruff format $(PY_SOURCES)
	$(VENV)/bin/ruff check --fix $(PY_SOURCES)

## typecheck: mypy --strict on every Python folder
typecheck: bootstrap
	mkdir -p $(MYPY_CACHE_DIR)
	$(VENV)/bin/mypy $(PY_SOURCES)

## cfn-lint: cfn-lint on the templates `make synth` wrote (one process per core; a template that linted clean
## is not linted again while its bytes, cfn-lint and its settings are unchanged: synth_checks/cfn_lint_cache.py)
# The glob is quoted because stage assemblies are nested.
cfn-lint: bootstrap
	$(PYTHON) -m synth_checks.cfn_lint_cache 'cdk.out/**/*.template.json'

## pytest: the test suite alone, in parallel (after `make nginx`, so the container tests use the real nginx);
## PYTEST_WORKERS=1 runs it in one process, PYTEST_ARGS="..." adds pytest arguments
# One worker per core. loadfile: a test file runs on one worker, so its module fixtures are built once;
# session fixtures (the sample's synth) at most once per worker.
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
pytest: bootstrap
	$(MAKE) --no-print-directory nginx || echo "warning: no nginx $(NGINX_VERSION); the tests that run nginx are skipped" >&2
	$(VENV)/bin/pytest $(if $(filter 1,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

## bench: full synth against an empty CDK app's synth (wall and CPU), pipeline rendering, the local pipeline runner,
## the time app.py takes to report a bad configuration,
## the container's /invocations, each stage of a warm `make test` (wall, CPU, load average; pytest's row too);
## then rewrites the README's measured table
bench: bootstrap
	$(PYTHON) -m bench.synth_bench --skip-pytest
	$(PYTHON) bench/pipeline_bench.py
	$(PYTHON) -m bench.runner_bench
	$(PYTHON) -m bench.config_bench
	$(PYTHON) -m bench.container_bench
	$(PYTHON) -m bench.test_bench
	$(PYTHON) -m bench.figures

## diff: what the working tree changes against BASE (default origin/main), per environment and stack,
## offline; fails with code 3 on unacknowledged data loss (ACK="reason" acknowledges it) and with 4 when a
## replacement keeps a fixed name, so the deploy would fail (4 wins over 3; ACK never accepts it).
## MARKDOWN=file writes a report. make itself exits 2 and prints the code as "Error 3" or "Error 4".
## HEAD_ASSEMBLY=cdk.out reuses this tree's `make synth` output instead of synthesizing it again (CI).
BASE ?= origin/main
diff: bootstrap
	$(PYTHON) -m platform_cli.revision_diff --base '$(BASE)' $(if $(MARKDOWN),--markdown '$(MARKDOWN)') $(if $(ACK),--acknowledge-data-loss '$(ACK)') $(if $(HEAD_ASSEMBLY),--head-assembly '$(HEAD_ASSEMBLY)')

## smoke: send each endpoint of ENV its configured smoke tests and check the answers (needs AWS credentials
## for ENV's account; ENDPOINT=name limits it to one endpoint)
smoke: bootstrap
	@test -n "$(ENV)" || { echo "make smoke needs ENV, e.g. make smoke ENV=staging" >&2; exit 2; }
	$(VENV)/bin/mlplatform smoke-test --env '$(ENV)' $(if $(ENDPOINT),--endpoint '$(ENDPOINT)')

## iam-report: evaluate the IAM request matrix offline (config/ and a generated configuration) and print
## its figures: requests, allowed, denied, unexpected (exit 1 on any unexpected verdict; VERBOSE=1 lists all)
iam-report: bootstrap
	$(PYTHON) -m tests.iam.report $(if $(VERBOSE),--verbose)

## bootstrap-policy: synthesize, then write the CloudFormation execution policies for `cdk bootstrap
## --cloudformation-execution-policies` into bootstrap-policy/<env>-cfn-exec-<n>.json (ENV=name: one environment)
bootstrap-policy: synth
	for assembly in $(if $(ENV),cdk.out/assembly-$(ENV),cdk.out/assembly-*); do \
	  $(PYTHON) -m tools.bootstrap_policy --env "$${assembly#cdk.out/assembly-}" --out bootstrap-policy; \
	done

## first-deploy-plan: the order of a first deployment of config/ from empty accounts: prerequisites,
## bootstrap, phases, and the image builds, pipeline runs and approvals between them
first-deploy-plan: bootstrap
	$(PYTHON) -m platform_cli.first_deploy_plan --config-dir config

# Live targets act on one environment: only its Stage is synthesized (PLATFORM_ENVIRONMENTS) and only its
# stacks are selected ('ENV/*'); the CLI orders them by their dependencies.
REQUIRE_ENV = @test -n "$(ENV)" || { echo "make $@ needs ENV, e.g. make $@ ENV=dev" >&2; exit 2; }
STAGE_CDK = PLATFORM_ENVIRONMENTS='$(ENV)' $(CDK)

## deploy: deploy ENV's stacks, and only ENV's, in dependency order with the pinned CLI (credentials for
## ENV's account, checked first); CDK_ARGS="..." passes options on, e.g. CDK_ARGS="--require-approval never"
deploy: bootstrap
	$(REQUIRE_ENV)
	$(PYTHON) -m platform_cli.account_check --env '$(ENV)' --command deploy
	$(STAGE_CDK) deploy '$(ENV)/*' $(CDK_ARGS)

## diff-live: what deploying ENV would change against the stacks deployed in its account (cdk diff; needs
## credentials for ENV's account, checked first); CDK_ARGS="..." passes options on. Offline review: make diff
diff-live: bootstrap
	$(REQUIRE_ENV)
	$(PYTHON) -m platform_cli.account_check --env '$(ENV)' --command diff-live
	$(STAGE_CDK) diff '$(ENV)/*' $(CDK_ARGS)

## k8s-manifests: write ENV's Kubernetes manifests (namespaces, RBAC, role selectors, ACK pipelines and
## endpoints) and the ACK controller's Helm values as YAML into k8s-manifests/<env>/, for Argo CD or Flux
## (ADR 0017)
k8s-manifests: bootstrap
	$(REQUIRE_ENV)
	$(PYTHON) -m tools.write_k8s_manifests --env '$(ENV)'

## destroy: delete every stack of a disposable environment (ENV=dev), what users and SageMaker added to
## them included; refuses an environment that retains its data (FORCE=1 skips the CLI's confirmation)
destroy: bootstrap
	$(REQUIRE_ENV)
	$(PYTHON) -m platform_cli.destroy_check --env '$(ENV)'
	$(STAGE_CDK) destroy '$(ENV)/*' $(if $(FORCE),--force)

## run-pipeline: run the rendered definition of PIPELINE (model_build, batch_inference) on this machine on
## INPUT (a CSV file or folder); PARAMS="Name=value ..." overrides parameters; MODELS="name=model.tar.gz ..."
## stands in for deployed models (batch_inference's ModelName); report in .pipeline-runs/
run-pipeline: bootstrap
	@test -n "$(PIPELINE)" -a -n "$(INPUT)" || { echo "make run-pipeline needs PIPELINE and INPUT, e.g. make run-pipeline PIPELINE=model_build INPUT=data.csv" >&2; exit 2; }
	$(PYTHON) -m pipeline_defs run '$(PIPELINE)' --input '$(INPUT)' $(foreach param,$(PARAMS),--param '$(param)') $(foreach model,$(MODELS),--model '$(model)')

## lock: after a change to requirements*.txt, resolve every Python package again (for Linux and macOS on
## Python 3.11) into requirements-lock.txt with the sha256 of each file PyPI publishes (needs PyPI); unchanged
## pins stay, UPGRADE=1 moves them all to the newest versions the requirements allow
# uv, not pip-compile: pip-compile resolves for this machine only and would leave out macOS-only packages
# (appnope), which the hash-checking install then refuses. uv is pinned in requirements-dev.txt.
lock: $(VENV_STAMP)
	$(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	  --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade) \
	  --output-file requirements-lock.txt requirements-dev.txt
	@echo "requirements-lock.txt: $$(grep -cE '^[A-Za-z0-9]' requirements-lock.txt) packages pinned with their hashes"

## clean: remove cdk.out, bootstrap-policy/, k8s-manifests/, .cache and the pytest and ruff caches
clean:
	rm -rf cdk.out .pytest_cache .ruff_cache bootstrap-policy .cache k8s-manifests
