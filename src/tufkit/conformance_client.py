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

It lives outside :mod:`tufkit.cli` on purpose: every process of a conformance run is one
update, and importing that package loads click, which this command does not use. Like the
library it imports only what the command needs (``argparse``, then the client).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tufkit.client import Updater

__all__ = ["main", "run"]


def _formatter(prog: str) -> argparse.HelpFormatter:
    # a fixed width: argparse's default asks shutil for the terminal size (and shutil imports
    # bz2, lzma and zlib), on every start, because add_argument builds a formatter
    return argparse.HelpFormatter(prog, width=100)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tufkit-conformance-client", formatter_class=_formatter)
    parser.add_argument("--metadata-dir", required=True)
    parser.add_argument("--metadata-url")
    parser.add_argument("--target-name", action="append", default=[])
    parser.add_argument("--target-base-url")
    parser.add_argument("--target-dir")
    parser.add_argument("command", choices=["init", "refresh", "download"])
    parser.add_argument("trusted_root", nargs="?")
    return parser


def _init(args: argparse.Namespace) -> None:
    from tufkit.client.cache import MetadataCache
    from tufkit.errors import ConfigError

    if args.trusted_root is None:
        raise ConfigError("init needs TRUSTED_ROOT_FILE")
    with open(args.trusted_root, "rb") as handle:
        data = handle.read()
    MetadataCache(args.metadata_dir).write("root", data)


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
    os.makedirs(args.target_dir, exist_ok=True)
    updater = _updater(args)
    updater.refresh()
    for name in args.target_name:
        info = updater.get_targetinfo(name)
        if info is None:
            raise RepositoryError(f"target {name!r} is not listed by any trusted role")
        if updater.find_cached_target(info) is None:
            path = updater.download_target(info)
            print(f"downloaded {name!r} to {path!r}", file=sys.stderr)
        else:
            print(f"{name!r} is already present", file=sys.stderr)


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
        _report(exc.diagnostics())
        return 1
    except OSError as exc:
        _report(f"{exc.strerror or exc}: {exc.filename or ''}")
        return 1
    except Exception as exc:  # hostile input must never produce a traceback
        _report(f"unexpected {type(exc).__name__}: {exc}")
        return 1
    return 0


def _report(message: str) -> None:
    """Print *message* to stderr with anything that could act on a terminal escaped."""
    from tufkit.cli._output import printable  # only on failure: it loads the click CLI package

    print(f"error: {printable(message)}", file=sys.stderr)


def main() -> None:
    """Console entry point."""
    sys.exit(run(sys.argv[1:]))
