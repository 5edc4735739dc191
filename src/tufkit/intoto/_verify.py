"""Final product verification: a signed layout, its links and inspections, in the reference's order.

1. root layout signatures (every given key must have signed), 2. expiry, 3. load links
(missing files skipped, malformed ones abort), 4. link signatures and per-step thresholds (bad
links are dropped), 5. sublayouts (recursively, replaced by a summary link), 6. command alignment
(warnings only), 7. agreement between a step's links, 8. step rules, 9. inspections through the
injected runner, 10. inspection rules. :func:`verify_layout` raises; :func:`get_verification_result`
returns a :class:`VerificationResult`. Nothing here reads the clock unless no time is given, and
the filesystem is touched only to read link files (and by the runner).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tufkit.crypto import Key
from tufkit.errors import ConfigError, Error, SupplyChainError
from tufkit.intoto._envelope import DEFAULT_MAX_METADATA_BYTES, Metadata, load_metadata
from tufkit.intoto._errors import (
    BadReturnValueError,
    CommandError,
    InvalidMetadataError,
    LayoutExpiredError,
    LinkNotFoundError,
    RuleVerificationError,
    SignatureVerificationError,
    ThresholdVerificationError,
)
from tufkit.intoto._inspect import InspectionRunner, WorkdirInspectionRunner
from tufkit.intoto._keys import key_to_layout_dict
from tufkit.intoto._models import Inspection, Layout, Link, Step, parse_expires
from tufkit.intoto._rules import apply_rules
from tufkit.intoto._run import DEFAULT_TIMEOUT

__all__ = ["VerificationResult", "VerifyOptions", "get_verification_result", "verify_layout"]

_LOG = logging.getLogger(__name__)


@dataclass
class VerifyOptions:
    """How to verify.

    Attributes:
        link_dir: directory holding ``<step>.<keyid8>.link`` files.
        inspection_timeout: seconds each inspection may run.
        runner: runs inspections; the reference-like :class:`WorkdirInspectionRunner` if None.
        now: the reference time for expiry; the current time if None.
        max_metadata_bytes: larger link files are refused.
    """

    link_dir: str | os.PathLike[str] = "."
    inspection_timeout: float | None = DEFAULT_TIMEOUT
    runner: InspectionRunner | None = None
    now: datetime | None = None
    max_metadata_bytes: int = DEFAULT_MAX_METADATA_BYTES


@dataclass
class VerificationResult:
    """The verdict, and on failure which step or rule failed and why.

    Attributes:
        error: the failure, or None if verification passed.
        summary: the summary link (first step's materials, last step's products) on success.
        failed_item: the step or inspection that failed, when the failure is about one.
        failed_rule: the artifact rule that failed, when a rule failed.
        warnings: command mismatches and other non-fatal findings.
    """

    error: SupplyChainError | None = None
    summary: Link | None = None
    failed_item: str | None = None
    failed_rule: list[str] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if the supply chain passed verification."""
        return self.error is None


def _link_path(link_dir: str, name: str, keyid: str) -> str:
    if not name or "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
        raise InvalidMetadataError(f"step name {name!r:.80} cannot name a link file")
    return os.path.join(link_dir, f"{name}.{keyid[:8]}.link")


def _read(path: str, max_bytes: int) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        return None
    if len(data) > max_bytes:
        raise InvalidMetadataError(f"{path}: larger than {max_bytes} bytes")
    return data


def _load_links(layout: Layout, link_dir: str, max_bytes: int) -> dict[str, dict[str, Metadata]]:
    loaded: dict[str, dict[str, Metadata]] = {}
    for step in layout.steps:
        per_key: dict[str, Metadata] = {}
        for authorized in step.pubkeys:
            subkeys = layout.keys.get(authorized, {}).get("subkeys", {})
            for keyid in [authorized, *(subkeys if isinstance(subkeys, dict) else ())]:
                path = _link_path(link_dir, step.name, keyid)
                data = _read(path, max_bytes)
                if data is None:
                    continue
                try:
                    per_key[keyid] = load_metadata(data, max_bytes=max_bytes)
                except Error as exc:
                    raise InvalidMetadataError(f"{path}: {exc}") from exc
        if len(per_key) < step.threshold:
            raise LinkNotFoundError(
                f"step {step.name!r} requires {step.threshold} link file(s), found {len(per_key)}"
            )
        loaded[step.name] = per_key
    return loaded


def _verification_key(layout: Layout, step: Step, link_keyid: str) -> dict[str, Any] | None:
    main_for_sub: dict[str, dict[str, Any]] = {}
    for main in layout.keys.values():
        for sub in main.get("subkeys", None) or ():
            main_for_sub[sub] = main
    for authorized in step.pubkeys:
        key = layout.keys.get(authorized)
        if key and link_keyid == authorized:
            return key
        if authorized in main_for_sub and link_keyid == authorized:
            return main_for_sub[authorized]
        if key and link_keyid in (key.get("subkeys") or {}):
            return key
    return None


def _check_link_signatures(
    layout: Layout, loaded: dict[str, dict[str, Metadata]]
) -> dict[str, dict[str, Metadata]]:
    verified: dict[str, dict[str, Metadata]] = {}
    for step in layout.steps:
        kept: dict[str, Metadata] = {}
        main_keyids: set[str] = set()
        for link_keyid, metadata in loaded.get(step.name, {}).items():
            key = _verification_key(layout, step, link_keyid)
            if key is None:
                _LOG.info("link of %s by %s: key not authorized, skipped", step.name, link_keyid)
                continue
            try:
                metadata.verify_signature(link_keyid, key)
            except SignatureVerificationError as exc:
                _LOG.info("link of %s skipped: %s", step.name, exc)
                continue
            main_keyids.add(str(key.get("keyid")))
            kept[link_keyid] = metadata
        if len(main_keyids) < step.threshold:
            raise ThresholdVerificationError(
                f"step {step.name!r} requires links validly signed by {step.threshold} "
                f"different authorized functionaries, found {len(main_keyids)}"
            )
        verified[step.name] = kept
    return verified


def _resolve_sublayouts(
    layout: Layout,
    verified: dict[str, dict[str, Metadata]],
    link_dir: str,
    options: VerifyOptions,
    warnings: list[str],
) -> dict[str, dict[str, Link]]:
    chain: dict[str, dict[str, Link]] = {}
    for step_name, per_key in verified.items():
        links: dict[str, Link] = {}
        for keyid, metadata in per_key.items():
            payload = metadata.payload()
            if isinstance(payload, Layout):
                key = layout.keys.get(keyid)
                if not isinstance(key, dict):
                    raise InvalidMetadataError(f"sublayout {step_name!r}: no layout key {keyid}")
                sub_dir = os.path.join(link_dir, f"{step_name}.{keyid[:8]}")
                sub = _verify(metadata, {keyid: key}, sub_dir, options, step_name, warnings)
                links[keyid] = sub
            else:
                links[keyid] = payload
        chain[step_name] = links
    return chain


def _check_agreement(layout: Layout, chain: dict[str, dict[str, Link]]) -> dict[str, Link]:
    reduced: dict[str, Link] = {}
    for step in layout.steps:
        links = chain.get(step.name, {})
        if not links:
            raise LinkNotFoundError(f"step {step.name!r} has no verified link")
        first_keyid, first = next(iter(links.items()))
        if step.threshold > 1:
            for keyid, link in links.items():
                if link.materials != first.materials or link.products != first.products:
                    raise ThresholdVerificationError(
                        f"links {step.name}.{first_keyid[:8]}.link and "
                        f"{step.name}.{keyid[:8]}.link report different artifacts"
                    )
        reduced[step.name] = first
    return reduced


def _check_rules(items: list[Step] | list[Inspection], links: Mapping[str, Link]) -> None:
    for item in items:
        apply_rules(item.name, "materials", item.material_rules(), links)
        apply_rules(item.name, "products", item.product_rules(), links)


def _run_inspections(layout: Layout, options: VerifyOptions) -> dict[str, Link]:
    runner = options.runner or WorkdirInspectionRunner()
    links: dict[str, Link] = {}
    for inspection in layout.inspect:
        try:
            link = runner(inspection, timeout=options.inspection_timeout)
        except (CommandError, ConfigError, OSError) as exc:
            raise BadReturnValueError(f"inspection {inspection.name!r}: {exc}") from exc
        code = link.byproducts.get("return-value")
        if type(code) is not int or code != 0:
            raise BadReturnValueError(
                f"inspection {inspection.name!r}: command {inspection.run!r:.200} returned {code!r}"
            )
        links[inspection.name] = link
    return links


def _summary(layout: Layout, reduced: Mapping[str, Link], name: str) -> Link:
    if not layout.steps:
        return Link(name=None)
    first, last = reduced[layout.steps[0].name], reduced[layout.steps[-1].name]
    return Link(
        name=name,
        materials=first.materials,
        products=last.products,
        byproducts=last.byproducts,
        command=last.command,
    )


def _verify(
    metadata: Metadata,
    keys: Mapping[str, dict[str, Any]],
    link_dir: str,
    options: VerifyOptions,
    name: str,
    warnings: list[str],
) -> Link:
    if not keys:
        raise SignatureVerificationError("layout verification requires at least one key")
    for keyid, key in keys.items():
        metadata.verify_signature(keyid, key)
    layout = metadata.payload()
    if not isinstance(layout, Layout):
        raise InvalidMetadataError("the signed payload is a link, not a layout")
    now = options.now or datetime.now(UTC)
    if parse_expires(layout.expires) <= now:
        raise LayoutExpiredError(f"layout expired at {layout.expires}")
    loaded = _load_links(layout, link_dir, options.max_metadata_bytes)
    verified = _check_link_signatures(layout, loaded)
    chain = _resolve_sublayouts(layout, verified, link_dir, options, warnings)
    for step in layout.steps:
        for link in chain.get(step.name, {}).values():
            if link.command != step.expected_command:
                warnings.append(
                    f"step {step.name!r}: command {link.command!r:.200} differs from the "
                    f"expected {step.expected_command!r:.200}"
                )
    reduced = _check_agreement(layout, chain)
    _check_rules(layout.steps, reduced)
    combined: dict[str, Link] = dict(reduced)
    combined.update(_run_inspections(layout, options))
    _check_rules(layout.inspect, combined)
    return _summary(layout, reduced, name)


def _root_keys(keys: Mapping[str, Key | dict[str, Any]] | list[Key]) -> dict[str, dict[str, Any]]:
    if isinstance(keys, list):
        return {key.keyid: key_to_layout_dict(key) for key in keys}
    return {
        keyid: key_to_layout_dict(key) if isinstance(key, Key) else key
        for keyid, key in keys.items()
    }


def verify_layout(
    layout: Metadata,
    keys: Mapping[str, Key | dict[str, Any]] | list[Key],
    options: VerifyOptions | None = None,
    *,
    warnings: list[str] | None = None,
) -> Link:
    """Verify a signed layout and the supply chain it describes; return the summary link.

    Args:
        layout: the signed root layout (either envelope).
        keys: the project owner's keys; each must have signed the layout.
        options: link directory, inspection runner and timeout, reference time, size bound.
        warnings: a list to append non-fatal findings (command mismatches) to.

    Raises:
        SignatureVerificationError: a root key did not sign the layout validly, or no key given.
        LayoutExpiredError: the layout has expired.
        LinkNotFoundError: a step has fewer link files than its threshold.
        ThresholdVerificationError: too few valid links, or a step's links disagree.
        RuleVerificationError: an artifact rule failed.
        BadReturnValueError: an inspection failed or timed out.
        InvalidMetadataError: a layout, link or sublayout is malformed or too large.
    """
    options = options or VerifyOptions()
    sink = warnings if warnings is not None else []
    summary = _verify(layout, _root_keys(keys), os.fspath(options.link_dir), options, "", sink)
    for text in sink:
        _LOG.warning("%s", text)
    return summary


def get_verification_result(
    layout: Metadata,
    keys: Mapping[str, Key | dict[str, Any]] | list[Key],
    options: VerifyOptions | None = None,
) -> VerificationResult:
    """Like :func:`verify_layout`, but return a :class:`VerificationResult` instead of raising.

    Any tufkit error (malformed data included) becomes a failed result; OSError from the
    inspection runner is reported the same way.
    """
    result = VerificationResult()
    try:
        result.summary = verify_layout(layout, keys, options, warnings=result.warnings)
    except RuleVerificationError as exc:
        result.error, result.failed_item, result.failed_rule = exc, exc.item, exc.rule
    except SupplyChainError as exc:
        result.error = exc
    except (Error, OSError) as exc:
        wrapped = InvalidMetadataError(str(exc))
        wrapped.__cause__ = exc
        result.error = wrapped
    return result
