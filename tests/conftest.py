"""Suite-wide settings. Sandbox fixtures come from the package's own pytest plugin."""

from __future__ import annotations

import os

from hypothesis import settings

# CI runs the same examples every time (a red build must be reproducible from its log);
# locally, hypothesis explores new ones on every run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
