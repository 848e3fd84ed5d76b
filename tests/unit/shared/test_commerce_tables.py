"""The commerce PynamoDB models and their table specs (which CDK builds from) cannot drift."""
from __future__ import annotations

import pytest

from livecommerce.catalog.spec import CATALOG
from livecommerce.marketing.spec import MARKETING
from livecommerce.orders.spec import ORDERS
from livecommerce.shared.platform_spec import IDEMPOTENCY


def _models():
    from livecommerce.catalog.storage import MODELS as catalog
    from livecommerce.marketing.storage import MODELS as marketing
    from livecommerce.shared.idempotency import IdempotencyRecord
    from livecommerce.orders.storage import MODELS as orders

    return {CATALOG: catalog, ORDERS: orders, MARKETING: marketing, IDEMPOTENCY: (IdempotencyRecord,)}


def _keys(attributes):
    hash_key = range_key = None
    for attr in attributes:
        if attr.is_hash_key:
            hash_key = attr.attr_name
        if attr.is_range_key:
            range_key = attr.attr_name
    return hash_key, range_key


@pytest.mark.parametrize("spec", [CATALOG, ORDERS, MARKETING, IDEMPOTENCY], ids=lambda s: s.logical_id)
def test_models_match_their_spec(spec):
    indexes = {i.name: (i.partition_key, i.sort_key) for i in spec.indexes}
    for model in _models()[spec]:
        assert _keys(model.get_attributes().values()) == (spec.partition_key, spec.sort_key), model.__name__
        for index in model._indexes.values():
            assert indexes[index.Meta.index_name] == _keys(index.Meta.attributes.values()), model.__name__
        if spec.ttl_attribute and spec.ttl_attribute in model.get_attributes():
            # The TTL attribute is epoch seconds wherever a model has it.
            assert type(model.get_attributes()[spec.ttl_attribute]).__name__ == "NumberAttribute", model.__name__
