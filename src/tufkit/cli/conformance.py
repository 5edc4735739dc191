"""``tufkit-conformance-client``: the client-under-test command line of the tuf-conformance suite.

Options come before the command::

    tufkit-conformance-client --metadata-dir DIR init TRUSTED_ROOT_FILE
    tufkit-conformance-client --metadata-dir DIR --metadata-url URL refresh
    tufkit-conformance-client --metadata-dir DIR --metadata-url URL --target-name P \\
        [--target-name P ...] --target-base-url URL --target-dir TDIR download

Exit code 0 only if everything succeeded, 1 otherwise (2 for usage errors); diagnostics go to
stderr, never a traceback. The system clock is the reference time (so ``faketime`` works). DIR
holds only the metadata files, under unversioned names; TDIR only verified targets, one file
per target path. This module holds no logic of its own beyond mapping the protocol onto
:class:`tufkit.client.Updater`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tufkit.client import Updater

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tufkit-conformance-client")
    parser.add_argument("--metadata-dir", required=True, type=Path)
    parser.add_argument("--metadata-url")
    parser.add_argument("--target-name", action="append", default=[])
    parser.add_argument("--target-base-url")
    parser.add_argument("--target-dir", type=Path)
    parser.add_argument("command", choices=["init", "refresh", "download"])
    parser.add_argument("trusted_root", nargs="?", type=Path)
    return parser


def _init(args: argparse.Namespace) -> None:
    from tufkit.client.cache import MetadataCache
    from tufkit.errors import ConfigError

    if args.trusted_root is None:
        raise ConfigError("init needs TRUSTED_ROOT_FILE")
    MetadataCache(args.metadata_dir).write("root", args.trusted_root.read_bytes())


def _updater(args: argparse.Namespace) -> Updater:
    from tufkit.client import Updater
    from tufkit.errors import ConfigError

    if not args.metadata_url:
        raise ConfigError(f"{args.command} needs --metadata-url")
    return Updater.from_trusted_cache(
        args.metadata_dir,
        args.metadata_url,
        target_dir=args.target_dir,
        target_base_url=args.target_base_url,
    )


def _download(args: argparse.Namespace) -> None:
    from tufkit.errors import ConfigError, RepositoryError

    if not args.target_base_url or args.target_dir is None:
        raise ConfigError("download needs --target-base-url and --target-dir")
    args.target_dir.mkdir(parents=True, exist_ok=True)
    updater = _updater(args)
    updater.refresh()
    for name in args.target_name:
        info = updater.get_targetinfo(name)
        if info is None:
            raise RepositoryError(f"target {name!r} is not listed by any trusted role")
        if updater.find_cached_target(info) is None:
            path = updater.download_target(info)
            print(f"downloaded {name} to {path}", file=sys.stderr)
        else:
            print(f"{name} is already present", file=sys.stderr)


def run(argv: list[str]) -> int:
    """Run one command; return the exit code."""
    args = _parser().parse_args(argv)
    from tufkit.errors import Error

    try:
        if args.command == "init":
            _init(args)
        elif args.command == "refresh":
            _updater(args).refresh()
        else:
            _download(args)
    except Error as exc:
        print(f"error: {exc.diagnostics()}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 1
    except Exception as exc:  # hostile input must never produce a traceback
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    """Console entry point."""
    sys.exit(run(sys.argv[1:]))
