"""The moto world of the integration tests, built once per test process and restored per test.

Building the stack's resources (every table, the bus with its rules and delivery queues, the
secrets, the KMS key, the buckets) and then the demo data takes about 0.7 s of moto calls and
service code. Done for each test, it was most of the integration tier's time. Instead, each
test process builds it once and keeps a *snapshot*: every moto backend that holds state,
pickled to bytes. A test then starts from `restore`, which throws away whatever moto holds
(moto's own reset, as `mock_aws` does on start) and unpickles the snapshot into moto's backend
registry: about 3 ms, and exact (a test sees the world as built, never another test's writes,
whatever it wrote: items, queue messages, secrets, objects, rules, IoT publishes).

Two snapshots: `base` (what `create_all` makes, plus the state machines and schedule groups of
`local.stepfunctions`: the `aws_env` fixture) and `seeded` (base
plus `local.seed.seed()`: the `seeded` fixture). Bytes are immutable, so no test can change a
snapshot. Process-level caches are cleared by the caller (tests/conftest.py).
"""
from __future__ import annotations

import io
import pickle
import threading
from dataclasses import dataclass
from typing import Any, Callable

_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


class _Pickler(pickle.Pickler):
    """Pickles moto backends: locks become new locks; cryptography private keys (moto's KMS
    keeps each key's material as one; they have no pickle, and are immutable) are kept aside
    and the very same objects come back on load (loading an RSA key from bytes costs ~35 ms)."""

    def __init__(self, buffer: io.BytesIO, kept: list[Any]) -> None:
        super().__init__(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        self._kept = kept

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if isinstance(obj, _LOCK_TYPES[1]) else threading.Lock), ()
        return NotImplemented

    def persistent_id(self, obj: Any) -> Any:
        if _is_private_key(obj):
            self._kept.append(obj)
            return len(self._kept) - 1
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, kept: tuple[Any, ...]) -> None:
        super().__init__(io.BytesIO(data))
        self._kept = kept

    def persistent_load(self, pid: Any) -> Any:
        return self._kept[pid]


def _is_private_key(obj: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    return isinstance(obj, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey,
                            ed448.Ed448PrivateKey))


@dataclass(frozen=True)
class Snapshot:
    """moto's state: (service's BackendDict, account, region, pickled backend) per backend, and
    the immutable objects the pickles refer to (private keys)."""

    backends: tuple[tuple[Any, str, str, bytes], ...]
    kept: tuple[Any, ...] = ()

    @property
    def services(self) -> frozenset[str]:
        return frozenset(bd.service_name for bd, _, _, _ in self.backends)


def capture() -> Snapshot:
    """moto's state now (call inside `mock_aws`)."""
    from moto.core.base_backend import BackendDict

    taken, kept = [], []
    for backend_dict in list(BackendDict._instances):
        for account_id, per_account in list(backend_dict.items()):
            for region, backend in list(per_account.items()):
                buffer = io.BytesIO()
                _Pickler(buffer, kept).dump(backend)
                taken.append((backend_dict, account_id, region, buffer.getvalue()))
    return Snapshot(tuple(taken), tuple(kept))


def restore(snapshot: Snapshot) -> None:
    """Make moto hold exactly `snapshot` (call inside `mock_aws`): everything else is reset."""
    from moto.core.base_backend import BackendDict

    BackendDict.reset()
    for backend_dict, account_id, region, data in snapshot.backends:
        per_account = backend_dict[account_id]          # creates the account's entry, registers the dict
        dict.__setitem__(per_account, region, _Unpickler(data, snapshot.kept).load())


class World:
    """The two snapshots of this test process, made on first use (tests/conftest.py `aws_env`)."""

    def __init__(self) -> None:
        self.base: Snapshot | None = None
        self.seeded: Snapshot | None = None

    def build(self, region: str, reset_process_state: Callable[[], None]) -> None:
        import boto3
        import pytest
        from moto import mock_aws

        from local.lambda_api import LocalLambdaApi
        from local.resources import LocalNames, create_all
        from local.seed import seed
        from local.stepfunctions import create_schedule_groups, create_state_machines

        cache_moto_lookups()
        with pytest.MonkeyPatch.context() as patch, mock_aws(), LocalLambdaApi() as lambda_api:
            patch.setenv("AWS_ENDPOINT_URL_LAMBDA", lambda_api.url)
            reset_process_state()
            session = boto3.session.Session(region_name=region)
            create_all(session, LocalNames(), provider_credentials={})
            # The workflows as the local stack and the workflows stack make them: every state machine
            # of the manifest and the scheduled ones' groups (the env is tests/conftest.py's).
            create_state_machines(session, prefix=LocalNames().prefix)
            create_schedule_groups(session, prefix=LocalNames().prefix)
            self.base = capture()
            seed()
            self.seeded = capture()
        reset_process_state()


WORLD = World()


def cache_moto_lookups() -> None:
    """Two of moto's per-request costs that are pure functions of unchanging inputs, memoized (as
    the local stack's embedded AWS does, local.embedded_aws.speed_up_moto): the method names of a
    response class (inspect.getmembers on every request) and EventBridge's JSONPath parser (a yacc
    table built per event delivered). moto's behaviour is otherwise stock in the tests."""
    import functools

    import jsonpath_ng.ext
    from moto.core import responses

    if getattr(responses.method_names_from_class, "cache_info", None) is None:
        responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)
    if getattr(jsonpath_ng.ext.parse, "cache_info", None) is None:
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=1024)(jsonpath_ng.ext.parse)


class _SearchPaths(list):
    """A shared loader's search paths: boto3 appends its data folder on every Session; once is enough."""

    def append(self, path: Any) -> None:
        if path not in self:
            super().append(path)


_loaders: dict[Any, Any] = {}


def share_botocore_loader() -> None:
    """One botocore data loader per process, shared by every boto3/botocore Session.

    The product code makes each client from a new `boto3.session.Session()` (once per Lambda
    container), and the tests drop the clients between tests (`aws.reset_clients`) to point them
    at a new moto. A new Session has a new loader, which parsed `endpoints.json`, the partitions
    and each service's model again: about half of an integration test's time. The loader
    reads only botocore's and boto3's own data files, which do not change while the tests run,
    and caches what it parsed, so sharing it gives every Session the same models as before.
    """
    import botocore.session
    from botocore import loaders

    if getattr(botocore.session.create_loader, "_shared", False):
        return
    create = loaders.create_loader

    def create_loader(search_path_string: Any = None) -> Any:
        loader = _loaders.get(search_path_string)
        if loader is None:
            loader = create(search_path_string)
            loader._search_paths = _SearchPaths(loader._search_paths)
            _loaders[search_path_string] = loader
        return loader

    create_loader._shared = True  # type: ignore[attr-defined]
    botocore.session.create_loader = create_loader
