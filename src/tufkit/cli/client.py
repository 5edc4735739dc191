"""``tufkit client``: initialise trust, refresh, inspect and download targets.

A thin layer over :class:`tufkit.client.Updater`:

* ``init`` stores an explicitly given bootstrap root (after checking that it is signed by its own
  keys) and remembers the repository's URLs in the metadata directory. It refuses to replace a
  trusted root unless ``--force``; it always starts clean (nothing cached from another
  repository is kept).
* every other command trusts the root stored by ``init`` and the metadata tufkit verified since;
  URLs given on the command line override the remembered ones.
* ``--offline`` verifies cached metadata without network access, within
  ``--unsafe-max-staleness``, and says so; ``download --offline`` only hands over a file
  already downloaded and verified.

Every text from metadata is escaped before it reaches the terminal; ``--json`` prints exact JSON
(ASCII only), failures included. Nothing is imported that the command does not use: rich only
for a progress bar, on a terminal, for a large download.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from tufkit.cli._output import echo, in_file, printable

if TYPE_CHECKING:
    from datetime import timedelta

    from tufkit.client import Updater
    from tufkit.metadata import TargetFile

__all__ = ["client"]

DEFAULT_METADATA_DIR = os.path.join(".tufkit", "metadata")
DEFAULT_TARGET_DIR = os.path.join(".tufkit", "targets")
# The URLs init remembers, in the metadata directory. Not *.json: every such name is a role's.
URLS_FILE = "repository.conf"
PROGRESS_FROM = 1 << 20  # bytes: a smaller download shows no progress bar
_URL_KEYS = ("metadata_url", "target_base_url")


class _Url(click.types.StringParamType):
    """An ``http://`` or ``https://`` URL with a host."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from urllib.parse import urlsplit

        text = super().convert(value, param, ctx)
        try:
            parts = urlsplit(text) if text.isprintable() else None
            _ = parts and parts.port  # a malformed port raises ValueError
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(f"{text!r} is not an http:// or https:// URL with a host", param, ctx)
        return text


URL = _Url()


@click.group()
@click.option(
    "--metadata-dir",
    type=click.Path(file_okay=False),
    default=DEFAULT_METADATA_DIR,
    show_default=True,
    help="Trusted metadata cache (init also remembers the repository's URLs there).",
)
@click.option(
    "--metadata-url",
    type=URL,
    default=None,
    help="The repository's metadata URL (overrides init's).",
)
@click.option(
    "--target-base-url",
    type=URL,
    default=None,
    help="The repository's targets URL (overrides init's).",
)
@click.option(
    "--target-dir",
    type=click.Path(file_okay=False),
    default=None,
    help=f"Where downloaded targets go.  [default: {DEFAULT_TARGET_DIR}]",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, failures included.")
@click.option("--offline", is_flag=True, help="Use only cached metadata (no network).")
@click.option(
    "--unsafe-max-staleness",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="With --offline: accept metadata expired at most this long ago.  [default: 0]",
)
@click.option(
    "--refresh-interval",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Skip the network if the last refresh is younger than this.  [default: 0]",
)
@click.pass_context
def client(ctx: click.Context, /, **options: Any) -> None:
    """Update from a TUF repository and download verified targets.

    Start with `init`; later commands need no URL when init was given them.
    """
    if options["unsafe_max_staleness"] is not None and not options["offline"]:
        raise click.UsageError("--unsafe-max-staleness applies only with --offline", ctx)
    if options["refresh_interval"] is not None and options["offline"]:
        raise click.UsageError("--refresh-interval and --offline contradict each other", ctx)
    ctx.obj = options


# -- init ----------------------------------------------------------------------------------


@client.command()
@click.option(
    "--bootstrap",
    type=click.Path(dir_okay=False, exists=True),
    required=True,
    metavar="ROOT_FILE",
    help="The root metadata to trust, obtained out of band.",
)
@click.option(
    "--metadata-url",
    "metadata_url",
    type=URL,
    default=None,
    help="The repository's metadata URL, remembered for later commands.",
)
@click.option(
    "--target-base-url",
    "target_base_url",
    type=URL,
    default=None,
    help="The repository's targets URL, remembered for later commands.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a trusted root already there (forgets all metadata cached from it).",
)
@click.pass_context
def init(
    ctx: click.Context,
    bootstrap: str,
    metadata_url: str | None,
    target_base_url: str | None,
    force: bool,
) -> None:
    """Trust ROOT_FILE as the initial root (checked to be signed by its own keys).

    Obtain ROOT_FILE out of band. The URLs given here (or to `tufkit client`) are remembered
    for later commands. A root already trusted is replaced only with --force; init always
    starts clean, keeping nothing cached from another repository.
    """
    from tufkit.client.cache import MetadataCache
    from tufkit.errors import ConfigError

    opts = ctx.obj
    for name in ("offline", "unsafe_max_staleness", "refresh_interval"):
        if opts[name] not in (None, False):
            option = "--" + name.replace("_", "-")
            raise click.UsageError(f"{option} does not apply to init", ctx)
    urls = {
        "metadata_url": _one_value(ctx, "--metadata-url", opts["metadata_url"], metadata_url),
        "target_base_url": _one_value(
            ctx, "--target-base-url", opts["target_base_url"], target_base_url
        ),
    }
    data, version = _read_bootstrap(bootstrap)
    directory = opts["metadata_dir"]
    cache = MetadataCache(directory)
    with cache.lock():
        if cache.read("root") is not None and not force:
            raise ConfigError(
                f"{directory} already trusts a root; pass --force to replace it "
                "(forgetting all metadata cached from the old repository)"
            )
        cache.clear()  # start clean: nothing of another repository is kept
        cache.write("root", data)
        _save_urls(directory, urls)
    if opts["as_json"]:
        from tufkit.cli._output import echo_json

        echo_json({"root_version": version, "metadata_dir": directory, **urls})
        return
    echo(f"trusting root version {version} in {printable(directory)}")
    for label, url in zip(("metadata URL", "targets URL"), urls.values(), strict=True):
        if url is not None:
            echo(f"remembering the {label} {printable(url)}")


def _one_value(
    ctx: click.Context, option: str, first: str | None, second: str | None
) -> str | None:
    """The value of *option* given before or after ``init``; both and different is an error."""
    if first is not None and second is not None and first != second:
        raise click.UsageError(f"{option} is given twice with different values", ctx)
    return first if first is not None else second


def _read_bootstrap(path: str) -> tuple[bytes, int]:
    """Read and check *path* as a self-signed root; return its bytes and version.

    Raises:
        ConfigError: the file is larger than a root may be.
        FormatError, UnsignedMetadataError: (naming the file) not a root signed by its keys.
    """
    from datetime import UTC, datetime

    from tufkit.client import UpdaterConfig
    from tufkit.client._internal.trusted_set import TrustedSet
    from tufkit.errors import ConfigError, Error

    limit = UpdaterConfig().root_max_length
    with open(path, "rb") as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise ConfigError(f"{path}: larger than {limit} bytes, too large for root metadata")
    try:
        version = TrustedSet(raw, datetime.now(UTC)).root.signed.version
    except Error as exc:
        raise in_file(path, exc) from exc
    return raw, version


def _urls_path(metadata_dir: str) -> str:
    return os.path.join(metadata_dir, URLS_FILE)


def _save_urls(metadata_dir: str, urls: dict[str, str | None]) -> None:
    """Remember *urls* as ``key=value`` lines (a URL holds no newline: see :class:`_Url`)."""
    from tufkit._atomic import write_atomically

    lines = [f"{key}={url}\n" for key, url in urls.items() if url is not None]
    path = _urls_path(metadata_dir)
    if lines:
        write_atomically(path, "".join(lines).encode())
    elif os.path.exists(path):
        os.unlink(path)


def _load_urls(metadata_dir: str) -> dict[str, str]:
    """The URLs init remembered (none if it was given none).

    Raises:
        ConfigError: the file is not what init writes.
    """
    from tufkit.errors import ConfigError

    path = _urls_path(metadata_dir)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(64 * 1024)
    except FileNotFoundError:
        return {}
    urls: dict[str, str] = {}
    try:
        for line in raw.decode().splitlines():
            key, _, url = line.partition("=")
            if key not in _URL_KEYS or not url or key in urls:
                raise ValueError(line)
            urls[key] = url
    except ValueError:  # UnicodeDecodeError included
        raise ConfigError(f"{path} is not a file written by init; run init --force") from None
    return urls


# -- the updater ---------------------------------------------------------------------------


def _updater(ctx: click.Context, *, targets: bool = False) -> Updater:
    """An updater over the trusted cache, refreshed (or loaded offline).

    Args:
        targets: the command downloads targets (a targets URL is needed).

    Raises:
        click.UsageError: a URL the command needs is neither given nor remembered.
    """
    from tufkit.client import Updater, UpdaterConfig
    from tufkit.errors import ConfigError

    opts = ctx.obj
    if not os.path.isdir(opts["metadata_dir"]):  # not created by a mistyped option
        raise ConfigError(f"{opts['metadata_dir']} does not exist; run init first")
    remembered = _load_urls(opts["metadata_dir"])
    metadata_url = opts["metadata_url"] or remembered.get("metadata_url")
    target_url = opts["target_base_url"] or remembered.get("target_base_url")
    fields: dict[str, Any] = {}
    if opts["refresh_interval"] is not None:
        fields["refresh_interval"] = opts["refresh_interval"]
    if opts["unsafe_max_staleness"] is not None:
        fields["unsafe_offline_staleness_budget"] = opts["unsafe_max_staleness"]
    updater = Updater.from_trusted_cache(
        opts["metadata_dir"],
        metadata_url or "offline:",
        target_dir=opts["target_dir"] or DEFAULT_TARGET_DIR,
        target_base_url=target_url,
        config=UpdaterConfig(**fields),
    )
    if opts["offline"]:
        age = updater.load_offline()
        click.echo(f"offline: using cached metadata last confirmed {_age(age)} ago", err=True)
        return updater
    if metadata_url is None:
        raise click.UsageError(
            "no metadata URL: pass --metadata-url URL (init remembers it) or use --offline", ctx
        )
    if targets and target_url is None:
        raise click.UsageError(
            "no targets URL: pass --target-base-url URL (init remembers it)", ctx
        )
    updater.refresh_if_due()
    return updater


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''}"
    return f"{seconds} s"


# -- refresh, info, download ---------------------------------------------------------------


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
        from tufkit.cli._output import echo_json

        echo_json(versions)
    else:
        echo(", ".join(f"{role} v{version}" for role, version in versions.items()))


def _target_dict(target: TargetFile | None) -> dict[str, Any] | None:
    if target is None:
        return None
    out = {"path": target.path, "length": target.length, "hashes": target.hashes}
    if target.custom is not None:
        out["custom"] = target.custom
    return out


def _chain(chain: tuple[str, ...]) -> str:
    return " -> ".join(printable(role) for role in chain)


def _target_path(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """PATH: a target path that could ever be looked up (no traversal): else a usage error."""
    from tufkit.client._internal.download import check_target_path
    from tufkit.errors import FormatError

    try:
        check_target_path(value)
    except FormatError as exc:
        raise click.BadParameter(str(exc)) from None  # the library's words, naming the path
    return value


def _not_listed(path: str) -> Exception:
    from tufkit.errors import TargetNotFoundError

    return TargetNotFoundError(f"target {path!r} is not listed by the repository")


@client.command()
@click.argument("path", callback=_target_path)
@click.pass_context
def info(ctx: click.Context, path: str) -> None:
    """Show what the trusted metadata says about target PATH."""
    result = _updater(ctx).lookup(path, exhaustive=True)
    if ctx.obj["as_json"]:
        from tufkit.cli._output import echo_json, error_object

        report: dict[str, Any] = {
            "path": path,
            "target": _target_dict(result.target),
            "chain": list(result.chain),
            "visited": [
                {"chain": list(v.chain), "target": _target_dict(v.target)} for v in result.visits
            ],
        }
        if result.target is None:
            missing = _not_listed(path)
            report.update(error_object(missing, str(missing), 1))
        echo_json(report)
        if result.target is None:
            ctx.exit(1)
        return
    for visit in result.visits:
        echo(f"  {_chain(visit.chain)}: {'lists it' if visit.target is not None else '-'}")
    if result.target is None:
        raise _not_listed(path)
    target = result.target
    echo(f"{printable(path)}: {target.length} bytes, from {_chain(result.chain)}")
    for algorithm, digest in target.hashes.items():
        echo(f"  {printable(algorithm)}: {printable(digest)}")
    if target.custom is not None:
        import json

        echo(f"  custom: {json.dumps(target.custom, sort_keys=True, ensure_ascii=True)}")


@client.command()
@click.argument("path", callback=_target_path)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Write the target to FILE (default: into the target directory).",
)
@click.pass_context
def download(ctx: click.Context, path: str, output: str | None) -> None:
    """Download target PATH, verified against the trusted metadata.

    The file appears only once its length and every hash matched; an interrupted download
    (Ctrl-C, SIGTERM) leaves nothing behind.
    """
    from tufkit.errors import ConfigError

    opts = ctx.obj
    if output is not None:
        if opts["target_dir"] is not None:
            raise click.UsageError("-o/--output and --target-dir contradict each other", ctx)
        parent = os.path.dirname(output) or "."
        if not os.path.isdir(parent):
            raise click.BadParameter(
                f"directory {parent!r} does not exist", ctx, param_hint="'-o' / '--output'"
            )
    updater = _updater(ctx, targets=True)
    target = updater.get_targetinfo(path)
    if target is None:
        raise _not_listed(path)
    local = updater.find_cached_target(target, output)
    cached = local is not None
    if local is None:
        if opts["offline"]:
            raise ConfigError(f"--offline: target {path!r} is not downloaded yet")
        local = _fetch(updater, target, output)
    if opts["as_json"]:
        from tufkit.cli._output import echo_json

        echo_json({"path": path, "file": local, "cached": cached, "length": target.length})
    else:
        note = " (already present)" if cached else ""
        echo(f"{printable(path)} -> {printable(local)}{note}")


def _fetch(updater: Updater, target: TargetFile, output: str | None) -> str:
    """Download *target*, with a progress bar when it is large and stderr is a terminal."""
    if target.length >= PROGRESS_FROM and sys.stderr.isatty():
        from tufkit.cli._output import progress_bar

        with progress_bar(target.path, target.length) as advance:
            return updater.download_target(target, output, progress=advance)
    return updater.download_target(target, output)
