"""Settings for the benchmark server: the product's settings plus two baseline endpoints."""

from parkingops.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
