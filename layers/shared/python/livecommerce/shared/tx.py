"""DynamoDB transactions whose failures are read by name.

PynamoDB sends a transaction's items grouped by kind (condition checks,
deletes, puts, updates), and DynamoDB reports one cancellation reason per item
in that order. `Tx` records a label for each item so a caller asks "did the
stock condition fail?" instead of counting positions.
"""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from livecommerce.shared import dynamo


class TxCancelled(Exception):
    """Conditions failed: `failed` holds the labels of the items whose condition did not hold."""

    def __init__(self, failed: set[str]) -> None:
        super().__init__(", ".join(sorted(failed)) or "cancelled")
        self.failed = failed

    def __contains__(self, label: str) -> bool:
        return label in self.failed

    def any(self, prefix: str) -> bool:
        return any(label == prefix or label.startswith(prefix + ":") for label in self.failed)


class Tx:
    MAX_ITEMS = 100

    def __init__(self) -> None:
        self._checks: list[tuple[str, tuple]] = []
        self._deletes: list[tuple[str, tuple]] = []
        self._puts: list[tuple[str, tuple]] = []
        self._updates: list[tuple[str, tuple]] = []
        self._connection_model: Any = None

    def __len__(self) -> int:
        return len(self._checks) + len(self._deletes) + len(self._puts) + len(self._updates)

    def _model(self, model: Any) -> None:
        if self._connection_model is None:
            self._connection_model = model

    def check(self, label: str, model_cls: Any, hash_key: str, range_key: str | None, condition: Any) -> "Tx":
        self._model(model_cls)
        self._checks.append((label, (model_cls, hash_key, range_key, condition)))
        return self

    def delete(self, label: str, item: Any, condition: Any = None) -> "Tx":
        self._model(type(item))
        self._deletes.append((label, (item, condition)))
        return self

    def put(self, label: str, item: Any, condition: Any = None) -> "Tx":
        self._model(type(item))
        self._puts.append((label, (item, condition)))
        return self

    def update(self, label: str, item: Any, actions: list, condition: Any = None) -> "Tx":
        self._model(type(item))
        self._updates.append((label, (item, actions, condition)))
        return self

    def labels(self) -> list[str]:
        return [label for label, _ in (*self._checks, *self._deletes, *self._puts, *self._updates)]

    def commit(self) -> None:
        """Write everything or nothing. Raises TxCancelled when conditions failed,
        problems 409/429 (retryable) on conflicts and throttling."""
        if len(self) == 0:
            return
        if len(self) > self.MAX_ITEMS:
            raise ValueError(f"a transaction holds at most {self.MAX_ITEMS} items, not {len(self)}")
        connection = self._connection_model._get_connection().connection
        try:
            with TransactWrite(connection=connection) as tx:
                for _, (model_cls, hash_key, range_key, condition) in self._checks:
                    tx.condition_check(model_cls, hash_key, range_key, condition=condition)
                for _, (item, condition) in self._deletes:
                    tx.delete(item, condition=condition)
                for _, (item, condition) in self._puts:
                    tx.save(item, condition=condition)
                for _, (item, actions, condition) in self._updates:
                    tx.update(item, actions=actions, condition=condition)
        except TransactWriteError as exc:
            reasons = dynamo.cancellation_reasons(exc)
            failed = {label for label, reason in zip(self.labels(), reasons) if reason == "ConditionalCheckFailed"}
            # Throttling or a conflict anywhere makes the whole attempt retryable,
            # whatever else it reported.
            dynamo.raise_if_retryable(exc)
            if failed:
                raise TxCancelled(failed) from exc
            raise
