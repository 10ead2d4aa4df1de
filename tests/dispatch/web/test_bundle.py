"""The bundle: rebuilt exactly when its sources change, every page naming only its own
hashed assets (nothing from a CDN), served with the right headers; the pages answer 503
with a hint when nothing is built."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from dispatch.web.bundle import INPUTS, SOURCE_DIRS, STAMP, WEB, ensure_bundle, inputs_digest, is_current
from dispatch.web.pages import PAGES, create_router


def test_the_digest_follows_every_source(tmp_path: Path) -> None:
    for name in INPUTS:
        shutil.copy(WEB / name, tmp_path / name)
    for folder in SOURCE_DIRS:
        shutil.copytree(WEB / folder, tmp_path / folder)
    first = inputs_digest(tmp_path)
    assert not is_current(tmp_path)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / STAMP).write_text(first)
    assert is_current(tmp_path)
    (tmp_path / "src" / "worker.js").write_text(
        (tmp_path / "src" / "worker.js").read_text() + "\n// changed\n"
    )
    assert inputs_digest(tmp_path) != first and not is_current(tmp_path)
    (tmp_path / "pages" / "extra.html").write_text("<!--assets-->")
    assert len({first, inputs_digest(tmp_path)}) == 2


def test_the_built_pages_name_only_their_own_assets() -> None:
    bundle = ensure_bundle()
    assert not ensure_bundle().built_now  # a second call finds it current
    pages = bundle.manifest["pages"]
    assert isinstance(pages, dict) and set(pages) == set(PAGES.values())
    for name in pages:
        html = (bundle.dist / f"{name}.html").read_text()
        refs = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert refs, name
        for ref in refs:
            assert ref.startswith("/static/") or ref == "data:," or ref in PAGES, (name, ref)
            if ref.startswith("/static/"):
                assert (bundle.dist / "assets" / ref.removeprefix("/static/")).is_file()


def test_pages_are_served_with_a_strict_policy_and_assets_cached() -> None:
    bundle = ensure_bundle()
    app = FastAPI()
    app.include_router(create_router(bundle.dist))
    client = TestClient(app)
    page = client.get("/board")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = re.search(r'src="/static/([^"]+\.js)"', page.text)
    assert script is not None
    asset = client.get(f"/static/{script.group(1)}")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert asset.headers["content-type"].startswith("text/javascript")
    for bad in ("manifest.json", "..%2Fboard.html", ".inputs-sha256"):
        assert client.get(f"/static/{bad}").status_code == 404
    assert client.get("/", follow_redirects=False).headers["location"] == "/board"
    empty = FastAPI()
    empty.include_router(create_router(Path("/nonexistent")))
    missing = TestClient(empty).get("/m")
    assert missing.status_code == 503 and "yiwang web build" in missing.text
