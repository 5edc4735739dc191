"""``tufkit repo``: create, sign and publish a TUF repository from the command line.

A thin layer over :mod:`tufkit.repository`. A repository is a directory: ``metadata/`` and
``targets/`` (what a web server serves), ``.tufkit/`` (journal and staged roles, never served),
``keys/`` (keys that ``init`` and ``delegate`` generate, mode 0600) and ``tufkit-repo.toml`` (the
configuration: thresholds, expiry, online roles and their signer URIs, bins; never private keys).

Every command that changes metadata publishes at its end (or, with ``--stage``, stages the roles
it changed for offline keyholders): edits never wait unsigned between two commands. Signers are
loaded only for the roles being signed, so an offline key's passphrase is asked for only when that
role changes. Everything read from metadata is printed through
:func:`~tufkit.cli._output.printable`; ``--json`` prints one JSON document, failures included,
in the shape ``tufkit client`` uses.
"""

from __future__ import annotations

import csv
import glob
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import click

from tufkit.cli._io import prompt_passphrase, write_private_file
from tufkit.cli._output import echo, echo_json, printable
from tufkit.errors import ConfigError

if TYPE_CHECKING:
    from tufkit.crypto import Key, Signer
    from tufkit.metadata import TargetFile
    from tufkit.repository import FilesystemStorage, Repository
    from tufkit.repository._config import RepositoryConfig

__all__ = ["repo"]

_TOP_LEVEL = ("root", "targets", "snapshot", "timestamp")
_PROGRESS_FROM = 64  # files: fewer show no progress bar
_BATCH = 256  # files hashed per progress step

F = TypeVar("F", bound=Callable[..., Any])


# -- shared options and output -----------------------------------------------------------------


class _Out:
    """Where a command's results go: JSON, human lines, or (``-q``) nothing but failures."""

    def __init__(self, as_json: bool, verbose: int, quiet: bool) -> None:
        self.as_json = as_json
        self.quiet = quiet
        level = logging.WARNING - 10 * verbose if not quiet else logging.ERROR
        logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s: %(message)s")
        logging.getLogger().setLevel(max(level, logging.DEBUG))

    def say(self, text: str) -> None:
        """A human line (fields from metadata already escaped)."""
        if not self.as_json and not self.quiet:
            echo(text)

    def note(self, text: str) -> None:
        """A remark on standard error (kept out of ``--json`` output)."""
        if not self.quiet:
            echo(text, err=True)

    def result(self, value: dict[str, Any]) -> None:
        """The command's result under ``--json``."""
        if self.as_json:
            echo_json(value)


#: ``--key-type`` of the verbs that generate keys (``init``, ``delegate --generate``).
_key_type_option = click.option(
    "--key-type",
    type=click.Choice(["ed25519", "ecdsa", "rsa"]),
    default="ed25519",
    show_default=True,
    help="Type of generated keys.",
)


def _common(func: F) -> F:
    """``--repo``, ``--json``, ``-v`` and ``-q``, which every verb takes."""
    options = [
        click.option(
            "--repo",
            "repo_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path(),
            envvar="TUFKIT_REPO",
            show_default=True,
            help="The repository directory (or $TUFKIT_REPO).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON, failures included."),
        click.option("-v", "--verbose", count=True, help="Say more (repeat for debug output)."),
        click.option("-q", "--quiet", is_flag=True, help="Print nothing but failures."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _role_value(text: str, what: str) -> tuple[str, str]:
    role, sep, value = text.partition("=")
    if not sep or not role or not value:
        raise click.UsageError(f"{what} takes ROLE=VALUE, not {printable(text)!r}")
    return role, value


def _positive(text: str, what: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise click.UsageError(f"{what}: {printable(text)!r} is not a positive integer")
    return number


# -- signers, keys and the configuration -------------------------------------------------------


def _as_uri(text: str) -> str:
    """A signer URI from what a user typed: a URI, or a key file's path (made absolute)."""
    scheme, sep, _ = text.partition(":")
    if sep and scheme in ("file", "env", "pkcs11", "hsm") and not Path(text).exists():
        return text
    return f"file:{quote(str(Path(text).resolve()))}"  # the file: scheme unquotes its path


def _resolve_uri(uri: str, base: Path) -> str:
    """*uri* with a relative ``file:`` path taken relative to the repository directory."""
    if uri.startswith("file:") and not uri.startswith(("file:/", "file://")):
        return f"file:{quote(str(base.resolve()))}/{uri[5:]}"
    return uri


def _signer(uri: str, base: Path, public_key: Key | None = None) -> Signer:
    from tufkit.crypto import signer_from_uri

    try:
        return signer_from_uri(_resolve_uri(uri, base), public_key, prompt=prompt_passphrase)
    except ConfigError as exc:
        raise ConfigError(f"signer {uri}: {exc}") from exc


def _public_key_file(path: str) -> Key:
    """A public key from the JSON ``tufkit key generate`` / ``key show`` print."""
    import json

    from tufkit.crypto import Key
    from tufkit.errors import Error

    try:
        with open(path, "rb") as handle:
            doc = json.loads(handle.read(64 * 1024))
        key = Key.from_dict(str(doc["keyid"]), doc["key"])
    except OSError as exc:
        raise ConfigError(f"cannot read public key file {path}: {exc.strerror or exc}") from exc
    except (ValueError, KeyError, TypeError, Error) as exc:
        raise ConfigError(
            f"{path} is not a public key as `tufkit key show` prints it: {exc}"
        ) from exc
    if key.compute_keyid() != key.keyid:
        key = Key.from_public(key.keytype, key.scheme, key.public)
    return key


def _passphrase_for_new_keys(passphrase_env: str | None, no_encrypt: bool) -> bytes | None:
    if no_encrypt and passphrase_env:
        raise click.UsageError("--no-encrypt and --passphrase-env contradict each other")
    if no_encrypt:
        return None
    if passphrase_env:
        value = os.environ.get(passphrase_env)
        if not value:
            raise ConfigError(f"environment variable {passphrase_env} is unset or empty")
        return value.encode()
    value = prompt_passphrase("the new keys", confirm=True)
    if not value:
        raise ConfigError("an empty passphrase cannot encrypt a key; use --no-encrypt")
    return value.encode()


def _new_key(
    repo_dir: Path, name: str, password: bytes | None, passphrase_env: str | None, keytype: str
) -> tuple[Signer, str]:
    """Generate a key into ``keys/NAME.pem``; return it and its URI relative to the repo."""
    from tufkit.crypto import generate

    keys = repo_dir / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    signer = generate(keytype)
    write_private_file(keys / f"{name}.pem", signer.private_pem(password))
    uri = f"file:keys/{name}.pem"
    if password is not None and passphrase_env:
        uri += f"?passphrase-env={passphrase_env}"
    return signer, uri


def _config_path(repo_dir: Path) -> Path:
    from tufkit.repository._config import CONFIG_FILENAME

    return repo_dir / CONFIG_FILENAME


def _load_config(repo_dir: Path) -> RepositoryConfig:
    from tufkit.repository._config import RepositoryConfig

    path = _config_path(repo_dir)
    if not path.exists():
        raise ConfigError(f"no repository configuration at {path}; run `tufkit repo init` first")
    return RepositoryConfig.load(path)


def _storage(repo_dir: Path, *, hide_staged: bool = False) -> FilesystemStorage:
    from tufkit.repository import FilesystemStorage

    if not (repo_dir / "metadata").is_dir():
        raise ConfigError(f"no repository at {repo_dir} (no metadata/ directory)")
    if hide_staged:

        class _Unstaged(FilesystemStorage):
            """Leaves staged roles alone: a cron job's bump does not touch a ceremony."""

            def read_staged(self) -> dict[str, bytes]:
                return {}

        return _Unstaged(repo_dir)
    return FilesystemStorage(repo_dir)


def _open(repo_dir: Path, *, hide_staged: bool = False) -> tuple[Repository, RepositoryConfig]:
    from tufkit.repository import Repository

    config = _load_config(repo_dir)
    storage = _storage(repo_dir, hide_staged=hide_staged)
    return Repository.open(storage, policy=config.expiry), config


def _roles_to_sign(repo: Repository) -> list[str]:
    """The roles the next publish signs: pending edits, snapshot, timestamp, and roles a
    pending edit delegates to that do not exist yet (created empty by the publish)."""
    roles = [*repo.pending, "snapshot", "timestamp"]
    for role in repo.pending:
        if role in ("root", "snapshot", "timestamp"):
            continue
        delegations = repo.targets(role).signed.delegations
        if delegations is None:
            continue
        if delegations.succinct_roles is not None:
            roles.append(next(iter(delegations.succinct_roles.get_roles())))  # one for all bins
        else:
            roles += [r for r in delegations.roles or {} if not repo.published_version(r)]
    return list(dict.fromkeys(roles))


def _load_signers(repo: Repository, config: RepositoryConfig, repo_dir: Path) -> None:
    """Give *repo* the configured signers of every role the next publish signs."""
    loaded: set[str] = set()
    for role in _roles_to_sign(repo):
        entry = config.role(role)
        for uri in entry.signers if entry is not None else ():
            if uri not in loaded:
                loaded.add(uri)
                repo.add_signer(_signer(uri, repo_dir))


def _finish(
    out: _Out, repo: Repository, config: RepositoryConfig, repo_dir: Path, *, stage: bool
) -> dict[str, Any]:
    """Publish the pending edits (or stage them); say what happened; return it for JSON."""
    if stage:
        roles = [r for r in repo.pending if r not in ("snapshot", "timestamp")]
        if not roles:
            raise ConfigError("nothing changed: no role to stage")
        _load_signers(repo, config, repo_dir)
        repo.stage(*roles)
        return _staged_report(out, repo, repo_dir, roles)
    _load_signers(repo, config, repo_dir)
    files = repo.publish()
    if files:
        out.say(f"published {len(files)} metadata files: {printable(', '.join(files[-3:]))}")
    else:
        out.say("nothing to publish")
    return {"published": files}


def _staged_report(
    out: _Out, repo: Repository, repo_dir: Path, roles: Iterable[str]
) -> dict[str, Any]:
    wanted = set(roles)
    report = [_staged_entry(s, repo_dir) for s in repo.staged() if s.role in wanted]
    for entry in report:
        out.say(f"staged {printable(entry['role'])} v{entry['version']}: {entry['file']}")
        _say_thresholds(out, entry)
    return {"staged": report}


def _staged_entry(staged: Any, repo_dir: Path) -> dict[str, Any]:
    path = repo_dir / ".tufkit" / "staged" / f"{staged.role}.json"
    return {
        "role": staged.role,
        "version": staged.metadata.signed.version,
        "file": str(path),
        "complete": staged.complete,
        "thresholds": [
            {
                "by": status.by,
                "threshold": status.threshold,
                "signed": list(status.signed),
                "missing": list(status.missing),
                "met": status.met,
            }
            for status in staged.status()
        ],
    }


def _say_thresholds(out: _Out, entry: dict[str, Any]) -> None:
    for t in entry["thresholds"]:
        state = "met" if t["met"] else "NOT met"
        signed = ", ".join(printable(k[:16]) for k in t["signed"]) or "nobody"
        missing = ", ".join(printable(k[:16]) for k in t["missing"]) or "none"
        out.say(
            f"  {printable(t['by'])}: {len(t['signed'])} of {t['threshold']} needed ({state});"
            f" signed: {signed}; may still sign: {missing}"
        )


# -- the group ---------------------------------------------------------------------------------


@click.group()
def repo() -> None:
    """Create, sign and publish a TUF repository.

    \b
    A first repository, served for a client on this machine:
      tufkit repo init --repo my-repo --no-encrypt --bins 4
      tufkit repo add --repo my-repo --base dist dist/
      tufkit repo serve --repo my-repo
      tufkit client init --bootstrap my-repo/metadata/1.root.json \\
          --metadata-url http://127.0.0.1:8000/metadata/ \\
          --target-base-url http://127.0.0.1:8000/targets/

    \b
    A cron job keeping the online roles fresh:
      TUFKIT_ONLINE_PASSPHRASE=... tufkit repo bump --repo /srv/repo

    Every verb takes --repo (or $TUFKIT_REPO), --json, -v and -q. Exit codes: 0 done, 1 the
    operation failed, 2 a usage error.
    """


# -- init --------------------------------------------------------------------------------------


@repo.command()
@_common
@click.option("--key", "keys", multiple=True, metavar="ROLE=URI", help="Use an existing key.")
@click.option(
    "--sign-once",
    multiple=True,
    metavar="ROLE=URI",
    help="A key that signs version 1 only and is not written to the configuration.",
)
@click.option("--public-key", multiple=True, metavar="ROLE=FILE", help="A keyholder's public key.")
@click.option("--threshold", multiple=True, metavar="ROLE=N", help="Signatures a role needs.")
@click.option("--expires", multiple=True, metavar="ROLE=DAYS", help="Lifetime of new versions.")
@click.option("--online", multiple=True, metavar="ROLE", help="Also sign ROLE online.")
@click.option(
    "--bins",
    "bins_bits",
    type=click.IntRange(1, 32),
    default=None,
    metavar="BITS",
    help="2**BITS succinct hashed bins (TAP 15), signed online by a new key.",
)
@click.option("--bins-prefix", default="bin", show_default=True, help="Name prefix of the bins.")
@_key_type_option
@click.option("--passphrase-env", metavar="NAME", help="Encrypt new keys with $NAME.")
@click.option("--no-encrypt", is_flag=True, help="Write new keys unencrypted.")
def init(
    repo_dir: Path,
    as_json: bool,
    verbose: int,
    quiet: bool,
    keys: tuple[str, ...],
    sign_once: tuple[str, ...],
    public_key: tuple[str, ...],
    threshold: tuple[str, ...],
    expires: tuple[str, ...],
    online: tuple[str, ...],
    bins_bits: int | None,
    bins_prefix: str,
    key_type: str,
    passphrase_env: str | None,
    no_encrypt: bool,
) -> None:
    """Create a repository: keys, thresholds, expiry, online roles, optional hashed bins.

    Roles without a --key, --sign-once or --public-key get new keys in REPO/keys/ (one per
    needed signature). Snapshot and timestamp are online (signed unattended); --online
    targets makes targets online too.

    \b
    Everything generated, keys encrypted with a passphrase from the environment:
      TUFKIT_KEY_PASSPHRASE=... tufkit repo init --repo r --passphrase-env TUFKIT_KEY_PASSPHRASE
    \b
    Existing root keys, 2-of-3 targets by three keyholders, 256 hashed bins:
      tufkit repo init --repo r --key root=keys/root.pem \\
          --sign-once targets=/media/alice/t.pem --sign-once targets=/media/bob/t.pem \\
          --public-key targets=carol.pem.pub.json --threshold targets=2 \\
          --expires targets=30 --bins 8 --no-encrypt
    """
    out = _Out(as_json, verbose, quiet)
    roles_online = {"snapshot", "timestamp", *online}
    thresholds = dict.fromkeys(_TOP_LEVEL, 1)
    for text in threshold:
        role, value = _role_value(text, "--threshold")
        thresholds[_top_level(role, "--threshold")] = _positive(value, "--threshold")
    for role in online:
        _top_level(role, "--online")
    lifetimes: dict[str, timedelta] = {}
    for text in expires:
        role, value = _role_value(text, "--expires")
        if role not in (*_TOP_LEVEL, "delegated"):
            raise click.UsageError(f"--expires: {printable(role)!r} is not a top-level role")
        lifetimes[role] = timedelta(days=_positive(value, "--expires"))
    if _config_path(repo_dir).exists() or (repo_dir / "metadata" / "root.json").exists():
        raise ConfigError(f"{repo_dir} already holds a repository")

    given: dict[str, list[tuple[Key, Signer | None, str | None]]] = {r: [] for r in _TOP_LEVEL}
    for option, items in (("--key", keys), ("--sign-once", sign_once)):
        for text in items:
            role, value = _role_value(text, option)
            uri = _as_uri(value)
            signer = _signer(uri, Path())
            keep = uri if option == "--key" else None
            given[_top_level(role, option)].append((signer.public_key, signer, keep))
    for text in public_key:
        role, value = _role_value(text, "--public-key")
        given[_top_level(role, "--public-key")].append((_public_key_file(value), None, None))

    for role in _TOP_LEVEL:
        if given[role] and len({k.keyid for k, _, _ in given[role]}) < thresholds[role]:
            raise ConfigError(
                f"{role} has threshold {thresholds[role]} but only {len(given[role])} keys"
            )
    to_generate = {r: thresholds[r] for r in _TOP_LEVEL if not given[r]}
    if bins_bits is not None:
        to_generate["bins"] = 1
    password = None
    if to_generate:
        password = _passphrase_for_new_keys(passphrase_env, no_encrypt)
    repo_dir.mkdir(parents=True, exist_ok=True)
    generated: dict[str, list[tuple[Signer, str]]] = {}
    try:
        _create(
            out, repo_dir, given, generated, to_generate, thresholds, roles_online, lifetimes,
            bins_bits, bins_prefix, key_type, password, passphrase_env,
        )  # fmt: skip
    except BaseException:
        for signers in generated.values():  # a second init must not trip over them
            for _, uri in signers:
                (repo_dir / uri[5:].partition("?")[0]).unlink(missing_ok=True)
        raise


def _create(
    out: _Out,
    repo_dir: Path,
    given: dict[str, list[tuple[Key, Signer | None, str | None]]],
    generated: dict[str, list[tuple[Signer, str]]],
    to_generate: dict[str, int],
    thresholds: dict[str, int],
    roles_online: set[str],
    lifetimes: dict[str, timedelta],
    bins_bits: int | None,
    bins_prefix: str,
    key_type: str,
    password: bytes | None,
    passphrase_env: str | None,
) -> None:
    """Generate the missing keys (into *generated*), create and publish, save the config."""
    from tufkit.metadata import Role, Root
    from tufkit.repository import FilesystemStorage, Repository, succinct_bins
    from tufkit.repository._config import BinsConfig, RepositoryConfig, RoleConfig

    for role, count in to_generate.items():
        names = [role] if count == 1 else [f"{role}-{i}" for i in range(1, count + 1)]
        generated[role] = []
        for name in names:
            generated[role].append(_new_key(repo_dir, name, password, passphrase_env, key_type))
        for signer, uri in generated[role]:
            if role != "bins":
                given[role].append((signer.public_key, signer, uri))

    root = Root(roles={r: Role([], thresholds[r]) for r in _TOP_LEVEL})
    signers: list[Signer] = []
    role_configs: dict[str, RoleConfig] = {}
    for role in _TOP_LEVEL:
        if len({k.keyid for k, _, _ in given[role]}) < thresholds[role]:
            raise ConfigError(
                f"{role} has threshold {thresholds[role]} but only {len(given[role])} keys"
            )
        for key, held, _ in given[role]:
            root.add_key(key, role)
            if held is not None:
                signers.append(held)
        uris = tuple(dict.fromkeys(u for _, _, u in given[role] if u is not None))
        role_configs[role] = RoleConfig(thresholds[role], role in roles_online, uris)
    policy = replace(RepositoryConfig().expiry, **lifetimes)  # type: ignore[arg-type]
    bins: tuple[BinsConfig, ...] = ()
    if bins_bits is not None:
        bins_signer, bins_uri = generated["bins"][0]
        role_configs[bins_prefix] = RoleConfig(1, True, (bins_uri,))
        bins = (BinsConfig("targets", bins_prefix, bins_bits),)
        signers.append(bins_signer)
    config = RepositoryConfig(policy, role_configs, bins)

    storage = FilesystemStorage(repo_dir)
    repository = Repository.create(storage, root, signers=signers, policy=policy)
    if bins_bits is not None:
        with repository.edit_targets() as targets:
            targets.delegations = succinct_bins(
                [generated["bins"][0][0].public_key], bit_length=bins_bits, name_prefix=bins_prefix
            )
        repository.publish()
    config.save(_config_path(repo_dir))
    out.say(f"created a repository in {printable(str(repo_dir))}")
    out.say(f"  clients bootstrap from {printable(str(repo_dir / 'metadata' / '1.root.json'))}")
    for role in _TOP_LEVEL:
        state = "online" if role in roles_online else "offline"
        out.say(f"  {role}: threshold {thresholds[role]}, {state}")
    if bins_bits is not None:
        out.say(f"  {2**bins_bits} hashed bins {printable(bins_prefix)}-* below targets")
    out.result(
        {
            "repository": str(repo_dir),
            "bootstrap": str(repo_dir / "metadata" / "1.root.json"),
            "config": str(_config_path(repo_dir)),
            "roles": {
                r: {
                    "threshold": thresholds[r],
                    "online": r in roles_online,
                    "keyids": _ids(root, r),
                }
                for r in _TOP_LEVEL
            },
        }
    )


def _ids(root: Any, role: str) -> list[str]:
    ids: list[str] = root.roles[role].keyids
    return ids


def _top_level(role: str, option: str) -> str:
    if role not in _TOP_LEVEL:
        raise click.UsageError(
            f"{option}: {printable(role)!r} is not a top-level role ({', '.join(_TOP_LEVEL)})"
        )
    return role


# -- add / remove ------------------------------------------------------------------------------


def _expand(arguments: Iterable[str]) -> Iterator[Path]:
    """Files named by *arguments*: files, directories (walked), and glob patterns."""
    for argument in arguments:
        path = Path(argument)
        if path.is_file():
            yield path
        elif path.is_dir():
            for directory, dirnames, filenames in os.walk(path):
                dirnames.sort()
                for name in sorted(filenames):
                    yield Path(directory) / name
        elif glob.has_magic(argument):
            matches = sorted(glob.glob(argument, recursive=True))
            if not matches:
                raise ConfigError(f"{printable(argument)!r} matches no file")
            yield from _expand(m for m in matches if not Path(m).is_dir())
        else:
            raise ConfigError(f"{printable(argument)!r}: no such file or directory")


def _target_path(local: Path, base: Path, prefix: str) -> str:
    """The target path of *local*: its path below *base*, after *prefix*."""
    from tufkit.repository import check_target_path

    relative = os.path.relpath(os.path.abspath(local), os.path.abspath(base))
    real = os.path.relpath(os.path.realpath(local), os.path.realpath(base))
    for where in (relative, real):
        if where == ".." or where.startswith(f"..{os.sep}") or os.path.isabs(where):
            raise ConfigError(
                f"{printable(str(local))!r} is (or links to a file) outside --base "
                f"{printable(str(base))!r}: only files below it can be published"
            )
    return check_target_path(prefix + relative.replace(os.sep, "/"))


def _read_manifest(path: Path) -> list[TargetFile]:
    """Target entries from a manifest: one ``path,length,ALG:HEX[,ALG:HEX...]`` per line."""
    import re

    from tufkit.metadata import HASH_ALGORITHMS, TargetFile
    from tufkit.repository import check_target_path

    entries = []
    hexdigits = re.compile(r"[0-9a-f]{32,128}")
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row or row[0].startswith("#"):
                    continue
                where = f"{path}:{number}"
                if len(row) < 3:
                    raise ConfigError(f"{where}: expected path,length,ALG:HEX[,ALG:HEX...]")
                target = check_target_path(row[0])
                if not row[1].isdigit():
                    raise ConfigError(f"{where}: length {printable(row[1][:40])!r} is not a number")
                hashes = {}
                for item in row[2:]:
                    alg, _, digest = item.partition(":")
                    if alg not in HASH_ALGORITHMS or not hexdigits.fullmatch(digest):
                        raise ConfigError(
                            f"{where}: {printable(item[:80])!r} is not ALG:HEX "
                            f"(ALG one of {', '.join(sorted(HASH_ALGORITHMS))}, lowercase hex)"
                        )
                    hashes[alg] = digest
                entries.append(TargetFile(int(row[1]), hashes, target))
    except OSError as exc:
        raise ConfigError(f"cannot read manifest {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"manifest {path} is not UTF-8 text") from exc
    except (csv.Error, ValueError) as exc:
        raise ConfigError(f"manifest {path}: {exc}") from exc
    return entries


def _no_duplicates(paths: Iterable[str]) -> None:
    seen: set[str] = set()
    for path in paths:
        if path in seen:
            raise ConfigError(f"target path {printable(path[:80])!r} is given twice")
        seen.add(path)


def _stage_option(func: F) -> F:
    return click.option(
        "--stage", is_flag=True, help="Stage the changed roles for keyholders instead."
    )(func)


@repo.command()
@_common
@click.argument("files", nargs=-1)
@click.option(
    "--base",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Target paths are file paths relative to this directory.",
)
@click.option("--prefix", default="", help="Put this before every target path (e.g. 'app/').")
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Targets by path,length,ALG:HEX lines (no content needed).",
)
@click.option("--role", default=None, help="List the targets in ROLE (default: by delegations).")
@click.option(
    "--hash",
    "hashes",
    multiple=True,
    default=("sha256",),
    show_default=True,
    help="Hash algorithm to list (repeat for several).",
)
@_stage_option
def add(
    repo_dir: Path,
    as_json: bool,
    verbose: int,
    quiet: bool,
    files: tuple[str, ...],
    base: Path,
    prefix: str,
    manifest: Path | None,
    role: str | None,
    hashes: tuple[str, ...],
    stage: bool,
) -> None:
    """Add (or update) targets from files, directories, globs or a manifest, then publish.

    Each file's target path is its path below --base. A manifest lists targets whose content is
    published elsewhere, one `path,length,ALG:HEX[,ALG:HEX...]` per line.

    \b
      tufkit repo add --repo r --base dist dist/          # every file below dist/
      tufkit repo add --repo r --prefix app/ 'build/*.whl'
      tufkit repo add --repo r --manifest targets.csv     # app/a.tar.gz,1024,sha256:9f86...
    """
    out = _Out(as_json, verbose, quiet)
    if not files and manifest is None:
        raise click.UsageError("give FILES, directories or globs, or --manifest")
    pairs = [(_target_path(p, base, prefix), p) for p in _expand(files)]
    listed = _read_manifest(manifest) if manifest is not None else []
    _no_duplicates([t for t, _ in pairs] + [t.path for t in listed])
    repository, config = _open(repo_dir)
    added = 0
    total = sum(p.stat().st_size for _, p in pairs)
    show_bar = len(pairs) >= _PROGRESS_FROM and sys.stderr.isatty() and not (quiet or as_json)
    with _progress(show_bar, total) as advance:
        for start in range(0, len(pairs), _BATCH):
            batch = pairs[start : start + _BATCH]
            repository.add_targets([(t, str(p)) for t, p in batch], role=role, algorithms=hashes)
            advance(sum(p.stat().st_size for _, p in batch))
            added += len(batch)
    if listed:
        repository.list_targets(listed, role=role)
    out.say(f"added {added + len(listed)} targets")
    result = _finish(out, repository, config, repo_dir, stage=stage)
    out.result({"added": [t for t, _ in pairs] + [t.path for t in listed], **result})


def _progress(show: bool, total: int) -> Any:
    from contextlib import nullcontext

    if not show:
        return nullcontext(lambda _n: None)
    from tufkit.cli._output import progress_bar

    return progress_bar("hashing targets", total)


@repo.command()
@_common
@click.argument("paths", nargs=-1)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Unlist the paths of a manifest's lines.",
)
@click.option("--role", default=None, help="Unlist from ROLE (default: by delegations).")
@_stage_option
def remove(
    repo_dir: Path,
    as_json: bool,
    verbose: int,
    quiet: bool,
    paths: tuple[str, ...],
    manifest: Path | None,
    role: str | None,
    stage: bool,
) -> None:
    """Unlist targets by target path (their files stay for clients on older metadata).

    \b
      tufkit repo remove --repo r app/app-1.0.tar.gz
      tufkit repo remove --repo r --manifest withdrawn.csv
    """
    from tufkit.repository import check_target_path

    out = _Out(as_json, verbose, quiet)
    wanted = [check_target_path(p) for p in paths]
    if manifest is not None:
        wanted += [t.path for t in _read_manifest(manifest)]
    if not wanted:
        raise click.UsageError("give target PATHS or --manifest")
    _no_duplicates(wanted)
    repository, config = _open(repo_dir)
    repository.remove_targets(wanted, role=role)
    out.say(f"removed {len(wanted)} targets")
    out.result({"removed": wanted, **_finish(out, repository, config, repo_dir, stage=stage)})


# -- delegate ----------------------------------------------------------------------------------


@repo.command()
@_common
@click.argument("name")
@click.option("--from", "delegator", default="targets", show_default=True, help="Delegating role.")
@click.option("--path", "patterns", multiple=True, metavar="PATTERN", help="Target path pattern.")
@click.option(
    "--bins",
    "bins_bits",
    type=click.IntRange(1, 32),
    default=None,
    metavar="BITS",
    help="Delegate to 2**BITS succinct hashed bins NAME-<hex> instead of paths.",
)
@click.option("--key", "keys", multiple=True, metavar="URI", help="Existing key (recorded).")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    metavar="FILE",
    help="A keyholder's public key (OUT.pub.json of `tufkit key generate --out OUT`).",
)
@click.option("--generate", is_flag=True, help="Generate a key in REPO/keys/NAME.pem.")
@click.option("--threshold", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--terminating", is_flag=True, help="Clients search no further for its paths.")
@click.option("--online/--offline", default=None, help="Signed unattended (default: bins are).")
@_key_type_option
@click.option("--passphrase-env", metavar="NAME", help="Encrypt a generated key with $NAME.")
@click.option("--no-encrypt", is_flag=True, help="Write a generated key unencrypted.")
@_stage_option
def delegate(
    repo_dir: Path,
    as_json: bool,
    verbose: int,
    quiet: bool,
    name: str,
    delegator: str,
    patterns: tuple[str, ...],
    bins_bits: int | None,
    keys: tuple[str, ...],
    public_keys: tuple[str, ...],
    generate: bool,
    threshold: int,
    terminating: bool,
    online: bool | None,
    key_type: str,
    passphrase_env: str | None,
    no_encrypt: bool,
    stage: bool,
) -> None:
    """Delegate target paths to a new role NAME, or hashed bins named NAME-<hex>.

    \b
    Paths to a project's role, signed by a generated key:
      tufkit repo delegate --repo r project-a --path 'project-a/*' --generate --no-encrypt
    \b
    256 succinct hashed bins below that project (bins for one project's files):
      tufkit repo delegate --repo r a-bin --from project-a --bins 8 --generate --no-encrypt
    """
    from tufkit.metadata import DelegatedRole, Delegations
    from tufkit.repository import check_new_role_name, succinct_bins
    from tufkit.repository._config import BinsConfig, RoleConfig

    out = _Out(as_json, verbose, quiet)
    if (bins_bits is None) == (not patterns):
        raise click.UsageError("give either --path patterns or --bins BITS")
    if not (keys or public_keys or generate):
        raise click.UsageError("give the role's keys: --key, --public-key or --generate")
    repository, config = _open(repo_dir)
    if bins_bits is not None:
        check_new_role_name(f"{name}-0", _existing_roles(repository))
    else:
        check_new_role_name(name, _existing_roles(repository))
    current = repository.targets(delegator).signed.delegations
    if current is not None and (bins_bits is not None or current.succinct_roles is not None):
        raise ConfigError(f"{printable(delegator)!r} already delegates with hashed bins or roles")
    uris = [_as_uri(k) for k in keys]
    public: list[Key] = [_signer(u, repo_dir).public_key for u in uris]
    public += [_public_key_file(f) for f in public_keys]
    signers = []
    if generate:
        password = _passphrase_for_new_keys(passphrase_env, no_encrypt)
        signer, uri = _new_key(repo_dir, name, password, passphrase_env, key_type)
        public.append(signer.public_key)
        uris.append(uri)
        signers.append(signer)
    try:
        by_id = {k.keyid: k for k in public}
        if threshold > len(by_id):
            raise ConfigError(f"threshold {threshold} is more than the {len(by_id)} keys given")
        with repository.edit_targets(delegator) as signed:
            if bins_bits is not None:
                signed.delegations = succinct_bins(
                    list(by_id.values()),
                    bit_length=bins_bits,
                    name_prefix=name,
                    threshold=threshold,
                )
            else:
                delegations = signed.delegations or Delegations({}, {})
                assert delegations.roles is not None  # checked above: not succinct
                delegations.keys.update(by_id)
                delegations.roles[name] = DelegatedRole(
                    name, list(by_id), threshold, terminating, paths=list(patterns)
                )
                signed.delegations = delegations
        is_online = online if online is not None else bins_bits is not None
        roles = {**config.roles, name: RoleConfig(threshold, is_online, tuple(uris))}
        bins = config.bins
        if bins_bits is not None:
            bins = (*bins, BinsConfig(delegator, name, bins_bits))
        new_config = replace(config, roles=roles, bins=bins)
        for signer in signers:
            repository.add_signer(signer)
        result = _finish(out, repository, new_config, repo_dir, stage=stage)
    except BaseException:
        if generate:  # nothing uses it: a second try must not trip over it
            (repo_dir / "keys" / f"{name}.pem").unlink(missing_ok=True)
        raise
    new_config.save(_config_path(repo_dir))
    what = f"{2**bins_bits} hashed bins {name}-*" if bins_bits is not None else f"role {name}"
    out.say(f"delegated {printable(what)} from {printable(delegator)}")
    out.result({"delegated": name, "from": delegator, "bins": bins_bits, **result})


def _existing_roles(repository: Repository) -> list[str]:
    return [name[: -len(".json")] for name in repository.snapshot.signed.meta]


# -- stage / sign / status / publish / bump ------------------------------------------------------


@repo.command()
@_common
@click.argument("roles", nargs=-1, required=True)
def stage(repo_dir: Path, as_json: bool, verbose: int, quiet: bool, roles: tuple[str, ...]) -> None:
    """Stage new versions of offline ROLES for keyholders to sign (one ceremony for all).

    Prints the staged files; each keyholder runs `tufkit repo sign` on a copy, and
    `tufkit repo publish SIGNED_FILES...` takes the signatures back.

    \b
      tufkit repo stage --repo r root targets
      tufkit repo sign --key /media/alice/root.pem r/.tufkit/staged/root.json
      tufkit repo status --repo r
    """
    out = _Out(as_json, verbose, quiet)
    repository, config = _open(repo_dir)
    for role in roles:
        if role not in repository.pending:
            repository.bump(role)
    _load_signers(repository, config, repo_dir)
    repository.stage(*roles)
    out.result(_staged_report(out, repository, repo_dir, roles))


@repo.command()
@click.argument("staged_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--key", "key", required=True, metavar="URI", help="Your key (file or URI).")
@click.option("--passphrase-env", metavar="NAME", help="The key's passphrase is in $NAME.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, failures included.")
@click.option("-v", "--verbose", count=True, help="Say more.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but failures.")
def sign(
    staged_file: Path,
    key: str,
    passphrase_env: str | None,
    out_file: Path | None,
    as_json: bool,
    verbose: int,
    quiet: bool,
) -> None:
    """Sign a staged file with your key: no repository needed, just the file.

    Writes the file back (or to --out) with your signature added, and says what is missing.

    \b
      tufkit repo sign --key ~/keys/targets.pem targets.json
      tufkit repo sign --key ~/keys/t.pem --passphrase-env MY_PASS --out signed.json targets.json
    """
    from tufkit._atomic import write_atomically
    from tufkit.repository import read_staged, sign_staged

    out = _Out(as_json, verbose, quiet)
    uri = _as_uri(key)
    if passphrase_env:
        if "?" in uri:
            raise click.UsageError("give --passphrase-env or ?passphrase-env= in the URI, not both")
        uri += f"?passphrase-env={passphrase_env}"
    with open(staged_file, "rb") as handle:
        data = handle.read(64 * 1024 * 1024 + 1)
    signer = _signer(uri, Path())
    signed = sign_staged(data, signer)
    target = out_file or staged_file
    write_atomically(target, signed, mode=0o644)
    entry = _staged_entry(read_staged(signed), Path())
    entry["file"] = str(target)
    out.say(
        f"signed {printable(entry['role'])} v{entry['version']} with key "
        f"{signer.public_key.keyid[:16]}; wrote {printable(str(target))}"
    )
    _say_thresholds(out, entry)
    out.result({"signed_by": signer.public_key.keyid, **entry})


@repo.command()
@_common
@click.option("--all", "show_all", is_flag=True, help="Also every delegated role's expiry.")
def status(repo_dir: Path, as_json: bool, verbose: int, quiet: bool, show_all: bool) -> None:
    """Show staged roles (who signed, who may sign, what is missing) and each role's expiry.

    \b
      tufkit repo status --repo r
      tufkit repo status --repo r --all --json
    """
    out = _Out(as_json, verbose, quiet)
    repository, config = _open(repo_dir)
    now = datetime.now(UTC)
    roles: list[dict[str, Any]] = []
    published: list[tuple[str, Any]] = [
        ("root", repository._root if "root" in repository.pending else repository.root),
        ("timestamp", repository.timestamp),
        ("snapshot", repository.snapshot),
    ]
    names = ["targets"]
    if show_all:
        names += [r for r in _existing_roles(repository) if r != "targets"]
    for role, md in published:
        roles.append(_expiry_entry(role, md.signed, now))
    for role in names:
        roles.append(_expiry_entry(role, _published_targets(repository, role), now))
    staged = [_staged_entry(s, repo_dir) for s in repository.staged()]
    out.say("roles:")
    for entry in roles:
        entry_config = config.role(entry["role"])
        kind = "online" if entry_config is not None and entry_config.online else "offline"
        entry["online"] = kind == "online"
        warn = "  EXPIRED" if entry["days_left"] < 0 else ""
        out.say(
            f"  {printable(entry['role'])} v{entry['version']} ({kind}): expires "
            f"{entry['expires']} ({entry['days_left']:.1f} days){warn}"
        )
    if not staged:
        out.say("no staged roles")
    for entry in staged:
        done = "ready to publish" if entry["complete"] else "waiting for signatures"
        out.say(f"staged {printable(entry['role'])} v{entry['version']}: {done}")
        _say_thresholds(out, entry)
    out.result({"roles": roles, "staged": staged})


def _published_targets(repository: Repository, role: str) -> Any:
    return repository._published_targets(role).signed


def _expiry_entry(role: str, signed: Any, now: datetime) -> dict[str, Any]:
    left = (signed.expires - now) / timedelta(days=1)
    return {
        "role": role,
        "version": signed.version,
        "expires": signed.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days_left": round(left, 3),
    }


@repo.command()
@_common
@click.argument("signed_files", nargs=-1, type=click.Path(dir_okay=False, exists=True))
def publish(
    repo_dir: Path, as_json: bool, verbose: int, quiet: bool, signed_files: tuple[str, ...]
) -> None:
    """Take keyholders' signatures from SIGNED_FILES, then publish every staged role.

    Refuses (and publishes nothing) until every staged role meets its thresholds; the
    signatures taken are kept for the next try.

    \b
      tufkit repo publish --repo r alice-signed.json bob-signed.json
      tufkit repo publish --repo r
    """
    out = _Out(as_json, verbose, quiet)
    repository, config = _open(repo_dir)
    for path in signed_files:
        with open(path, "rb") as handle:
            staged = repository.add_signatures(handle.read(64 * 1024 * 1024 + 1))
        out.say(f"took signatures for {printable(staged.role)} from {printable(path)}")
    out.result(_finish(out, repository, config, repo_dir, stage=False))


@repo.command()
@_common
@click.argument("roles", nargs=-1)
@_stage_option
def bump(
    repo_dir: Path, as_json: bool, verbose: int, quiet: bool, roles: tuple[str, ...], stage: bool
) -> None:
    """Give roles a new version and expiry: by default the online top-level roles (for cron).

    Offline roles get a new version for a signing ceremony; with --stage it is staged for
    keyholders. A bump of online roles leaves any staged ceremony alone.

    \b
      tufkit repo bump --repo r                    # timestamp and snapshot, from cron
      tufkit repo bump --repo r targets --stage    # re-sign targets before it expires
    """
    out = _Out(as_json, verbose, quiet)
    config = _load_config(repo_dir)
    if not roles:
        roles = tuple(r for r in ("snapshot", "timestamp") if r in config.online_roles())
        if not roles:
            raise ConfigError("no online top-level role is configured; name the roles to bump")
    from tufkit.repository import Repository

    storage = _storage(repo_dir)
    staged_roles = set(storage.read_staged())
    hide = not stage and not staged_roles & set(roles)
    repository = Repository.open(_storage(repo_dir, hide_staged=hide), policy=config.expiry)
    repository.bump(*roles)
    out.say(f"bumped {printable(', '.join(roles))}")
    out.result({"bumped": list(roles), **_finish(out, repository, config, repo_dir, stage=stage)})


# -- serve -------------------------------------------------------------------------------------


@repo.command()
@_common
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="TCP port on 127.0.0.1 (0: any free port, printed).",
)
def serve(repo_dir: Path, as_json: bool, verbose: int, quiet: bool, port: int) -> None:
    """Serve metadata/ and targets/ on 127.0.0.1 for development (never keys or state).

    \b
      tufkit repo serve --repo r --port 8000
      tufkit client init --bootstrap r/metadata/1.root.json \\
          --metadata-url http://127.0.0.1:8000/metadata/ \\
          --target-base-url http://127.0.0.1:8000/targets/
    """
    from tufkit.cli._repo_server import make_server

    out = _Out(as_json, verbose, quiet)
    _storage(repo_dir)  # refuse a directory that is no repository
    server = make_server(repo_dir, port)
    bound = server.server_address[1]
    urls = {
        "metadata_url": f"http://127.0.0.1:{bound}/metadata/",
        "target_base_url": f"http://127.0.0.1:{bound}/targets/",
    }
    out.say(f"serving {printable(str(repo_dir))} until Ctrl-C")
    out.say(f"  metadata: {urls['metadata_url']}")
    out.say(f"  targets:  {urls['target_base_url']}")
    out.result(urls)
    sys.stdout.flush()
    with server:
        server.serve_forever()
