"""``tufkit intoto``: in-toto commands with the reference's options and exit codes.

``run``, ``record start|stop``, ``sign`` and ``verify`` parse their arguments like ``in-toto-run``,
``in-toto-record``, ``in-toto-sign`` and ``in-toto-verify`` 3.1 (``-m a b c``, ``-- cmd``), so
scripts keep working; ``layout`` builds and signs a layout from a TOML description. Exit codes:
0 success, 1 failure (for ``run``: the command's non-zero status), 2 usage errors (and, as in
``in-toto-sign``, signing errors of ``sign``).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

__all__ = ["intoto"]


class _RawCommand(click.Command):
    """A command whose arguments are handed over untouched (``--`` included) to argparse."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.params["argv"] = tuple(args)
        return []


_PASS: dict[str, Any] = {"cls": _RawCommand, "context_settings": {"help_option_names": []}}


def _fail(tool: str, exc: BaseException, code: int = 1) -> NoReturn:
    from tufkit.errors import Error

    text = exc.diagnostics() if isinstance(exc, Error) else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}"
    click.echo(f"({tool}) {text}", err=True)
    sys.exit(code)


def _verbosity(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="store_true", help="show info messages")
    group.add_argument("-q", "--quiet", action="store_true", help="show only errors")


def _setup_logging(args: argparse.Namespace) -> None:
    level = logging.INFO if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)


def _record_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--signing-key", metavar="<path>", help="PEM (PKCS#8) private key")
    parser.add_argument("-g", "--gpg", nargs="?", const=True, metavar="<id>", help="gpg key")
    parser.add_argument("--gpg-home", metavar="<path>")
    parser.add_argument("-P", "--password", nargs="?", const=True, metavar="<password>")
    parser.add_argument("--exclude", dest="exclude_patterns", nargs="+", metavar="<pattern>")
    parser.add_argument("--base-path", metavar="<path>")
    parser.add_argument("--lstrip-paths", nargs="+", metavar="<path>")
    parser.add_argument("--use-dsse", action="store_true", help="write a DSSE envelope")
    parser.add_argument(
        "--unsafe-allow-outside-base",
        action="store_true",
        help="record paths and symlink targets outside the base path (the reference does)",
    )
    _verbosity(parser)


def _signer(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any:
    from tufkit.intoto import GpgSigner, load_private_key_file

    if bool(args.gpg) + bool(args.signing_key) != 1:
        parser.error("specify either '--signing-key <path>' or '--gpg [<keyid>]'")
    if args.gpg:
        return GpgSigner(None if args.gpg is True else args.gpg, args.gpg_home)
    password = args.password
    if password is True:
        password = getpass.getpass(f"Passphrase for {args.signing_key}: ")
    return load_private_key_file(args.signing_key, password.encode() if password else None)


def _options(args: argparse.Namespace) -> Any:
    from tufkit.intoto import RecordOptions

    return RecordOptions(
        exclude_patterns=args.exclude_patterns,
        base_path=args.base_path,
        lstrip_paths=tuple(args.lstrip_paths or ()),
        unsafe_allow_outside_base=args.unsafe_allow_outside_base,
    )


@click.group()
def intoto() -> None:
    """in-toto supply chain layouts, links and verification."""


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tufkit intoto run", description="Run a step, sign a link."
    )
    parser.add_argument("-n", "--step-name", required=True, metavar="<name>")
    parser.add_argument("-m", "--materials", nargs="+", metavar="<path>")
    parser.add_argument("-p", "--products", nargs="+", metavar="<path>")
    parser.add_argument("-s", "--record-streams", action="store_true")
    parser.add_argument("-x", "--no-command", action="store_true")
    parser.add_argument("-d", "--metadata-directory", metavar="<directory>")
    parser.add_argument("--run-timeout", type=int, default=10, metavar="<seconds>")
    _record_args(parser)
    parser.add_argument("link_cmd", nargs="*", metavar="<command>")
    return parser


@intoto.command("run", **_PASS)
def run(argv: Sequence[str]) -> None:
    """Run a command and sign a link (options of in-toto-run; -h for help)."""
    from pathlib import Path

    from tufkit.intoto import envelope_for, link_filename, run_step, write_metadata

    parser = _run_parser()
    args = parser.parse_args(list(argv))
    _setup_logging(args)
    if not args.no_command and not args.link_cmd:
        parser.error("no command specified (or use --no-command)")
    command = [] if args.no_command else args.link_cmd
    try:
        signer = _signer(parser, args)
        link = run_step(
            args.step_name,
            command,
            materials=args.materials or (),
            products=args.products or (),
            options=_options(args),
            record_streams=args.record_streams,
            timeout=args.run_timeout,
        )
        metadata = envelope_for(link, use_dsse=args.use_dsse)
        keyid = metadata.sign(signer)
        out = Path(args.metadata_directory or ".") / link_filename(link.name or "", keyid)
        write_metadata(out, metadata)
    except Exception as exc:
        _fail("in-toto-run", exc)
    code = link.byproducts.get("return-value")
    sys.exit(code if isinstance(code, int) and code else 0)


@intoto.command("record", **_PASS)
def record(argv: Sequence[str]) -> None:
    """Record a step in two parts: 'start' (materials) and 'stop' (products)."""
    from tufkit.intoto import record_start, record_stop

    parser = argparse.ArgumentParser(prog="tufkit intoto record")
    sub = parser.add_subparsers(dest="mode", required=True)
    start = sub.add_parser("start")
    stop = sub.add_parser("stop")
    for item in (start, stop):
        item.add_argument("-n", "--step-name", required=True, metavar="<name>")
        _record_args(item)
    start.add_argument("-m", "--materials", nargs="+", metavar="<path>")
    stop.add_argument("-p", "--products", nargs="+", metavar="<path>")
    stop.add_argument("-d", "--metadata-directory", metavar="<directory>")
    args = parser.parse_args(list(argv))
    _setup_logging(args)
    try:
        signer = _signer(start if args.mode == "start" else stop, args)
        if args.mode == "start":
            record_start(
                args.step_name,
                signer,
                args.materials or (),
                options=_options(args),
                use_dsse=args.use_dsse,
            )
        else:
            record_stop(
                args.step_name,
                signer,
                args.products or (),
                options=_options(args),
                metadata_directory=args.metadata_directory,
            )
    except Exception as exc:
        _fail("in-toto-record", exc)
    sys.exit(0)


def _sign_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tufkit intoto sign")
    parser.add_argument("-f", "--file", required=True, metavar="<path>")
    parser.add_argument("-k", "--key", nargs="+", metavar="<path>")
    parser.add_argument("-p", "--prompt", action="store_true")
    parser.add_argument("-g", "--gpg", nargs="*", metavar="<id>")
    parser.add_argument("--gpg-home", metavar="<path>")
    parser.add_argument("-o", "--output", metavar="<path>")
    parser.add_argument("-a", "--append", action="store_true")
    parser.add_argument("--verify", action="store_true")
    _verbosity(parser)
    return parser


@intoto.command("sign", **_PASS)
def sign(argv: Sequence[str]) -> None:
    """Sign a link or layout, or check its signatures (options of in-toto-sign)."""
    from tufkit.intoto import Link, read_metadata

    parser = _sign_parser()
    args = parser.parse_args(list(argv))
    _setup_logging(args)
    if args.verify and (args.append or args.output):
        parser.error("don't combine --verify with --append or --output")
    if (args.key is None) == (args.gpg is None):
        parser.error("specify either '--key PATH [PATH ...]' or '--gpg [KEYID ...]'")
    try:
        metadata = read_metadata(args.file)
        is_link = isinstance(metadata.payload(), Link)
    except Exception as exc:
        _fail("in-toto-sign", exc, 2)
    if is_link and ((args.key and len(args.key) > 1) or (args.gpg and len(args.gpg) > 1)):
        parser.error("a link is signed by exactly one functionary; give one key")
    if is_link and args.append:
        parser.error("signatures cannot be appended to a link")
    if args.verify and args.gpg is not None and not args.gpg:
        parser.error("give the gpg key ids to verify with: '--gpg KEYID ...'")
    if args.verify:
        _verify_file(metadata, args)
    _sign_file(metadata, args, is_link)


def _verify_file(metadata: Any, args: argparse.Namespace) -> NoReturn:
    from pathlib import Path

    from tufkit.intoto import (
        GpgKeyExpiredError,
        SignatureVerificationError,
        export_gpg_keys,
        key_to_layout_dict,
        load_public_key_pem,
    )

    try:
        keys: dict[str, dict[str, Any]] = {}
        if args.gpg is not None:
            keys = export_gpg_keys(args.gpg, homedir=args.gpg_home)
        for path in args.key or ():
            key = load_public_key_pem(Path(path).read_bytes(), what=path)
            keys[key.keyid] = key_to_layout_dict(key)
        for keyid, key_dict in keys.items():
            metadata.verify_signature(keyid, key_dict)
    except GpgKeyExpiredError as exc:  # not a verification failure in in-toto-sign either
        _fail("in-toto-sign", exc, 2)
    except SignatureVerificationError as exc:
        _fail("in-toto-sign", exc, 1)
    except Exception as exc:
        _fail("in-toto-sign", exc, 2)
    sys.exit(0)


def _sign_file(metadata: Any, args: argparse.Namespace, is_link: bool) -> NoReturn:
    from tufkit.intoto import (
        GpgSigner,
        link_filename,
        load_private_key_file,
        sign_metadata,
        write_metadata,
    )

    try:
        signers: list[Any]
        if args.gpg is not None:
            signers = [GpgSigner(keyid, args.gpg_home) for keyid in args.gpg or [None]]
        else:
            password = getpass.getpass("Passphrase: ").encode() if args.prompt else None
            signers = [load_private_key_file(path, password) for path in args.key]
        keyids = sign_metadata(metadata, signers, append=args.append)
        out = args.output
        if not out:
            out = link_filename(metadata.payload().name, keyids[-1]) if is_link else args.file
        write_metadata(out, metadata)
    except Exception as exc:
        _fail("in-toto-sign", exc, 2)
    sys.exit(0)


def _verify_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tufkit intoto verify")
    parser.add_argument("-l", "--layout", required=True, metavar="<path>")
    parser.add_argument("--verification-keys", nargs="+", metavar="<path>")
    parser.add_argument("-g", "--gpg", nargs="+", metavar="<id>")
    parser.add_argument("--gpg-home", metavar="<path>")
    parser.add_argument("--link-dir", default=".", metavar="<path>")
    parser.add_argument("--inspection-timeout", type=int, default=10, metavar="<seconds>")
    parser.add_argument(
        "--inspect-in-copy",
        action="store_true",
        help="run inspections in a temporary copy of the working directory",
    )
    _verbosity(parser)
    return parser


@intoto.command("verify", **_PASS)
def verify(argv: Sequence[str]) -> None:
    """Verify a final product against a layout (options of in-toto-verify)."""
    from pathlib import Path

    from tufkit.intoto import (
        TemporaryCopyInspectionRunner,
        VerifyOptions,
        export_gpg_keys,
        key_to_layout_dict,
        load_public_key_pem,
        read_metadata,
        verify_layout,
    )

    parser = _verify_parser()
    args = parser.parse_args(list(argv))
    _setup_logging(args)
    if not (args.gpg or args.verification_keys):
        parser.error("specify at least one layout key: --verification-keys PATH... or --gpg ID...")
    runner = TemporaryCopyInspectionRunner() if args.inspect_in_copy else None
    reporter = _print_event if args.verbose else None
    try:
        layout = read_metadata(args.layout)
        keys: dict[str, dict[str, Any]] = {}
        if args.gpg:
            keys.update(export_gpg_keys(args.gpg, homedir=args.gpg_home))
        for path in args.verification_keys or ():
            key = load_public_key_pem(Path(path).read_bytes(), what=path)
            keys[key.keyid] = key_to_layout_dict(key)
        options = VerifyOptions(
            link_dir=args.link_dir,
            inspection_timeout=args.inspection_timeout,
            runner=runner,
            reporter=reporter,
        )
        verify_layout(layout, keys, options)
    except Exception as exc:
        _fail("in-toto-verify", exc)
    finally:
        if runner is not None:
            runner.close()
    sys.exit(0)


def _print_event(event: Any) -> None:
    """verify -v: one verification event (names from files escaped) on stderr."""
    from tufkit.cli._output import printable

    for line in event.lines():
        click.echo(printable(line), err=True)


@intoto.command("layout")
@click.argument("description", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--signing-key", "signing_keys", multiple=True, required=True, help="PEM private key."
)
@click.option("--passphrase-env", metavar="NAME", help="Read key passphrases from this variable.")
@click.option("-o", "--output", default="root.layout", show_default=True, help="Layout file.")
@click.option("--use-dsse", is_flag=True, help="Write a DSSE envelope instead of a Metablock.")
def layout(
    description: str,
    signing_keys: tuple[str, ...],
    passphrase_env: str | None,
    output: str,
    use_dsse: bool,
) -> None:
    """Build a layout from a TOML DESCRIPTION and sign it (see docs/intoto.md)."""
    import os
    from pathlib import Path

    from tufkit.errors import ConfigError
    from tufkit.intoto import (
        DsseEnvelope,
        Metablock,
        layout_from_description,
        load_private_key_file,
        write_metadata,
    )

    password = None
    if passphrase_env:
        value = os.environ.get(passphrase_env)
        if not value:
            raise ConfigError(f"environment variable {passphrase_env} is unset or empty")
        password = value.encode()
    path = Path(description)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"layout description {path} is not UTF-8 text") from exc
    built = layout_from_description(text, base_dir=path.parent)
    metadata = DsseEnvelope.from_payload(built) if use_dsse else Metablock(built)
    for key_path in signing_keys:
        metadata.sign(load_private_key_file(key_path, password))
    write_metadata(output, metadata)
    click.echo(f"wrote {output}: {len(built.steps)} steps, {len(built.inspect)} inspections")
