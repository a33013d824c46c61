"""Running the app on 127.0.0.1 until interrupted (``backfire view``)."""

from __future__ import annotations

from pathlib import Path

HOST = "127.0.0.1"
"""Local only: the viewer shows unpublished transcripts and has no authentication."""


def serve(db: Path, port: int) -> None:
    from core.extras import require
    from viewer.app import create_app

    web = require("aiohttp.web", extra="view", feature="backfire view")
    print(f"backfire view: http://{HOST}:{port}/ (warehouse {db}, read-only); Ctrl+C stops it", flush=True)
    web.run_app(create_app(db), host=HOST, port=port, print=None, handle_signals=True)
