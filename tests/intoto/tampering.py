"""Tamperings of a built demo chain's ``final/`` directory, each with the error tufkit must report.

Each entry maps a name to (function(final_dir, keys), expected tufkit error class name or "" for
a passing chain).
"""

from __future__ import annotations

import base64
import json
import tarfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from demo_chain import demo_layout, sign_layout_tufkit

from conftest import KeyFiles


def _link(final: Path, step: str) -> Path:
    return next(final.glob(f"{step}.*.link"))


def _edit_payload(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    if "payload" in data:
        payload = json.loads(base64.b64decode(data["payload"]))
        edit(payload)
        data["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    else:
        edit(data["signed"])
    path.write_text(json.dumps(data))


def _is_dsse(path: Path) -> bool:
    return "payload" in json.loads(path.read_text())


def nothing(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Leave the chain alone."""


def tarball_modified(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Replace the tarball by one whose foo.py differs."""
    src = final / "src" / "demo-project"
    src.mkdir(parents=True)
    (src / "foo.py").write_text("print('evil')\n")
    with tarfile.open(final / "demo-project.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="demo-project")
    for item in sorted(src.parent.rglob("*"), reverse=True):
        item.unlink() if item.is_file() else item.rmdir()
    src.parent.rmdir()


def tarball_garbage(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Replace the tarball by bytes tar cannot read."""
    (final / "demo-project.tar.gz").write_bytes(b"not a tarball")


def extra_file(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Ship an extra file next to the product."""
    (final / "evil.sh").write_text("rm -rf /\n")


def link_missing(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Remove the package link."""
    _link(final, "package").unlink()


def link_renamed(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Give the clone link another keyid prefix."""
    path = _link(final, "clone")
    path.rename(final / "clone.00000000.link")


def link_products_changed(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Change a product hash in the clone link (breaking its signature)."""

    def edit(link: dict[str, Any]) -> None:
        link["products"]["demo-project/foo.py"] = {"sha256": "0" * 64}

    _edit_payload(_link(final, "clone"), edit)


def link_signature_flipped(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Corrupt one character of the update-version signature."""
    path = _link(final, "update-version")
    data = json.loads(path.read_text())
    sig = data["signatures"][0]["sig"]
    if "payload" in data:
        raw = bytearray(base64.b64decode(sig))
        raw[5] ^= 1
        data["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    else:
        data["signatures"][0]["sig"] = ("1" if sig[0] != "1" else "2") + sig[1:]
    path.write_text(json.dumps(data))


def link_unknown_field(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Add an unknown field to the clone link's payload.

    A Metablock signature covers the re-serialised model, which drops the field, so the link
    still verifies (as in the reference); a DSSE signature covers the payload bytes.
    """
    _edit_payload(_link(final, "clone"), lambda link: link.update({"extra": "x"}))


def link_malformed(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Truncate the package link."""
    path = _link(final, "package")
    path.write_bytes(path.read_bytes()[:40])


def link_signed_by_dave(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Re-sign the clone link with an unauthorised key, keeping its file name."""
    from tufkit.intoto import load_private_key_file, read_metadata, sign_metadata, write_metadata

    path = _link(final, "clone")
    metadata = read_metadata(path)
    sign_metadata(metadata, [load_private_key_file(keys["dave"].private, None)])
    write_metadata(path, metadata)


def layout_readme_changed(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Change the layout after signing."""
    _edit_payload(final / "root.layout", lambda layout: layout.update({"readme": "changed"}))


def layout_rule_loosened(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Replace a DISALLOW by an ALLOW in the signed layout."""

    def edit(layout: dict[str, Any]) -> None:
        layout["inspect"][0]["expected_materials"][-1] = ["ALLOW", "*"]

    _edit_payload(final / "root.layout", edit)


def layout_expired(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Re-sign the layout with an expiry date in the past."""
    dsse = _is_dsse(final / "root.layout")
    layout = demo_layout(keys, expires=datetime.now(UTC) - timedelta(days=1))
    (final / "root.layout").write_bytes(sign_layout_tufkit(layout, keys["alice"], dsse=dsse))


def layout_wrong_payload_type(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Change the DSSE payloadType of the layout (or the Metablock's _type)."""
    path = final / "root.layout"
    data = json.loads(path.read_text())
    if "payload" in data:
        data["payloadType"] = "application/json"
    else:
        data["signed"]["_type"] = "lay-out"
    path.write_text(json.dumps(data))


def layout_signed_by_bob(final: Path, keys: dict[str, KeyFiles]) -> None:
    """Sign the layout with a key other than the one the user trusts."""
    dsse = _is_dsse(final / "root.layout")
    (final / "root.layout").write_bytes(
        sign_layout_tufkit(demo_layout(keys), keys["bob"], dsse=dsse)
    )


Tamper = Callable[[Path, dict[str, KeyFiles]], None]

# name -> (tampering, expected error with Metablock links, expected error with DSSE links)
TAMPERINGS: dict[str, tuple[Tamper, str, str]] = {
    "nothing": (nothing, "", ""),
    "tarball_modified": (tarball_modified, "RuleVerificationError", "RuleVerificationError"),
    "tarball_garbage": (tarball_garbage, "BadReturnValueError", "BadReturnValueError"),
    "extra_file": (extra_file, "RuleVerificationError", "RuleVerificationError"),
    "link_missing": (link_missing, "LinkNotFoundError", "LinkNotFoundError"),
    "link_renamed": (link_renamed, "LinkNotFoundError", "LinkNotFoundError"),
    "link_products_changed": (
        link_products_changed,
        "ThresholdVerificationError",
        "ThresholdVerificationError",
    ),
    "link_signature_flipped": (
        link_signature_flipped,
        "ThresholdVerificationError",
        "ThresholdVerificationError",
    ),
    "link_unknown_field": (link_unknown_field, "", "ThresholdVerificationError"),
    "link_malformed": (link_malformed, "InvalidMetadataError", "InvalidMetadataError"),
    "link_signed_by_dave": (
        link_signed_by_dave,
        "ThresholdVerificationError",
        "ThresholdVerificationError",
    ),
    "layout_readme_changed": (
        layout_readme_changed,
        "SignatureVerificationError",
        "SignatureVerificationError",
    ),
    "layout_rule_loosened": (
        layout_rule_loosened,
        "SignatureVerificationError",
        "SignatureVerificationError",
    ),
    "layout_expired": (layout_expired, "LayoutExpiredError", "LayoutExpiredError"),
    "layout_wrong_payload_type": (
        layout_wrong_payload_type,
        "InvalidMetadataError",
        "InvalidMetadataError",
    ),
    "layout_signed_by_bob": (
        layout_signed_by_bob,
        "SignatureVerificationError",
        "SignatureVerificationError",
    ),
}
