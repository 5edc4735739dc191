"""``tufkit client``: initialise trust, refresh, inspect and download targets.

A thin layer over :class:`tufkit.client.Updater`: ``init`` stores an explicitly given bootstrap
root (after checking that it is signed by its own keys); every other command trusts the root
stored by ``init`` and the metadata tufkit verified since. ``--offline`` verifies cached metadata
without network access, within ``--unsafe-max-staleness``, and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tufkit.cli._io import echo_json

if TYPE_CHECKING:
    from tufkit.client import Updater
    from tufkit.metadata import TargetFile

__all__ = ["client"]


@click.group()
@click.option(
    "--metadata-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".tufkit/metadata"),
    show_default=True,
    help="Trusted metadata cache.",
)
@click.option("--metadata-url", default=None, help="The repository's metadata URL.")
@click.option("--target-base-url", default=None, help="The repository's targets URL.")
@click.option(
    "--target-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".tufkit/targets"),
    show_default=True,
    help="Where downloaded targets go.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--offline", is_flag=True, help="Use only cached metadata (no network).")
@click.option(
    "--unsafe-max-staleness",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Offline: accept metadata expired at most this many seconds ago (unsafe: weakens "
    "freeze-attack protection).",
)
@click.option(
    "--refresh-interval",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Skip the network if the last refresh is younger than this many seconds.",
)
@click.pass_context
def client(ctx: click.Context, /, **options: Any) -> None:
    """Update from a TUF repository and download verified targets."""
    ctx.obj = options


def _updater(ctx: click.Context) -> Updater:
    from tufkit.client import Updater, UpdaterConfig
    from tufkit.errors import ConfigError

    opts = ctx.obj
    if not opts["metadata_url"] and not opts["offline"]:
        raise ConfigError("--metadata-url is required (or --offline)")
    config = UpdaterConfig(
        refresh_interval=opts["refresh_interval"],
        unsafe_offline_staleness_budget=opts["unsafe_max_staleness"],
    )
    updater = Updater.from_trusted_cache(
        opts["metadata_dir"],
        opts["metadata_url"] or "offline:",
        target_dir=opts["target_dir"],
        target_base_url=opts["target_base_url"],
        config=config,
    )
    if opts["offline"]:
        age = updater.load_offline()
        click.echo(f"offline: using cached metadata last confirmed {age} ago", err=True)
    else:
        updater.refresh_if_due()
    return updater


@client.command()
@click.option(
    "--bootstrap",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The root metadata to trust, obtained out of band.",
)
@click.pass_context
def init(ctx: click.Context, bootstrap: Path) -> None:
    """Trust BOOTSTRAP as the initial root (checked to be signed by its own keys)."""
    from datetime import UTC, datetime

    from tufkit.client._internal.trusted_set import TrustedSet
    from tufkit.client.cache import MetadataCache

    data = bootstrap.read_bytes()
    trusted = TrustedSet(data, datetime.now(UTC))
    MetadataCache(ctx.obj["metadata_dir"]).write("root", data)
    version = trusted.root.signed.version
    if ctx.obj["as_json"]:
        echo_json({"root_version": version, "metadata_dir": str(ctx.obj["metadata_dir"])})
    else:
        click.echo(f"trusting root version {version} in {ctx.obj['metadata_dir']}")


@client.command()
@click.pass_context
def refresh(ctx: click.Context) -> None:
    """Update the trusted top-level metadata."""
    trusted = _updater(ctx).trusted_set
    versions = {
        "root": trusted.root.signed.version,
        "timestamp": trusted.timestamp.signed.version if trusted.timestamp else None,
        "snapshot": trusted.snapshot.signed.version if trusted.snapshot else None,
        "targets": trusted.targets.signed.version if trusted.targets else None,
    }
    if ctx.obj["as_json"]:
        echo_json(versions)
    else:
        click.echo(", ".join(f"{role} v{version}" for role, version in versions.items()))


def _target_dict(target: TargetFile | None) -> dict[str, Any] | None:
    if target is None:
        return None
    return {"path": target.path, "length": target.length, "hashes": target.hashes}


@client.command()
@click.argument("path")
@click.pass_context
def info(ctx: click.Context, path: str) -> None:
    """Show what the trusted metadata says about target PATH."""
    result = _updater(ctx).lookup(path, exhaustive=True)
    if ctx.obj["as_json"]:
        echo_json(
            {
                "path": path,
                "target": _target_dict(result.target),
                "chain": list(result.chain),
                "visited": [
                    {"chain": list(v.chain), "target": _target_dict(v.target)}
                    for v in result.visits
                ],
            }
        )
    else:
        for visit in result.visits:
            mark = "lists it" if visit.target is not None else "-"
            click.echo(f"  {' -> '.join(visit.chain)}: {mark}")
        if result.target is None:
            click.echo(f"{path}: not listed by any trusted role")
        else:
            click.echo(f"{path}: {result.target.length} bytes, from {' -> '.join(result.chain)}")
            for algorithm, digest in result.target.hashes.items():
                click.echo(f"  {algorithm}: {digest}")
    if result.target is None:
        ctx.exit(1)


@client.command()
@click.argument("path")
@click.pass_context
def download(ctx: click.Context, path: str) -> None:
    """Download target PATH (verified) into the target directory."""
    from tufkit.errors import RepositoryError

    updater = _updater(ctx)
    target = updater.get_targetinfo(path)
    if target is None:
        raise RepositoryError(f"target {path!r} is not listed by any trusted role")
    local = updater.find_cached_target(target)
    cached = local is not None
    if local is None:
        local = updater.download_target(target)
    if ctx.obj["as_json"]:
        echo_json({"path": path, "file": local, "cached": cached, "length": target.length})
    else:
        click.echo(f"{path} -> {local}{' (already present)' if cached else ''}")
