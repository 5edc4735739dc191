"""``tufkit metadata``: show a metadata file and verify it against its delegator.

Every text from the files (role names, key ids, paths) is escaped before it reaches the terminal;
``--json`` prints exact JSON (ASCII only), and a failure as part of the same object. A malformed
file is named in the error. This module verifies nothing itself: the metadata package does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from tufkit.cli._output import echo, echo_json, error_object, in_file, printable

__all__ = ["metadata"]

MAX_METADATA_BYTES = 512 * 1024 * 1024  # refuse to read files larger than this
_AT_FORM = "YYYY-MM-DDTHH:MM:SSZ (UTC), e.g. 2030-01-31T00:00:00Z"


def _read(path: str) -> Any:
    """Parse *path* strictly as TUF metadata.

    Raises:
        ConfigError: the file is too large.
        FormatError: (naming the file) it is not well-formed metadata.
    """
    import os

    from tufkit.errors import ConfigError, FormatError
    from tufkit.metadata import Metadata

    size = os.stat(path).st_size
    if size > MAX_METADATA_BYTES:
        raise ConfigError(f"{path} is {size} bytes, more than the {MAX_METADATA_BYTES} allowed")
    with open(path, "rb") as handle:
        data = handle.read(MAX_METADATA_BYTES + 1)
    try:
        return Metadata.from_bytes(data)
    except FormatError as exc:
        raise in_file(path, exc) from exc


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
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON, failures included.")
def show(file: str, as_json: bool) -> None:
    """Show what metadata FILE says (it is parsed strictly but not verified)."""
    info = _summary(_read(file), datetime.now(UTC))
    if as_json:
        echo_json(info)
        return
    for line in _show_lines(info):
        echo(line)


def _show_lines(info: dict[str, Any]) -> list[str]:
    """The text form of a summary, every field from the file escaped."""

    def p(value: object) -> str:
        return printable(str(value))

    state = "EXPIRED" if info["expired"] else "valid until"
    lines = [
        f"{p(info['type'])} v{info['version']} (spec {p(info['spec_version'])})",
        f"  {state} {info['expires']}, {len(info['signatures'])} signature(s)",
    ]
    for name, role in info.get("roles", {}).items():
        keyids = ", ".join(p(kid[:12]) for kid in role["keyids"])
        lines.append(f"  role {p(name)}: {role['threshold']} of [{keyids}]")
    lines.extend(f"  key {p(kid[:12])}: {p(kind)}" for kid, kind in info.get("keys", {}).items())
    if "snapshot" in info:
        lines.append(f"  snapshot.json: version {info['snapshot']['version']}")
    lines.extend(
        f"  {p(name)}: version {version}" for name, version in info.get("meta", {}).items()
    )
    if "targets" in info:
        lines.append(f"  {info['targets']} target(s)")
    delegations = info.get("delegations", {})
    for role in delegations.get("roles", []):
        patterns = role.get("paths") or role.get("path_hash_prefixes") or []
        lines.append(f"  delegates {', '.join(map(p, patterns))} to {p(role['name'])}")
    if "succinct_roles" in delegations:
        bins = delegations["succinct_roles"]
        lines.append(f"  delegates to 2^{bins['bit_length']} bins {p(bins['name_prefix'])}-*")
    return lines


def _parse_at(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """``--at``: a TUF date-time, refused with the expected form named once."""
    from tufkit.errors import FormatError
    from tufkit.metadata import parse_expires

    if value is None:
        return None
    try:
        return parse_expires(value, "--at")
    except FormatError:
        raise click.BadParameter(f"{value[:40]!r} is not of the form {_AT_FORM}") from None


@metadata.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--by",
    "delegator_file",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="The trusted delegator: root for top-level roles, the delegating targets otherwise.",
)
@click.option(
    "--role", default=None, help="Role name (defaults to FILE's type; needed for delegations)."
)
@click.option(
    "--at",
    "at",
    default=None,
    callback=_parse_at,
    metavar="TIME",
    help=f"Reference time for expiry, {_AT_FORM}.  [default: now]",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, failures included.")
@click.pass_context
def verify(
    ctx: click.Context,
    file: str,
    delegator_file: str,
    role: str | None,
    at: datetime | None,
    as_json: bool,
) -> None:
    """Verify FILE's signatures by threshold against its delegator, and its expiry."""
    from tufkit.errors import ConfigError, ExpiredMetadataError, UnsignedMetadataError
    from tufkit.metadata import Root, Targets

    now = at or datetime.now(UTC)
    md, delegator = _read(file), _read(delegator_file)
    if not isinstance(delegator.signed, Root | Targets):
        raise ConfigError(
            f"{delegator_file} is {delegator.signed.type!r} metadata, not a delegator "
            "(give root metadata for a top-level role, the delegating targets otherwise)"
        )
    role_name = role or _default_role(ctx, file, md, delegator, delegator_file)
    try:
        result = delegator.signed.get_verification_result(
            role_name, md.verification_payload, md.signatures
        )
    except ValueError:
        delegated = ", ".join(map(repr, _delegated_roles(delegator.signed))) or "none"
        raise ConfigError(
            f"{delegator_file} does not delegate {role_name!r} (it delegates: {delegated})"
        ) from None
    counted = _signatures(len(result.signed), result.threshold)
    failure: Exception | None = None
    if not result.verified:
        hint = ""
        if role is None and isinstance(md.signed, Targets) and isinstance(delegator.signed, Root):
            hint = " (for a delegated role, pass its delegator with --by and its name with --role)"
        failure = UnsignedMetadataError(f"role {role_name!r} has {counted}{hint}")
    elif md.signed.is_expired(now):
        expired_at = md.signed.expires.strftime("%Y-%m-%dT%H:%M:%SZ")
        failure = ExpiredMetadataError(f"role {role_name!r} expired at {expired_at}")
    if as_json:
        report: dict[str, Any] = {
            "role": role_name,
            "verified": result.verified,
            "threshold": result.threshold,
            "signed_by": sorted(result.signed),
            "expired": md.signed.is_expired(now),
        }
        if failure is not None:
            report.update(error_object(failure, str(failure), 1))
        echo_json(report)
        if failure is not None:
            ctx.exit(1)
        return
    echo(f"{printable(role_name)}: {counted}")
    if failure is not None:
        raise failure
    echo(f"{printable(role_name)}: verified")


def _signatures(valid: int, threshold: int) -> str:
    return f"{valid} valid signature{'' if valid == 1 else 's'}, threshold {threshold}"


def _delegated_roles(delegator: Any) -> list[str]:
    """The role names *delegator* (root or targets) delegates to, for messages."""
    from tufkit.metadata import Root

    if isinstance(delegator, Root):
        return list(delegator.roles)
    delegations = delegator.delegations
    if delegations is None:
        return []
    if delegations.succinct_roles is not None:
        return [f"{delegations.succinct_roles.name_prefix}-*"]
    return list(delegations.roles or {})


def _default_role(
    ctx: click.Context, file: str, md: Any, delegator: Any, delegator_file: str
) -> str:
    """FILE's role when ``--role`` is not given: its type, unless that cannot be right.

    Raises:
        click.UsageError: a targets delegator delegates roles by name, which FILE does not carry.
    """
    from tufkit.metadata import Targets

    if isinstance(delegator.signed, Targets):
        delegated = ", ".join(map(repr, _delegated_roles(delegator.signed))) or "none"
        raise click.UsageError(
            f"cannot tell which role {file} is: targets metadata "
            f"does not name its role; pass --role NAME ({delegator_file} delegates: {delegated})",
            ctx,
        )
    return str(md.signed.type)
