"""The shared Lambda layer: our domain package plus its pinned dependencies,
built by scripts/build_layer.py on this machine (no Docker) for the functions'
runtime and architecture."""
from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk.constructs.lambda_function import ARCHITECTURE, RUNTIME, runtime_python_version

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "scripts" / "build_layer.py"


@lru_cache(maxsize=1)
def _build_module() -> ModuleType:
    # scripts/ is not a package; load the script by path.
    name = "livecommerce_build_layer"
    spec = importlib.util.spec_from_file_location(name, BUILD_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=4)
def built_layer(python_version: str) -> tuple[str, str]:
    """(asset directory, asset hash); builds once per process and version."""
    result = _build_module().build_layer(python_version)
    return str(result.path), result.asset_hash


class SharedLayer(Construct):
    def __init__(self, scope: Construct, id: str, *, layer_version_name: str) -> None:
        super().__init__(scope, id)
        path, asset_hash = built_layer(runtime_python_version(RUNTIME))
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            layer_version_name=layer_version_name,
            description="livecommerce domain package and its pinned dependencies",
            # The build hash covers every input, so CDK need not fingerprint ~90 MB.
            code=lambda_.Code.from_asset(path, asset_hash=asset_hash, asset_hash_type=AssetHashType.CUSTOM),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
