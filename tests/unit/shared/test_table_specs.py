"""PynamoDB models and the table specs (which CDK builds from) cannot drift."""
from __future__ import annotations

import pytest

from livecommerce.analytics.event_log import EventItem
from livecommerce.identity.storage import MODELS as IDENTITY_MODELS
from livecommerce.analytics.spec import EVENT_LOG
from livecommerce.identity.spec import IDENTITY
from livecommerce.manifest import ALL_TABLES

MODELS_BY_TABLE = {IDENTITY: IDENTITY_MODELS, EVENT_LOG: (EventItem,)}


def _keys(model):
    hash_key = range_key = None
    for name, attr in model.get_attributes().items():
        if attr.is_hash_key:
            hash_key = attr.attr_name
        if attr.is_range_key:
            range_key = attr.attr_name
    return hash_key, range_key


@pytest.mark.parametrize("spec", list(MODELS_BY_TABLE), ids=lambda s: s.logical_id)
def test_models_use_the_spec_keys(spec):
    for model in MODELS_BY_TABLE[spec]:
        assert _keys(model) == (spec.partition_key, spec.sort_key), model.__name__


@pytest.mark.parametrize("spec", list(MODELS_BY_TABLE), ids=lambda s: s.logical_id)
def test_model_indexes_exist_in_the_spec(spec):
    spec_indexes = {i.name: (i.partition_key, i.sort_key) for i in spec.indexes}
    for model in MODELS_BY_TABLE[spec]:
        for index in model._indexes.values():
            keys = [None, None]
            for attr in index.Meta.attributes.values():
                if attr.is_hash_key:
                    keys[0] = attr.attr_name
                if attr.is_range_key:
                    keys[1] = attr.attr_name
            assert index.Meta.index_name in spec_indexes, (model.__name__, index.Meta.index_name)
            assert tuple(keys) == spec_indexes[index.Meta.index_name]


def test_every_spec_has_a_unique_env_var_and_name():
    assert len({s.env_var for s in ALL_TABLES}) == len(ALL_TABLES)
    assert len({s.physical_name("p") for s in ALL_TABLES}) == len(ALL_TABLES)
    for spec in ALL_TABLES:
        indexed = {spec.partition_key, spec.sort_key} | {i.partition_key for i in spec.indexes}
        assert None not in indexed - {spec.sort_key}
