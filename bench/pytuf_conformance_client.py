"""python-tuf 7.0.1's ngclient behind the tuf-conformance command line (the benchmark's reference).

The same protocol as ``tufkit-conformance-client``, options before the command::

    pytuf_conformance_client.py --metadata-dir DIR init TRUSTED_ROOT_FILE
    pytuf_conformance_client.py --metadata-dir DIR --metadata-url URL refresh
    pytuf_conformance_client.py --metadata-dir DIR --metadata-url URL --target-name P \\
        --target-base-url URL --target-dir TDIR download

Written for bench/bench_client.py: like the tufkit client it imports only what the command uses
(``tuf.ngclient`` is not needed by ``init``). Exit code 0 on success, 1 on any failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pytuf-conformance-client")
    parser.add_argument("--metadata-dir", required=True)
    parser.add_argument("--metadata-url")
    parser.add_argument("--target-name", action="append", default=[])
    parser.add_argument("--target-base-url")
    parser.add_argument("--target-dir")
    parser.add_argument("command", choices=["init", "refresh", "download"])
    parser.add_argument("trusted_root", nargs="?")
    return parser


def _run(args: argparse.Namespace) -> None:
    if args.command == "init":
        os.makedirs(args.metadata_dir, exist_ok=True)
        shutil.copyfile(args.trusted_root, os.path.join(args.metadata_dir, "root.json"))
        return
    from tuf.ngclient import Updater

    updater = Updater(  # bootstrap=None: trust root.json in the metadata directory
        args.metadata_dir,
        args.metadata_url,
        args.target_dir,
        args.target_base_url,
        bootstrap=None,
    )
    updater.refresh()
    if args.command == "refresh":
        return
    os.makedirs(args.target_dir, exist_ok=True)
    for name in args.target_name:
        info = updater.get_targetinfo(name)
        if info is None:
            raise LookupError(f"{name} is not listed")
        if updater.find_cached_target(info) is None:
            updater.download_target(info)


def main() -> int:
    args = _parser().parse_args()
    try:
        _run(args)
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
