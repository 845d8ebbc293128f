"""What every browser test shares: Debian's Chromium, its launch flags, and the marks that skip or fail.

CI installs Chromium and sets MARKET_TEST_REQUIRE_BROWSER: there a missing browser fails, never skips.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists() and os.environ.get("MARKET_TEST_REQUIRE_BROWSER"):
    raise RuntimeError("MARKET_TEST_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed (apt-get install chromium)"),
]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
