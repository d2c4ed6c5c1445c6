"""requirements-lock.txt, which `make bootstrap` installs in pip's hash-checking mode, is complete: every
package pinned with `==` and at least one sha256, the human-edited requirements at their own pins, and every
dependency of what it installs on this machine in it. `make lock` rewrites it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements-lock.txt"
# The human-edited inputs of `make lock` (requirements-dev.txt includes the other two with -r).
INPUTS = ("requirements.txt", "requirements-dev.txt", "containers/decision_tree/requirements.txt")
HASH = re.compile(r"sha256:[0-9a-f]{64}")
RELOCK = "run `make lock` and commit requirements-lock.txt"


@dataclass(frozen=True)
class Pin:
    requirement: Requirement
    hashes: tuple[str, ...]
    options: tuple[str, ...]  # anything but --hash on the requirement's line

    @property
    def name(self) -> NormalizedName:
        return canonicalize_name(self.requirement.name)

    @property
    def version(self) -> str | None:
        specifiers = list(self.requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            return None
        return str(specifiers[0].version)

    def applies_here(self) -> bool:
        return self.requirement.marker is None or self.requirement.marker.evaluate()


def parse_lock(text: str) -> list[Pin]:
    """The requirement lines of a requirements file in pip's format, continuation lines joined."""
    pins = []
    for line in text.replace("\\\n", " ").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        requirement, *options = re.split(r"\s+(?=--)", stripped)
        hashes = tuple(option.removeprefix("--hash=") for option in options if option.startswith("--hash="))
        others = tuple(option for option in options if not option.startswith("--hash="))
        pins.append(Pin(Requirement(requirement), hashes, others))
    return pins


def lock_problems(pins: list[Pin]) -> list[str]:
    problems = []
    for pin in pins:
        if pin.version is None:
            problems.append(f"{pin.requirement}: not pinned with ==")
        if not pin.hashes:
            problems.append(f"{pin.requirement}: no --hash")
        problems += [
            f"{pin.requirement}: not a sha256: {value}" for value in pin.hashes if not HASH.fullmatch(value)
        ]
        problems += [f"{pin.requirement}: unexpected option {option}" for option in pin.options]
    seen: dict[tuple[NormalizedName, str], Pin] = {}
    for pin in pins:
        key = (pin.name, str(pin.requirement.marker))
        if key in seen:
            problems.append(f"{pin.requirement}: locked twice")
        seen[key] = pin
    return problems


def _lock() -> list[Pin]:
    return parse_lock(LOCK.read_text())


def _locked_here() -> dict[NormalizedName, Pin]:
    """The lock's pins that pip installs on this machine (their markers hold here)."""
    return {pin.name: pin for pin in _lock() if pin.applies_here()}


def _inputs() -> list[tuple[str, Requirement]]:
    requirements = []
    for file_name in INPUTS:
        for line in (ROOT / file_name).read_text().splitlines():
            stripped = line.split(" #", 1)[0].strip()
            if stripped and not stripped.startswith(("#", "-")):
                requirements.append((file_name, Requirement(stripped)))
    return requirements


def test_every_package_is_pinned_with_its_hashes() -> None:
    pins = _lock()
    assert len(pins) > 100, "requirements-lock.txt lost its packages"
    assert lock_problems(pins) == [], RELOCK


def test_a_missing_pin_or_hash_is_a_problem() -> None:
    digest = "sha256:" + "0" * 64
    assert lock_problems(parse_lock(f"six==1.17.0 \\\n    --hash={digest}\n    # via a\n")) == []
    assert lock_problems(parse_lock("six==1.17.0\n")) == ["six==1.17.0: no --hash"]
    assert lock_problems(parse_lock(f"six>=1.5 --hash={digest}\n")) == ["six>=1.5: not pinned with =="]
    assert lock_problems(parse_lock("six==1.17.0 --hash=md5:00\n")) == ["six==1.17.0: not a sha256: md5:00"]
    twice = f"six==1.17.0 --hash={digest}\nSix==1.16.0 --hash={digest}\n"
    assert lock_problems(parse_lock(twice)) == ["Six==1.16.0: locked twice"]
    # One package may be locked once per environment marker (a universal resolution forks).
    forked = f"six==1.17.0 ; sys_platform == 'darwin' --hash={digest}\nsix==1.16.0 --hash={digest}\n"
    assert lock_problems(parse_lock(forked)) == []


def test_the_requirements_are_locked_at_their_own_pins() -> None:
    """Whoever bumps a pin in requirements*.txt (by hand or Dependabot) also re-locks. The container's
    requirements are among them, so the tests run its code on the versions the image installs."""
    locked: dict[NormalizedName, set[str]] = {}
    for pin in _lock():
        if pin.version is not None:  # an unpinned line fails the test above
            locked.setdefault(pin.name, set()).add(pin.version)
    stale = [
        f"{file_name}: {requirement} (locked: {sorted(versions) or 'missing'})"
        for file_name, requirement in _inputs()
        for versions in [locked.get(canonicalize_name(requirement.name), set())]
        if not any(requirement.specifier.contains(version, prereleases=True) for version in versions)
    ]
    assert stale == [], RELOCK


def test_the_lock_holds_every_dependency_of_what_it_installs() -> None:
    """From the requirements down, each installed package's dependencies (their markers evaluated here,
    extras included) are locked at a version they accept: hash-checking pip refuses any other."""
    locked = _locked_here()
    pending = [
        (canonicalize_name(requirement.name), frozenset(requirement.extras))
        for _, requirement in _inputs()
        if _wanted(requirement.marker, frozenset())
    ]
    visited: set[tuple[NormalizedName, frozenset[str]]] = set()
    problems = []
    while pending:
        name, extras = pending.pop()
        if (name, extras) in visited:
            continue
        visited.add((name, extras))
        pin = locked[name]
        installed = metadata.version(name)
        if installed != pin.version:
            problems.append(f"{name}: {installed} installed, {pin.version} locked (make bootstrap)")
        for line in metadata.requires(name) or []:
            dependency = Requirement(line)
            if not _wanted(dependency.marker, extras):
                continue
            dependency_name = canonicalize_name(dependency.name)
            if dependency_name not in locked:
                problems.append(f"{name} needs {dependency}: not locked for this machine")
                continue
            version = locked[dependency_name].version
            if version is None or not dependency.specifier.contains(version, prereleases=True):
                problems.append(f"{name} needs {dependency}: {version} locked")
            pending.append((dependency_name, frozenset(dependency.extras)))
    assert problems == [], RELOCK
    assert len(visited) > 100


def _wanted(marker: Marker | None, extras: frozenset[str]) -> bool:
    return marker is None or any(marker.evaluate({"extra": extra}) for extra in {"", *extras})


def test_bootstrap_installs_the_lock_in_hash_checking_mode() -> None:
    makefile = (ROOT / "Makefile").read_text()
    (install,) = [line for line in makefile.splitlines() if "-r requirements-lock.txt" in line]
    assert "--require-hashes" in install.split()
    assert " -c " not in makefile and "constraints.txt" not in makefile
    # The project itself is the one install outside hash checking: without its dependencies.
    (editable,) = [line for line in makefile.splitlines() if re.search(r"\s-e \.$", line)]
    assert "--no-deps" in editable.split()
