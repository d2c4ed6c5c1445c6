"""CDK's built-in CloudFormation template validator, run outside the jsii kernel, its verdict on each template
kept on disk by content.

The validator is about half of a full synth's CPU (7 of 14 s of `cdk synth '**'` on the sample, measured
2026-12-07: 2 s to load its WASM engine and rules, the rest validating 24 templates), and its verdict on a
template is a function of the template's bytes, the stack's construct path, account and region, and
aws-cdk-lib's version (which pins the validator). A template seen before is not validated again; the others
are validated by the same plugin class, aws-cdk-lib's `CloudFormationValidatePlugin`, loaded from the same
aws-cdk-lib in a Node process of its own (synth_checks/template_validate.js), started at the first miss and
kept for the process's later synths. Nothing here calls into the jsii
kernel from the validation callback but reading the context it was given (a validator built inside a jsii
callback once hung the kernel of long-lived test workers), and no jsii object outlives a synth.

The report is the built-in plugin's: the same name (so acknowledgements keep their
`CloudFormation-Validate::<rule>` ids and CDK applies the same strict-rules flag to it), the same violations
merged the same way (by rule, severity and description, in template order). `build_app` turns the
auto-registered validator off and registers this one, unless CDK_VALIDATION=false turns validation off.

PLATFORM_VALIDATION_CACHE_DIR moves the folder (default `.cache/template-validation` in the checkout, which
`make clean` removes); an empty string validates every template every time (still outside the kernel).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import IO, Any, Final

import aws_cdk as cdk
import jsii

from synth_checks.content_cache import configured_dir, write_atomically

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_DIR: Final = ROOT / ".cache" / "template-validation"
LIBRARY_DIR: Final = ROOT / ".cache" / "aws-cdk-lib"
DIR_VARIABLE: Final = "PLATFORM_VALIDATION_CACHE_DIR"
RUNNER: Final = Path(__file__).resolve().parent / "template_validate.js"
# aws-cdk-lib's CloudFormationValidatePlugin.PLUGIN_NAME: CDK downgrades this plugin's errors to warnings
# unless @aws-cdk/core:validateAgainstDefaultRules is set, and acknowledgement ids start with it.
VALIDATOR_NAME: Final = "CloudFormation Validate"
PLUGIN_FILE: Final = Path("core", "lib", "validation", "cloudformation-validate-plugin.js")
# Bump when the layout of an entry changes.
FORMAT: Final = "1"


def cache_dir() -> Path | None:
    return configured_dir(DIR_VARIABLE, DEFAULT_DIR)


def enabled() -> bool:
    """CDK's own switch for its validator (`cdk synth --no-validation` sets it too)."""
    return os.environ.get("CDK_VALIDATION") != "false"


@functools.cache
def library_version() -> str:
    return importlib.metadata.version("aws-cdk-lib")


def _is_library(folder: Path) -> bool:
    try:
        version = json.loads((folder / "package.json").read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return False
    return version == library_version() and (folder / PLUGIN_FILE).is_file()


@functools.cache
def library_folder() -> Path:
    """aws-cdk-lib's JavaScript as the jsii kernel runs it: its package cache when it has this version
    unpacked, otherwise the package's own tarball unpacked once into .cache/aws-cdk-lib/<version>."""
    version = library_version()
    roots = [os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT") or ""]
    roots.append(str(Path.home() / ".cache" / "aws" / "jsii" / "package-cache"))
    for root in filter(None, roots):
        for folder in sorted((Path(root) / "aws-cdk-lib" / version).glob("*")):
            if _is_library(folder):
                return folder
    target = LIBRARY_DIR / version
    if _is_library(target):
        return target
    spec = importlib.util.find_spec("aws_cdk._jsii")
    assert spec is not None and spec.origin is not None
    tarball = Path(spec.origin).parent / f"aws-cdk-lib@{version}.jsii.tgz"
    LIBRARY_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=LIBRARY_DIR, prefix=".unpack-") as partial:
        with tarfile.open(tarball) as archive:
            archive.extractall(partial, filter="data")
        try:
            (Path(partial) / "package").replace(target)
        except OSError:  # another process unpacked it first
            if not _is_library(target):
                raise
    return target


def _node() -> str:
    """The Node the jsii kernel runs on: JSII_NODE, else `node` on PATH."""
    node = os.environ.get("JSII_NODE") or shutil.which("node")
    if node is None:
        raise RuntimeError("template validation needs Node.js on PATH (the jsii kernel's)")
    return node


class _NodeValidator:
    """One Node process running template_validate.js, started at the first miss and kept for the next ones
    (a test worker synthesizes many apps), like CDK's own validator, built once per process. A process
    that forked gets one of its own; one that died is started again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._pid = 0

    def _start(self) -> subprocess.Popen[str]:
        if self._stderr is not None:
            self._stderr.close()
        # Kept open for the process's lifetime (its stderr, read when it fails); closed by close().
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        process = subprocess.Popen(
            [_node(), str(RUNNER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )
        self._process, self._pid = process, os.getpid()
        return process

    def _failure(self, what: str) -> RuntimeError:
        detail = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            detail = self._stderr.read()[-4000:]
        self.close()
        return RuntimeError(f"the template validator {what}:\n{detail}")

    def ask(self, request: str) -> dict[str, Any]:
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None or self._pid != os.getpid():
                process = self._start()
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(request + "\n")
                process.stdin.flush()
            except OSError as error:
                raise self._failure(f"could not be asked ({error})") from error
            line = process.stdout.readline()
            if not line:
                raise self._failure(f"stopped (exit status {process.wait()})")
            answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the template validator failed:\n{answer['error']}")
        return answer

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and self._pid == os.getpid():
            if process.stdin is not None:
                process.stdin.close()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


_VALIDATOR = _NodeValidator()
atexit.register(_VALIDATOR.close)


def validate_in_node(stacks: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The validator's version and its report on each stack alone."""
    # Unknown accounts and regions are left out (undefined to the plugin, as CDK passes them), not null.
    stacks = [{key: value for key, value in stack.items() if value is not None} for stack in stacks]
    answer = _VALIDATOR.ask(json.dumps({"library": str(library_folder()), "stacks": stacks}))
    return str(answer["version"]), list(answer["reports"])


def entry_key(stack: dict[str, Any]) -> str:
    digest = hashlib.sha256(f"{FORMAT}\0{library_version()}\0".encode())
    for field in ("stackConstructPath", "accountId", "region"):
        digest.update(f"{stack.get(field)!r}\0".encode())
    digest.update(Path(stack["templatePath"]).read_bytes())
    return digest.hexdigest()


def stack_reports(stacks: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """The validator's report on each stack alone, from the cache where an entry exists; its version."""
    directory = cache_dir()
    paths = [None if directory is None else directory / f"{entry_key(stack)}.json" for stack in stacks]
    entries: list[dict[str, Any] | None] = []
    for path in paths:
        try:
            entries.append(None if path is None else json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            entries.append(None)
    misses = [index for index, entry in enumerate(entries) if entry is None]
    if misses:
        version, reports = validate_in_node([stacks[index] for index in misses])
        for index, report in zip(misses, reports, strict=True):
            # The template path is the one part of a report that is not the template's: it is put back.
            for violation in report["violations"]:
                for resource in violation["violatingResources"]:
                    resource.pop("templatePath", None)
            entry = {"version": version, "report": report}
            entries[index] = entry
            path = paths[index]
            if path is not None:
                write_atomically(path, json.dumps(entry))
    found = [entry for entry in entries if entry is not None]
    return (str(found[0]["version"]) if found else None), [entry["report"] for entry in found]


def merged_report(
    stacks: list[dict[str, Any]], reports: list[dict[str, Any]]
) -> cdk.PolicyValidationPluginReport:
    """The plugin's report on all stacks at once: violations of the same rule, severity and description
    merged in template order, as CloudFormationValidatePlugin.validate merges them."""
    violations: list[dict[str, Any]] = []
    by_identity: dict[tuple[str, str, str], dict[str, Any]] = {}
    for stack, report in zip(stacks, reports, strict=True):
        for violation in report["violations"]:
            resources = [
                {**resource, "templatePath": stack["templatePath"]}
                for resource in violation["violatingResources"]
            ]
            identity = (violation["ruleName"], violation["severity"], violation["description"])
            if identity in by_identity:
                by_identity[identity]["violatingResources"].extend(resources)
            else:
                merged = {**violation, "violatingResources": resources}
                by_identity[identity] = merged
                violations.append(merged)
    return cdk.PolicyValidationPluginReport(
        success=all(violation["severity"] not in ("error", "fatal") for violation in violations),
        violations=[
            cdk.PolicyViolation(
                rule_name=violation["ruleName"],
                description=violation["description"],
                fix=violation.get("fix"),
                severity=violation.get("severity"),
                rule_metadata=violation.get("ruleMetadata"),
                violating_resources=[
                    cdk.PolicyViolatingResource(
                        locations=list(resource.get("locations", [])),
                        resource_logical_id=resource.get("resourceLogicalId"),
                        construct_path=resource.get("constructPath"),
                        template_path=resource["templatePath"],
                    )
                    for resource in violation["violatingResources"]
                ],
            )
            for violation in violations
        ],
    )


@jsii.implements(cdk.IPolicyValidationPlugin)
class CachedTemplateValidation:
    """`cdk.CloudFormationValidatePlugin`'s report, from a Node process of its own or from the cache."""

    def __init__(self) -> None:
        self._version: str | None = None

    @property
    def name(self) -> str:
        return VALIDATOR_NAME

    @property
    def version(self) -> str | None:
        # CDK reads it after validate (for the report); the validator's own version, stored with each entry.
        return self._version

    @property
    def rule_ids(self) -> list[str] | None:
        # Optional (analytics); the validator's rule list would need its engine loaded.
        return None

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        stacks = [
            {
                "stackConstructPath": stack.stack_construct_path,
                "templatePath": stack.template_path,
                "accountId": stack.account_id,
                "region": stack.region,
            }
            for stack in context.stack_templates
        ]
        version, reports = stack_reports(stacks)
        self._version = version
        return merged_report(stacks, reports)
