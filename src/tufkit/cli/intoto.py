"""``tufkit intoto``: in-toto commands with the reference's options and exit codes.

``run``, ``record start|stop``, ``sign`` and ``verify`` are click commands that take the options
of ``in-toto-run``, ``in-toto-record``, ``in-toto-sign`` and ``in-toto-verify`` 3.1 under the same
names, written either way (``-m a b c`` or ``-m a -m b``, ``-- cmd``, unique prefixes of long
options), so scripts keep working; ``layout`` builds and signs a layout from a TOML description.
Exit codes: 0 success, 1 failure (for ``run``: the command's non-zero status), 2 usage errors
(and, as in ``in-toto-sign``, signing errors of ``sign``). Everything printed that could come from
a file name, a layout or a link is escaped for the terminal first.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from tufkit.cli._output import printable
from tufkit.cli._refargs import ASKED, MultiOption, ReferenceCommand, ReferenceGroup

__all__ = ["intoto"]

_F = TypeVar("_F", bound=Callable[..., Any])
_CONTEXT = {"help_option_names": ["-h", "--help"]}
_OUTSIDE_FLAG = "--unsafe-allow-outside-base"


def _error_text(exc: BaseException) -> str:
    from tufkit.errors import Error
    from tufkit.intoto import OutsideBaseError

    if isinstance(exc, OutsideBaseError):
        return f"{type(exc).__name__}: {exc.explain(_OUTSIDE_FLAG)}"
    if isinstance(exc, Error):
        return exc.diagnostics()
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else "?"
        return f"{exc.strerror}: {where}"
    return f"{type(exc).__name__}: {exc}"


def _fail(tool: str, exc: BaseException, code: int = 1) -> NoReturn:
    click.echo(printable(f"({tool}) {_error_text(exc)}", keep_newlines=True), err=True)
    sys.exit(code)


def _usage(message: str) -> NoReturn:
    raise click.UsageError(printable(message))


class _PrintableFormatter(logging.Formatter):
    """Log lines (which quote paths and rules) escaped for the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), keep_newlines=True)


def _setup_logging(verbose: bool, quiet: bool) -> None:
    if verbose and quiet:
        _usage("-v/--verbose and -q/--quiet cannot be combined")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h.formatter, _PrintableFormatter)]:
        root.removeHandler(old)  # invoked again in one process: one handler, not two
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING)


def _apply(func: _F, decorators: list[Callable[[_F], _F]]) -> _F:
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _verbosity(func: _F) -> _F:
    return _apply(
        func,
        [
            click.option("-v", "--verbose", is_flag=True, help="Show more output."),
            click.option("-q", "--quiet", is_flag=True, help="Show only errors."),
            click.version_option(package_name="tufkit"),
        ],
    )


_step_name = click.option(
    "-n",
    "--step-name",
    required=True,
    metavar="<name>",
    help="Step name: the link's name and the start of its file name.",
)


def _record_options(func: _F) -> _F:
    """The options ``run`` and both ``record`` parts share with the reference."""
    return _apply(
        func,
        [
            click.option(
                "--signing-key",
                metavar="<path>",
                help="PEM private key (PKCS#8 or traditional) to sign the link with.",
            ),
            click.option(
                "-g",
                "--gpg",
                is_flag=False,
                flag_value=ASKED,
                default=None,
                metavar="<id>",
                help="Sign with this gpg key (the default key if no id is given).",
            ),
            click.option("--gpg-home", metavar="<path>", help="gpg home directory for --gpg."),
            click.option(
                "-P",
                "--password",
                is_flag=False,
                flag_value=ASKED,
                default=None,
                metavar="<password>",
                help="Passphrase of the --signing-key; -P alone asks for it on the terminal.",
            ),
            click.option(
                "--exclude",
                "exclude_patterns",
                cls=MultiOption,
                metavar="<pattern>...",
                help="gitignore-style patterns of paths not to record (replace the defaults).",
            ),
            click.option(
                "--base-path",
                metavar="<path>",
                help="Directory that artifact paths are relative to (default: the current one).",
            ),
            click.option(
                "--lstrip-paths",
                cls=MultiOption,
                metavar="<path>...",
                help="Prefixes removed from recorded artifact names (none may prefix another).",
            ),
            click.option(
                "--use-dsse", is_flag=True, help="Write a DSSE envelope instead of a Metablock."
            ),
            click.option(
                _OUTSIDE_FLAG,
                is_flag=True,
                help="Record paths and symlink targets outside the base path (the reference "
                "does; tufkit refuses them unless this is given).",
            ),
            _verbosity,
        ],
    )


def _check_one_signer(params: dict[str, Any]) -> None:
    if (params["gpg"] is not None) + (params["signing_key"] is not None) != 1:
        _usage("specify either '--signing-key <path>' or '--gpg [<id>]'")


def _signer(signing_key: str | None, gpg: str | None, gpg_home: str | None, password: Any) -> Any:
    from tufkit.intoto import GpgSigner, load_private_key_file

    if gpg is not None:
        return GpgSigner(None if gpg == ASKED else gpg, gpg_home)
    assert signing_key is not None
    if password == ASKED:
        password = click.prompt(
            printable(f"Passphrase for {signing_key}"),
            hide_input=True,
            default="",
            show_default=False,
            err=True,
        )
    return load_private_key_file(signing_key, password.encode() if password else None)


def _record_settings(params: dict[str, Any]) -> Any:
    from tufkit.intoto import RecordOptions

    return RecordOptions(
        exclude_patterns=list(params["exclude_patterns"]) or None,
        base_path=params["base_path"],
        lstrip_paths=tuple(params["lstrip_paths"]),
        unsafe_allow_outside_base=params["unsafe_allow_outside_base"],
    )


@click.group(cls=ReferenceGroup, context_settings=_CONTEXT)
def intoto() -> None:
    """in-toto supply chain layouts, links and verification."""


@intoto.command(
    "run",
    cls=ReferenceCommand,
    context_settings=_CONTEXT,
    short_help="Run a command and sign a link (in-toto-run).",
)
@_step_name
@click.option(
    "-m",
    "--materials",
    cls=MultiOption,
    metavar="<path>...",
    help="Files or directories recorded before the command runs.",
)
@click.option(
    "-p",
    "--products",
    cls=MultiOption,
    metavar="<path>...",
    help="Files or directories recorded after the command ran.",
)
@click.option(
    "-s", "--record-streams", is_flag=True, help="Record the command's stdout and stderr."
)
@click.option(
    "-x", "--no-command", is_flag=True, help="Run no command: record and sign artifacts only."
)
@click.option(
    "-d",
    "--metadata-directory",
    metavar="<directory>",
    help="Directory to write the link to (default: the current one).",
)
@click.option(
    "--run-timeout",
    type=int,
    default=10,
    show_default=True,
    metavar="<seconds>",
    help="Seconds the command may run before it is stopped.",
)
@_record_options
@click.argument("link_cmd", nargs=-1, metavar="[--] <command>...")
def run(**params: Any) -> None:
    """Run a command and write a signed link of its materials and products (in-toto-run)."""
    from tufkit.intoto import envelope_for, link_filename, run_step, write_metadata

    _setup_logging(params["verbose"], params["quiet"])
    _check_one_signer(params)
    if not params["no_command"] and not params["link_cmd"]:
        _usage("no command specified (give one after '--', or use --no-command)")
    command = [] if params["no_command"] else list(params["link_cmd"])
    try:
        signer = _signer(
            params["signing_key"], params["gpg"], params["gpg_home"], params["password"]
        )
        link = run_step(
            params["step_name"],
            command,
            materials=params["materials"],
            products=params["products"],
            options=_record_settings(params),
            record_streams=params["record_streams"],
            timeout=params["run_timeout"],
        )
        metadata = envelope_for(link, use_dsse=params["use_dsse"])
        keyid = metadata.sign(signer)
        out = Path(params["metadata_directory"] or ".") / link_filename(link.name or "", keyid)
        write_metadata(out, metadata)
    except Exception as exc:
        _fail("in-toto-run", exc)
    code = link.byproducts.get("return-value")
    sys.exit(code if isinstance(code, int) and code else 0)


@intoto.group(
    "record",
    cls=ReferenceGroup,
    context_settings=_CONTEXT,
    short_help="Record a step in two parts (in-toto-record).",
)
def record() -> None:
    """Record a step in two parts: 'start' (materials) and 'stop' (products) (in-toto-record)."""


@record.command("start", cls=ReferenceCommand, context_settings=_CONTEXT)
@_step_name
@click.option(
    "-m",
    "--materials",
    cls=MultiOption,
    metavar="<path>...",
    help="Files or directories recorded as the step's materials.",
)
@_record_options
def record_start(**params: Any) -> None:
    """Record materials and write a signed, unfinished link."""
    from tufkit.intoto import record_start as start

    _setup_logging(params["verbose"], params["quiet"])
    _check_one_signer(params)
    try:
        signer = _signer(
            params["signing_key"], params["gpg"], params["gpg_home"], params["password"]
        )
        start(
            params["step_name"],
            signer,
            params["materials"],
            options=_record_settings(params),
            use_dsse=params["use_dsse"],
        )
    except Exception as exc:
        _fail("in-toto-record", exc)
    sys.exit(0)


@record.command("stop", cls=ReferenceCommand, context_settings=_CONTEXT)
@_step_name
@click.option(
    "-p",
    "--products",
    cls=MultiOption,
    metavar="<path>...",
    help="Files or directories recorded as the step's products.",
)
@click.option(
    "-d",
    "--metadata-directory",
    metavar="<directory>",
    help="Directory to write the finished link to (default: the current one).",
)
@_record_options
def record_stop(**params: Any) -> None:
    """Record products, finish the link that 'start' began, sign and write it."""
    from tufkit.intoto import record_stop as stop

    _setup_logging(params["verbose"], params["quiet"])
    _check_one_signer(params)
    try:
        signer = _signer(
            params["signing_key"], params["gpg"], params["gpg_home"], params["password"]
        )
        stop(
            params["step_name"],
            signer,
            params["products"],
            options=_record_settings(params),
            metadata_directory=params["metadata_directory"],
        )
    except Exception as exc:
        _fail("in-toto-record", exc)
    sys.exit(0)


@intoto.command("sign", cls=ReferenceCommand, context_settings=_CONTEXT)
@click.option(
    "-f",
    "--file",
    "path",
    required=True,
    metavar="<path>",
    help="The link or layout file to sign or verify.",
)
@click.option(
    "-k",
    "--key",
    "keys",
    cls=MultiOption,
    metavar="<path>...",
    help="PEM private keys to sign with, or PEM public keys to --verify with.",
)
@click.option("-p", "--prompt", is_flag=True, help="Ask for the private key passphrase.")
@click.option(
    "-g",
    "--gpg",
    cls=MultiOption,
    allow_empty=True,
    metavar="[<id>...]",
    help="gpg keys to sign or --verify with (signing: the default key if no id is given).",
)
@click.option("--gpg-home", metavar="<path>", help="gpg home directory for --gpg.")
@click.option(
    "-o",
    "--output",
    metavar="<path>",
    help="Where to write the signed file (default: a layout in place, a link as "
    "<name>.<keyid prefix>.link).",
)
@click.option(
    "-a", "--append", is_flag=True, help="Add signatures to a layout's instead of replacing them."
)
@click.option(
    "--verify", is_flag=True, help="Check the file's signatures with --key or --gpg instead."
)
@_verbosity
def sign(**params: Any) -> None:
    """Sign a link or layout, or check its signatures (in-toto-sign)."""
    from tufkit.intoto import Link, read_metadata

    _setup_logging(params["verbose"], params["quiet"])
    gpg = params["gpg"]
    if params["verify"] and (params["append"] or params["output"]):
        _usage("don't combine --verify with --append or --output")
    if bool(params["keys"]) == bool(gpg):
        _usage("specify either '--key <path> ...' or '--gpg [<id> ...]'")
    gpg_ids = [g for g in gpg if g != ASKED]
    try:
        metadata = read_metadata(params["path"])
        is_link = isinstance(metadata.payload(), Link)
    except Exception as exc:
        _fail("in-toto-sign", exc, 2)
    if is_link and (len(params["keys"]) > 1 or len(gpg_ids) > 1):
        _usage("a link is signed by exactly one functionary; give one key")
    if is_link and params["append"]:
        _usage("signatures cannot be appended to a link")
    if params["verify"] and gpg and not gpg_ids:
        _usage("give the gpg key ids to verify with: '--gpg <id> ...'")
    if params["verify"]:
        _verify_file(metadata, params["keys"], gpg_ids if gpg else None, params["gpg_home"])
    _sign_file(metadata, params, gpg_ids if gpg else None, is_link)


def _verify_file(
    metadata: Any, key_paths: tuple[str, ...], gpg_ids: list[str] | None, gpg_home: str | None
) -> NoReturn:
    from tufkit.intoto import GpgKeyExpiredError, SignatureVerificationError

    try:
        keys = _public_keys(key_paths, gpg_ids, gpg_home)
        for keyid, key_dict in keys.items():
            metadata.verify_signature(keyid, key_dict)
    except GpgKeyExpiredError as exc:  # not a verification failure in in-toto-sign either
        _fail("in-toto-sign", exc, 2)
    except SignatureVerificationError as exc:
        _fail("in-toto-sign", exc, 1)
    except Exception as exc:
        _fail("in-toto-sign", exc, 2)
    sys.exit(0)


def _public_keys(
    key_paths: tuple[str, ...], gpg_ids: list[str] | None, gpg_home: str | None
) -> dict[str, dict[str, Any]]:
    from tufkit.intoto import export_gpg_keys, key_to_layout_dict, load_public_key_pem

    keys: dict[str, dict[str, Any]] = {}
    if gpg_ids:
        keys.update(export_gpg_keys(gpg_ids, homedir=gpg_home))
    for path in key_paths:
        key = load_public_key_pem(Path(path).read_bytes(), what=path)
        keys[key.keyid] = key_to_layout_dict(key)
    return keys


def _sign_file(
    metadata: Any, params: dict[str, Any], gpg_ids: list[str] | None, is_link: bool
) -> NoReturn:
    from tufkit.intoto import (
        GpgSigner,
        link_filename,
        load_private_key_file,
        sign_metadata,
        write_metadata,
    )

    try:
        signers: list[Any]
        if gpg_ids is not None:
            ids: list[str | None] = [*gpg_ids] or [None]  # None: the default key
            signers = [GpgSigner(keyid, params["gpg_home"]) for keyid in ids]
        else:
            password = None
            if params["prompt"]:
                password = click.prompt(
                    "Passphrase", hide_input=True, default="", show_default=False, err=True
                ).encode()
            signers = [load_private_key_file(path, password) for path in params["keys"]]
        keyids = sign_metadata(metadata, signers, append=params["append"])
        out = params["output"]
        if not out:
            out = link_filename(metadata.payload().name, keyids[-1]) if is_link else params["path"]
        write_metadata(out, metadata)
    except Exception as exc:
        _fail("in-toto-sign", exc, 2)
    sys.exit(0)


@intoto.command(
    "verify",
    cls=ReferenceCommand,
    context_settings=_CONTEXT,
    short_help="Verify a final product against a layout (in-toto-verify).",
)
@click.option(
    "-l",
    "--layout",
    required=True,
    metavar="<path>",
    help="The root layout file to verify the supply chain against.",
)
@click.option(
    "--verification-keys",
    cls=MultiOption,
    metavar="<path>...",
    help="PEM public keys, each of which must have signed the layout.",
)
@click.option(
    "-g",
    "--gpg",
    cls=MultiOption,
    metavar="<id>...",
    help="gpg keys (from --gpg-home), each of which must have signed the layout.",
)
@click.option("--gpg-home", metavar="<path>", help="gpg home directory for --gpg.")
@click.option(
    "--link-dir",
    default=".",
    show_default=True,
    metavar="<path>",
    help="Directory holding the link files.",
)
@click.option(
    "--inspection-timeout",
    type=int,
    default=10,
    show_default=True,
    metavar="<seconds>",
    help="Seconds each inspection command may run.",
)
@click.option(
    "--inspect-in-copy",
    is_flag=True,
    help="Run inspections in a temporary copy of the working directory instead of in it.",
)
@_verbosity
def verify(**params: Any) -> None:
    """Verify a final product against a layout and its links (in-toto-verify)."""
    from tufkit.intoto import (
        TemporaryCopyInspectionRunner,
        VerifyOptions,
        read_metadata,
        verify_layout,
    )

    _setup_logging(params["verbose"], params["quiet"])
    if not (params["gpg"] or params["verification_keys"]):
        _usage("specify at least one layout key: --verification-keys <path>... or --gpg <id>...")
    runner = TemporaryCopyInspectionRunner() if params["inspect_in_copy"] else None
    reporter = _print_event if params["verbose"] else None
    try:
        layout = read_metadata(params["layout"])
        keys = _public_keys(
            params["verification_keys"], list(params["gpg"]) or None, params["gpg_home"]
        )
        options = VerifyOptions(
            link_dir=params["link_dir"],
            inspection_timeout=params["inspection_timeout"],
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
    for line in event.lines():
        click.echo(printable(line), err=True)


def _layout_signer(key_path: str, passphrase_env: str | None) -> Any:
    """Load a signing key, asking for its passphrase on a terminal if it is encrypted."""
    import os

    from tufkit.cli._io import prompt_passphrase
    from tufkit.errors import ConfigError
    from tufkit.intoto import load_private_key_file

    password: str | None = None
    if passphrase_env:
        password = os.environ.get(passphrase_env)
        if not password:
            raise ConfigError(f"environment variable {passphrase_env} is unset or empty")
    elif b"ENCRYPTED" in Path(key_path).read_bytes():
        if not sys.stdin.isatty():
            raise ConfigError(
                f"{key_path} is encrypted: give --passphrase-env NAME, or run on a terminal "
                "to be asked for the passphrase"
            )
        password = prompt_passphrase(printable(key_path))
    return load_private_key_file(key_path, password.encode() if password else None)


@intoto.command(
    "layout",
    cls=ReferenceCommand,
    context_settings=_CONTEXT,
    short_help="Build, check and sign a layout from a TOML description.",
)
@click.argument("description", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--signing-key",
    "signing_keys",
    multiple=True,
    required=True,
    metavar="<path>",
    help="PEM private key to sign the layout with (repeat for several).",
)
@click.option(
    "--passphrase-env",
    metavar="NAME",
    help="Read the key passphrases from this environment variable (else: asked on a "
    "terminal for an encrypted key).",
)
@click.option(
    "-o",
    "--output",
    default="root.layout",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The layout file to write.",
)
@click.option("--use-dsse", is_flag=True, help="Write a DSSE envelope instead of a Metablock.")
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
def layout(
    description: Path,
    signing_keys: tuple[str, ...],
    passphrase_env: str | None,
    output: Path,
    use_dsse: bool,
    force: bool,
) -> None:
    """Build a layout from a TOML DESCRIPTION, check it strictly, sign it (docs/intoto.md)."""
    from tufkit.errors import Error

    try:
        built, warning = _build_layout(
            description,
            signing_keys,
            passphrase_env=passphrase_env,
            output=output,
            use_dsse=use_dsse,
            force=force,
        )
    except (Error, OSError) as exc:
        click.echo(printable(f"error: {_error_text(exc)}", keep_newlines=True), err=True)
        sys.exit(1)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        printable(f"wrote {output}: {len(built.steps)} steps, {len(built.inspect)} inspections")
    )


def _build_layout(
    description: Path,
    signing_keys: tuple[str, ...],
    *,
    passphrase_env: str | None,
    output: Path,
    use_dsse: bool,
    force: bool,
) -> tuple[Any, str | None]:
    """Build, sign and write the layout; return it and a warning about its expiry, if any.

    Raises:
        ConfigError: the output exists (without *force*), a bad description or key.
        OSError: a file cannot be read or written.
    """
    import os
    from datetime import UTC, datetime

    from tufkit.errors import ConfigError
    from tufkit.intoto import (
        DsseEnvelope,
        Metablock,
        expiry_warning,
        layout_from_description,
        write_metadata,
    )

    if os.path.lexists(output) and not force:
        raise ConfigError(f"{output} exists; pass --force to replace it")
    try:
        text = description.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"layout description {description} is not UTF-8 text") from exc
    now = datetime.now(UTC)
    built = layout_from_description(text, base_dir=description.parent, now=now)
    metadata = DsseEnvelope.from_payload(built) if use_dsse else Metablock(built)
    for key_path in signing_keys:
        metadata.sign(_layout_signer(key_path, passphrase_env))
    write_metadata(output, metadata)
    return built, expiry_warning(built, now)
