"""What blocks the first paint comes in one request per kind (app/web/assets.py BUNDLES): a bundle
is exactly its parts one after another, under a hash that changes when any part does, and its
stylesheets' url()s still reach their files."""
from __future__ import annotations

import shutil

import pytest

from app.web.assets import BUNDLES, IMMUTABLE, KEY, Assets, bundled


@pytest.mark.parametrize("name", sorted(BUNDLES))
async def test_a_bundle_is_its_parts_in_order_served_under_its_hash(app, client, name):
    assets = app.extensions[KEY]
    parts = [assets.load()[part].data for part in BUNDLES[name]]
    assert all(part.endswith(b"\n") for part in parts)
    page = await (await client.get("/login")).get_data(as_text=True)
    url = f"/static/{name}?v={assets.version(name)}"
    assert url in page, "the layout loads the bundle by its versioned URL"
    for part in BUNDLES[name]:
        assert f"/static/{part}?" not in page, "and not its parts one by one"
    response = await client.get(url, headers={"Accept-Encoding": "identity"})
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert await response.get_data() == b"".join(parts)


def test_a_bundle_gets_a_new_hash_when_a_part_changes(app, tmp_path):
    folder = tmp_path / "static-copy"
    shutil.copytree(app.static_folder, folder)
    assets = Assets(folder)
    before = {name: assets.version(name) for name in BUNDLES}
    for name, parts in BUNDLES.items():
        with (folder / parts[-1]).open("a") as last:
            last.write("/* changed */\n")
        assert assets.refresh()
        assert assets.version(name) != before[name]
        assert assets.load()[name].data.endswith(b"/* changed */\n")


def test_a_bundled_stylesheet_refers_to_its_images_from_the_bundles_folder(tmp_path):
    (tmp_path / "css" / "deep").mkdir(parents=True)
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "dot.svg").write_text("<svg/>")
    (tmp_path / "css" / "deep" / "a.css").write_text("a { background: url(../../img/dot.svg) }\n")
    assets = Assets(tmp_path)
    version = assets.version("img/dot.svg")
    sheet = assets.load()["css/deep/a.css"].data.decode()
    assert sheet == f"a {{ background: url(../../img/dot.svg?v={version}) }}\n"
    out = bundled(tmp_path, "bundle/site.css", ("css/deep/a.css",), assets.load()).decode()
    assert out == f"a {{ background: url(../img/dot.svg?v={version}) }}\n"
