#!/usr/bin/env python3
"""Build the shared Lambda layer without Docker.

    build/layer/python/            <- what Lambda puts on sys.path (/opt/python)
        livecommerce/              <- copy of layers/shared/python/livecommerce
        pydantic/, pynamodb/, ...  <- layers/shared/requirements.txt, as wheels for
                                      Linux arm64 and the runtime's CPython version

pip installs wheels for the Lambda platform (`--platform ... --implementation cp
--python-version X.Y --only-binary=:all:`) rather than for this machine, so no
compiler and no Docker are needed. Requirements published only as an sdist must
be pure Python: mark their line in requirements.txt with `# sdist-only` and
this script builds their wheel locally first.

The result is cached under the hash of everything that goes in (requirements,
package source, target Python, platforms, this script): a synth with nothing
changed does no work, and a change to our package alone reuses the installed
dependencies (build/layer-deps, keyed by the requirements) and takes well
under a second. The same hash is the CDK asset hash, so CDK does not
fingerprint the ~90 MB tree on every synth either.

    python scripts/build_layer.py [--python-version 3.14] [--force]
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"
PACKAGE = ROOT / "layers" / "shared" / "python" / "livecommerce"
BUILD = ROOT / "build"
LAYER_DIR = BUILD / "layer"
STAMP = BUILD / "layer.hash"
DEPS_DIR = BUILD / "layer-deps"
DEPS_STAMP = BUILD / "layer-deps.hash"
WHEELHOUSE = BUILD / "wheelhouse"
SDIST_MARKER = "# sdist-only"
DEFAULT_PYTHON_VERSION = "3.14"
_IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
_IGNORED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class LayerBuild:
    path: Path          # directory to use as the layer asset (contains python/)
    asset_hash: str     # content hash of the inputs; stable while they are unchanged
    built: bool         # False when the cache was used


def platforms_for(python_version: str) -> tuple[str, ...]:
    """Wheel platform tags the Lambda runtime for this Python accepts (arm64).

    python3.12 and later run on Amazon Linux 2023 (glibc 2.34); older ones on
    Amazon Linux 2 (glibc 2.26), where manylinux2014 (glibc 2.17) is the limit."""
    major, minor = (int(p) for p in python_version.split(".")[:2])
    tags = ["manylinux2014_aarch64"]
    if (major, minor) >= (3, 12):
        tags.append("manylinux_2_34_aarch64")
    return tuple(tags)


def _package_files() -> list[Path]:
    files = []
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if path.is_file() and not (_IGNORED_PARTS & set(rel.parts)) and path.suffix not in _IGNORED_SUFFIXES:
            files.append(path)
    return files


def _digest(parts: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for label, data in parts:
        digest.update(label.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def dependencies_fingerprint(python_version: str) -> str:
    return _digest([
        ("python", python_version.encode()),
        ("platforms", ",".join(platforms_for(python_version)).encode()),
        ("script", Path(__file__).read_bytes()),
        ("requirements", REQUIREMENTS.read_bytes()),
    ])


def fingerprint(python_version: str) -> str:
    """Hash of everything that goes into the layer (the CDK asset hash)."""
    parts = [("dependencies", dependencies_fingerprint(python_version).encode())]
    parts += [("src:" + p.relative_to(PACKAGE).as_posix(), p.read_bytes()) for p in _package_files()]
    return _digest(parts)


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """One build at a time (make synth and the infra tests may overlap)."""
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / ".layer.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pip(*args: str, quiet: bool) -> None:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check"]
    if quiet:
        command.append("--quiet")
    result = subprocess.run(command, capture_output=quiet, text=True)
    if result.returncode != 0:
        output = (result.stdout or "") + (result.stderr or "") if quiet else ""
        raise RuntimeError(
            f"pip failed ({' '.join(args[:1])}): {output.strip()[-4000:]}\n"
            f"If a requirement exists only as an sdist, mark its line in {REQUIREMENTS.name} "
            f"with '{SDIST_MARKER}' (it must be pure Python).")


def _sdist_only_requirements() -> list[str]:
    found = []
    for line in REQUIREMENTS.read_text().splitlines():
        requirement, _, comment = line.partition("#")
        if requirement.strip() and SDIST_MARKER.lstrip("# ") in comment:
            found.append(requirement.strip())
    return found


def _clean(site: Path) -> None:
    shutil.rmtree(site / "bin", ignore_errors=True)      # console scripts: useless in a layer
    for cache in list(site.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


def _install_dependencies(python_version: str, quiet: bool) -> Path:
    """pip-install the requirements for Lambda into build/layer-deps (cached)."""
    deps_hash = dependencies_fingerprint(python_version)
    if DEPS_STAMP.is_file() and DEPS_STAMP.read_text().strip() == deps_hash and DEPS_DIR.is_dir():
        return DEPS_DIR
    staging = BUILD / f"layer-deps.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)

    sdists = _sdist_only_requirements()
    if sdists:
        WHEELHOUSE.mkdir(parents=True, exist_ok=True)
        _pip("wheel", "--no-deps", "--wheel-dir", str(WHEELHOUSE), *sdists, quiet=quiet)

    platform_args = [arg for tag in platforms_for(python_version) for arg in ("--platform", tag)]
    _pip("install", "--no-compile", "--only-binary=:all:", *platform_args,
         "--implementation", "cp", "--python-version", python_version,
         "--find-links", str(WHEELHOUSE), "--target", str(staging),
         "--requirement", str(REQUIREMENTS), quiet=quiet)
    _clean(staging)

    shutil.rmtree(DEPS_DIR, ignore_errors=True)
    staging.rename(DEPS_DIR)
    DEPS_STAMP.write_text(deps_hash + "\n")
    return DEPS_DIR


def build_layer(python_version: str = DEFAULT_PYTHON_VERSION, *, force: bool = False,
                quiet: bool = True) -> LayerBuild:
    """Build (or reuse) build/layer for the given runtime Python version.

    Dependencies are cached on their own (they change rarely and take seconds
    to fetch); the layer is then assembled from hard links to them plus a copy
    of our package, which takes a fraction of a second."""
    asset_hash = fingerprint(python_version)
    with _locked():
        if (not force and STAMP.is_file() and STAMP.read_text().strip() == asset_hash
                and (LAYER_DIR / "python" / PACKAGE.name).is_dir()):
            return LayerBuild(LAYER_DIR, asset_hash, built=False)
        if force:
            DEPS_STAMP.unlink(missing_ok=True)
        deps = _install_dependencies(python_version, quiet)

        staging = BUILD / f"layer.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        site = staging / "python"
        staging.mkdir(parents=True)
        shutil.copytree(deps, site, copy_function=_link_or_copy, symlinks=True)
        target = site / PACKAGE.name
        shutil.rmtree(target, ignore_errors=True)   # ours wins over any same-named dependency
        for path in _package_files():
            dest = target / path.relative_to(PACKAGE)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)

        shutil.rmtree(LAYER_DIR, ignore_errors=True)
        staging.rename(LAYER_DIR)
        STAMP.write_text(asset_hash + "\n")
        return LayerBuild(LAYER_DIR, asset_hash, built=True)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python-version", default=DEFAULT_PYTHON_VERSION)
    parser.add_argument("--force", action="store_true", help="rebuild even if the cache is current")
    parser.add_argument("--verbose", action="store_true", help="show pip's output")
    args = parser.parse_args(argv)
    result = build_layer(args.python_version, force=args.force, quiet=not args.verbose)
    state = "built" if result.built else "up to date"
    print(f"layer {state}: {result.path.relative_to(ROOT)} (hash {result.asset_hash[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
