"""Settings for the bench's floor scenario: the app's settings (production under `make bench`), with bench.floor's
two views after the app's URLs."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor"
