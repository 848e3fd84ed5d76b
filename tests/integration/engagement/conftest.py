"""The commerce fixtures (a live room with listed products, payment stand-ins, a settable clock)."""
from tests.integration.commerce_fixtures import *  # noqa: F401,F403 - fixtures register by name
