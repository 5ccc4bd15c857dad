"""Debian's Chromium, as the browser tests and the workshop benchmark drive it (Playwright)."""

import os

#: Debian's build (`apt-get install chromium`), never a browser Playwright downloads.
CHROMIUM = os.environ.get("DHU_CHROMIUM", "/usr/bin/chromium")
#: Without these flags Chromium calls Google's services at start (refused here, and unwanted).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]
