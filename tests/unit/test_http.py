"""cvid._http: the style hashes the page policy allows match the installed plotly.js."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources

from cvid._http import PAGE_POLICY, PLOTLY_STYLE_HASHES


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def test_the_allowed_style_hashes_are_plotlys_own_styles() -> None:
    bundle = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text("utf-8")
    # plotly.js inserts each fixed stylesheet as: createElement("style"); e.id=…; e.textContent='…'
    found = re.findall(
        r'createElement\("style"\);e\.id="[0-9a-f]+",e\.textContent=\'([^\']*)\'', bundle
    )
    assert found, "plotly.js no longer inserts a fixed stylesheet: drop its hash"
    expected = {_sha256(""), *(_sha256(text) for text in found)}
    assert set(PLOTLY_STYLE_HASHES) == expected
    for digest in PLOTLY_STYLE_HASHES:
        assert f"'{digest}'" in PAGE_POLICY
    assert "'unsafe-inline'" not in PAGE_POLICY
