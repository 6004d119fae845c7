"""The console works with no internet: every asset it loads ships in the package, pinned by
checksum, with its licence, and no page loads anything from elsewhere."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import gateway.console
from tests.console.conftest import SignedIn

VENDOR = Path(gateway.console.__file__).parent / "static" / "vendor"
PAGES = ("/console/", "/console/volunteers", "/console/network", "/console/inbox", "/console/audit")


def manifest() -> dict[str, str]:
    """File name -> sha256, from the table in vendor/README.md."""
    table = (VENDOR / "README.md").read_text()
    return dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", table, flags=re.MULTILINE))


def test_every_vendored_file_matches_its_pinned_checksum_and_has_its_licence() -> None:
    pinned = manifest()
    shipped = {path.name for path in VENDOR.iterdir()} - {"README.md"}
    assets = {name for name in shipped if not name.endswith(".LICENSE.txt")}
    assert assets == set(pinned) and assets
    for name, digest in pinned.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
        licence = VENDOR / (name.removesuffix(".min.js") + ".LICENSE.txt")
        assert licence.is_file() and "Permission" in licence.read_text(), name


def test_console_pages_load_only_what_the_package_ships(signed_in: SignedIn) -> None:
    browser = signed_in("admin")
    for path in PAGES:
        page = browser.get(path).get_data(as_text=True)
        sources = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]+)"', page)
        assert sources, path
        for source in sources:
            assert source.startswith("/") and not source.startswith("//"), (path, source)
            assert browser.get(source).status_code == 200, (path, source)
