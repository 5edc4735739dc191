"""``tufkit metadata``: show a metadata file and verify it against its delegator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from tufkit.cli._io import echo_json

__all__ = ["metadata"]

MAX_METADATA_BYTES = 512 * 1024 * 1024  # refuse to read files larger than this


def _read(path: Path) -> Any:
    from tufkit.errors import ConfigError
    from tufkit.metadata import Metadata

    size = path.stat().st_size
    if size > MAX_METADATA_BYTES:
        raise ConfigError(f"{path} is {size} bytes, more than the {MAX_METADATA_BYTES} allowed")
    return Metadata.from_bytes(path.read_bytes())


def _summary(md: Any, now: datetime) -> dict[str, Any]:
    from tufkit.metadata import Root, Snapshot, Targets, Timestamp, format_expires

    signed = md.signed
    out: dict[str, Any] = {
        "type": signed.type,
        "version": signed.version,
        "spec_version": signed.spec_version,
        "expires": format_expires(signed.expires),
        "expired": signed.is_expired(now),
        "signatures": list(md.signatures),
    }
    if isinstance(signed, Root):
        out["consistent_snapshot"] = bool(signed.consistent_snapshot)
        out["roles"] = {n: r.to_dict() for n, r in signed.roles.items()}
        out["keys"] = {kid: f"{k.keytype}/{k.scheme}" for kid, k in signed.keys.items()}
    elif isinstance(signed, Timestamp):
        out["snapshot"] = signed.snapshot_meta.to_dict()
    elif isinstance(signed, Snapshot):
        out["meta"] = {name: meta.version for name, meta in signed.meta.items()}
    elif isinstance(signed, Targets):
        out["targets"] = len(signed.targets)
        if signed.delegations is not None:
            out["delegations"] = signed.delegations.to_dict()
    return out


@click.group()
def metadata() -> None:
    """Inspect and verify TUF metadata files."""


@metadata.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(file: Path, as_json: bool) -> None:
    """Show what metadata FILE says (it is parsed strictly but not verified)."""
    info = _summary(_read(file), datetime.now(UTC))
    if as_json:
        echo_json(info)
        return
    state = "EXPIRED" if info["expired"] else "valid until"
    click.echo(f"{info['type']} v{info['version']} (spec {info['spec_version']})")
    click.echo(f"  {state} {info['expires']}, {len(info['signatures'])} signature(s)")
    for name, role in info.get("roles", {}).items():
        keyids = ", ".join(kid[:12] for kid in role["keyids"])
        click.echo(f"  role {name}: {role['threshold']} of [{keyids}]")
    for keyid, kind in info.get("keys", {}).items():
        click.echo(f"  key {keyid[:12]}: {kind}")
    if "snapshot" in info:
        click.echo(f"  snapshot.json: version {info['snapshot']['version']}")
    for name, version in info.get("meta", {}).items():
        click.echo(f"  {name}: version {version}")
    if "targets" in info:
        click.echo(f"  {info['targets']} target(s)")
    for role in info.get("delegations", {}).get("roles", []):
        click.echo(
            f"  delegates {role.get('paths') or role.get('path_hash_prefixes')} to {role['name']}"
        )
    if "succinct_roles" in info.get("delegations", {}):
        bins = info["delegations"]["succinct_roles"]
        click.echo(f"  delegates to 2^{bins['bit_length']} bins {bins['name_prefix']}-*")


@metadata.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--by",
    "delegator_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The trusted delegator: root for top-level roles, the delegating targets otherwise.",
)
@click.option("--role", default=None, help="Role name (defaults to FILE's type).")
@click.option("--at", "at", default=None, help="Reference time YYYY-MM-DDTHH:MM:SSZ (now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify(
    file: Path, delegator_file: Path, role: str | None, at: str | None, as_json: bool
) -> None:
    """Verify FILE's signatures by threshold against its delegator, and its expiry."""
    from tufkit.errors import ConfigError, ExpiredMetadataError, FormatError
    from tufkit.metadata import Root, Targets, parse_expires

    try:
        now = parse_expires(at, "--at") if at else datetime.now(UTC)
    except FormatError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from exc
    md, delegator = _read(file), _read(delegator_file)
    if not isinstance(delegator.signed, Root | Targets):
        raise ConfigError(f"{delegator_file} is {delegator.signed.type} metadata, not a delegator")
    role_name = role or md.signed.type
    try:
        result = delegator.signed.get_verification_result(
            role_name, md.verification_payload, md.signatures
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    expired = md.signed.is_expired(now)
    if as_json:
        echo_json(
            {
                "role": role_name,
                "verified": result.verified,
                "threshold": result.threshold,
                "signed_by": sorted(result.signed),
                "expired": expired,
            }
        )
    else:
        click.echo(f"{role_name}: {len(result.signed)}/{result.threshold} signatures valid")
    result.raise_unless_verified()
    if expired:
        raise ExpiredMetadataError(f"{role_name} expired at {md.signed.expires:%Y-%m-%dT%H:%M:%SZ}")
    if not as_json:
        click.echo(f"{role_name}: verified")
