"""Final product verification: a signed layout, its links and inspections, in the reference's order.

1. root layout signatures (every given key must have signed), 2. expiry, 3. find links (missing
ones skipped, malformed ones abort), 4. link signatures and per-step thresholds (bad links are
dropped; distinct key material is counted, not keyids), 5. sublayouts (recursively, replaced by a
summary link), 6. command alignment (warnings only), 7. agreement between a step's links, 8. step
rules, 9. inspections through the injected runner, 10. inspection rules.

:func:`verify_supply_chain` is the pure core: it takes the layout, the keys, the links, the
reference time and the inspection runner, reads no clock and touches no file itself (links come
from the ``links`` object, e.g. a :class:`~tufkit.intoto.LinkDirectory`; inspections run through
the runner). A reporter, if given, sees every check as it happens. :func:`verify_layout` and
:func:`get_verification_result` are the conveniences over a link directory and the current time.
"""

from __future__ import annotations

import logging
import os
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tufkit.crypto import Key
from tufkit.errors import ConfigError, Error, SupplyChainError
from tufkit.intoto._envelope import DEFAULT_MAX_METADATA_BYTES, Envelope
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
from tufkit.intoto._events import Reporter, VerificationEvent
from tufkit.intoto._files import link_filename
from tufkit.intoto._inspect import InspectionRunner, WorkdirInspectionRunner
from tufkit.intoto._keys import key_to_layout_dict, layout_key_identity
from tufkit.intoto._linkdir import LinkDirectory
from tufkit.intoto._models import Inspection, Layout, Link, Step, parse_layout_expires
from tufkit.intoto._rules import ArtifactRule, apply_rules
from tufkit.intoto._run import DEFAULT_TIMEOUT

__all__ = [
    "LayoutVerificationResult",
    "LinkSource",
    "VerifyOptions",
    "get_verification_result",
    "verify_layout",
    "verify_supply_chain",
]

_LOG = logging.getLogger(__name__)

RootKeys = Mapping[str, Key | dict[str, Any]] | Sequence[Key]


class LinkSource(Protocol):
    """Where a verification finds links: anything with ``get(relative path)``, e.g. a dict."""

    def get(self, relative: str, /) -> Envelope | None:
        """The envelope at ``<step>.<keyid8>.link`` (``/``-joined below sublayouts), or None.

        Raises:
            InvalidMetadataError: the link exists but is malformed (verification aborts).
        """
        ...


@dataclass
class VerifyOptions:
    """How :func:`verify_layout` verifies.

    Attributes:
        link_dir: directory holding ``<step>.<keyid8>.link`` files.
        inspection_timeout: seconds each inspection may run.
        runner: runs inspections; the reference-like :class:`WorkdirInspectionRunner` if None.
        now: the reference time for expiry; the current time if None.
        max_metadata_bytes: larger link files are refused.
        reporter: called with each :class:`VerificationEvent` as it happens.
    """

    link_dir: str | os.PathLike[str] = "."
    inspection_timeout: float | None = DEFAULT_TIMEOUT
    runner: InspectionRunner | None = None
    now: datetime | None = None
    max_metadata_bytes: int = DEFAULT_MAX_METADATA_BYTES
    reporter: Reporter | None = None


@dataclass
class LayoutVerificationResult:
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


@dataclass
class _Context:
    now: datetime
    runner: InspectionRunner
    timeout: float | None
    reporter: Reporter | None
    warnings: list[str]
    depth: int = 0

    def report(self, kind: str, message: str, **details: Any) -> None:
        if self.reporter is not None:
            self.reporter(VerificationEvent(kind, message, depth=self.depth, **details))

    def deeper(self) -> _Context:
        return _Context(
            self.now, self.runner, self.timeout, self.reporter, self.warnings, self.depth + 1
        )


def _own_keyid(label: str, key: dict[str, Any]) -> str:
    own = key.get("keyid", label)
    return own if type(own) is str else label


def _key_identity(label: str, key: dict[str, Any]) -> tuple[str, str]:
    """What makes two layout keys the same functionary: their key material, not their keyids
    (for OpenPGP keys, the public key built from their values, so a spelling does not count)."""
    return layout_key_identity(_own_keyid(label, key), key)


def _candidate_keyids(layout: Layout, step: Step) -> list[str]:
    """Each authorized keyid of *step*, followed by its gpg subkeys, as the reference tries them."""
    found: list[str] = []
    for authorized in step.pubkeys:
        subkeys = layout.keys.get(authorized, {}).get("subkeys", {})
        for keyid in [authorized, *(subkeys if isinstance(subkeys, dict) else ())]:
            if keyid not in found:
                found.append(keyid)
    return found


def _find_links(layout: Layout, links: LinkSource, prefix: str) -> dict[str, dict[str, Envelope]]:
    loaded: dict[str, dict[str, Envelope]] = {}
    for step in layout.steps:
        per_key: dict[str, Envelope] = {}
        for keyid in _candidate_keyids(layout, step):
            envelope = links.get(posixpath.join(prefix, link_filename(step.name, keyid)))
            if envelope is not None:
                per_key[keyid] = envelope
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
    layout: Layout, loaded: dict[str, dict[str, Envelope]], ctx: _Context
) -> dict[str, dict[str, Envelope]]:
    verified: dict[str, dict[str, Envelope]] = {}
    for step in layout.steps:
        kept: dict[str, Envelope] = {}
        functionaries: set[tuple[str, str]] = set()
        for link_keyid, envelope in loaded.get(step.name, {}).items():
            filename = link_filename(step.name, link_keyid)
            key = _verification_key(layout, step, link_keyid)
            if key is None:
                ctx.report("link-signature", f"{filename}: key not authorized, skipped", ok=False)
                continue
            try:
                envelope.verify_signature(link_keyid, key)
            except SignatureVerificationError as exc:
                ctx.report("link-signature", f"{filename}: {exc}, skipped", ok=False)
                continue
            ctx.report("link-signature", f"{filename}: signature by {link_keyid[:16]} valid")
            functionaries.add(_key_identity(link_keyid, key))
            kept[link_keyid] = envelope
        if len(functionaries) < step.threshold:
            raise ThresholdVerificationError(
                f"step {step.name!r} requires links validly signed by {step.threshold} "
                f"different authorized functionaries (distinct keys), found {len(functionaries)}"
            )
        ctx.report(
            "threshold",
            f"step {step.name!r}: {len(functionaries)} distinct functionaries signed, "
            f"threshold {step.threshold}",
            item=step.name,
        )
        verified[step.name] = kept
    return verified


def _resolve_sublayouts(
    layout: Layout,
    verified: dict[str, dict[str, Envelope]],
    links: LinkSource,
    prefix: str,
    ctx: _Context,
) -> dict[str, dict[str, Link]]:
    chain: dict[str, dict[str, Link]] = {}
    for step_name, per_key in verified.items():
        resolved: dict[str, Link] = {}
        for keyid, envelope in per_key.items():
            payload = envelope.payload()
            if isinstance(payload, Layout):
                key = layout.keys.get(keyid)
                if not isinstance(key, dict):
                    raise InvalidMetadataError(f"sublayout {step_name!r}: no layout key {keyid}")
                ctx.report("sublayout", f"verifying sublayout {step_name!r}", item=step_name)
                sub_prefix = posixpath.join(prefix, f"{step_name}.{keyid[:8]}")
                resolved[keyid] = _verify(
                    envelope, {keyid: key}, links, sub_prefix, ctx.deeper(), step_name
                )
            else:
                resolved[keyid] = payload
        chain[step_name] = resolved
    return chain


def _check_commands(layout: Layout, chain: dict[str, dict[str, Link]], ctx: _Context) -> None:
    for step in layout.steps:
        for link in chain.get(step.name, {}).values():
            if link.command != step.expected_command:
                text = (
                    f"step {step.name!r}: command {link.command!r:.200} differs from the "
                    f"expected {step.expected_command!r:.200}"
                )
                ctx.warnings.append(text)
                ctx.report("command", text, ok=False, item=step.name)


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


def _rule_text(rule: ArtifactRule) -> str:
    return " ".join(rule.raw or [rule.kind.upper(), rule.pattern])


def _rule_reporter(
    ctx: _Context, name: str, side: str
) -> Callable[[ArtifactRule, set[str], set[str]], None]:
    def on_rule(rule: ArtifactRule, consumed: set[str], queue: set[str]) -> None:
        ctx.report(
            "rule",
            f"{name!r} {side}: '{_rule_text(rule)}' consumed {len(consumed)}, {len(queue)} left",
            item=name,
            rule=rule.raw,
            consumed=tuple(sorted(consumed)),
            queue=tuple(sorted(queue)),
        )

    return on_rule


def _check_rules(
    items: Sequence[Step | Inspection], links: Mapping[str, Link], ctx: _Context
) -> None:
    for item in items:
        for side, rules in (
            ("materials", item.material_rules()),
            ("products", item.product_rules()),
        ):
            on_rule = _rule_reporter(ctx, item.name, side) if ctx.reporter else None
            try:
                apply_rules(item.name, side, rules, links, on_rule=on_rule)
            except RuleVerificationError as exc:
                ctx.report(
                    "rule-failed",
                    str(exc),
                    ok=False,
                    item=item.name,
                    rule=exc.rule,
                    queue=tuple(exc.queue or ()),
                )
                raise


def _run_inspections(layout: Layout, ctx: _Context) -> dict[str, Link]:
    links: dict[str, Link] = {}
    for inspection in layout.inspect:
        ctx.report("inspection", f"running inspection {inspection.name!r}", item=inspection.name)
        try:
            link = ctx.runner(inspection, timeout=ctx.timeout)
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


def _check_layout(envelope: Envelope, keys: Mapping[str, dict[str, Any]], ctx: _Context) -> Layout:
    if not keys:
        raise SignatureVerificationError("layout verification requires at least one key")
    for keyid, key in keys.items():
        envelope.verify_signature(keyid, key)
        ctx.report("layout-signature", f"layout signature by {keyid[:16]} valid")
    layout = envelope.payload()
    if not isinstance(layout, Layout):
        raise InvalidMetadataError("the signed payload is a link, not a layout")
    if parse_layout_expires(layout.expires) <= ctx.now:
        raise LayoutExpiredError(f"layout expired at {layout.expires}")
    ctx.report("expiry", f"layout valid until {layout.expires}")
    return layout


def _verify(
    envelope: Envelope,
    keys: Mapping[str, dict[str, Any]],
    links: LinkSource,
    prefix: str,
    ctx: _Context,
    name: str,
) -> Link:
    layout = _check_layout(envelope, keys, ctx)
    loaded = _find_links(layout, links, prefix)
    verified = _check_link_signatures(layout, loaded, ctx)
    chain = _resolve_sublayouts(layout, verified, links, prefix, ctx)
    _check_commands(layout, chain, ctx)
    reduced = _check_agreement(layout, chain)
    _check_rules(layout.steps, reduced, ctx)
    combined: dict[str, Link] = dict(reduced)
    combined.update(_run_inspections(layout, ctx))
    _check_rules(layout.inspect, combined, ctx)
    return _summary(layout, reduced, name)


def _root_keys(keys: RootKeys) -> dict[str, dict[str, Any]]:
    if isinstance(keys, Mapping):
        return {
            keyid: key_to_layout_dict(key) if isinstance(key, Key) else key
            for keyid, key in keys.items()
        }
    return {key.keyid: key_to_layout_dict(key) for key in keys}


def verify_supply_chain(
    layout: Envelope,
    keys: RootKeys,
    links: LinkSource,
    *,
    now: datetime,
    runner: InspectionRunner,
    inspection_timeout: float | None = DEFAULT_TIMEOUT,
    reporter: Reporter | None = None,
    warnings: list[str] | None = None,
) -> Link:
    """Verify a signed layout and the supply chain it describes; return the summary link.

    Pure: no clock is read (*now* decides expiry) and no file is touched here; links come from
    *links* (relative paths ``<step>.<keyid8>.link``, and ``<step>.<keyid8>/...`` for a
    sublayout's links) and inspections run through *runner*.

    Args:
        layout: the signed root layout (either envelope).
        keys: the project owner's keys; each must have signed the layout.
        links: where links are found, e.g. a :class:`~tufkit.intoto.LinkDirectory` or a dict.
        now: the reference time (aware); a layout expiring at or before it is refused.
        runner: runs each inspection and returns its link.
        inspection_timeout: seconds each inspection may run (passed to *runner*).
        reporter: called with each :class:`VerificationEvent` as it happens.
        warnings: a list to append non-fatal findings (command mismatches) to.

    Raises:
        SignatureVerificationError: a root key did not sign the layout validly, or no key given.
        LayoutExpiredError: the layout has expired.
        LinkNotFoundError: a step has fewer link files than its threshold.
        ThresholdVerificationError: too few distinct keys signed valid links, or links disagree.
        RuleVerificationError: an artifact rule failed.
        BadReturnValueError: an inspection failed or timed out.
        InvalidMetadataError: a layout, link or sublayout is malformed or too large.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    sink = warnings if warnings is not None else []
    ctx = _Context(now, runner, inspection_timeout, reporter, sink)
    summary = _verify(layout, _root_keys(keys), links, "", ctx, "")
    ctx.report("passed", "The software product passed all verification.")
    return summary


def verify_layout(
    layout: Envelope,
    keys: RootKeys,
    options: VerifyOptions | None = None,
    *,
    warnings: list[str] | None = None,
) -> Link:
    """:func:`verify_supply_chain` over ``options.link_dir``, at ``options.now`` or the present.

    Raises:
        SignatureVerificationError: a root key did not sign the layout validly, or no key given.
        LayoutExpiredError: the layout has expired.
        LinkNotFoundError: a step has fewer link files than its threshold.
        ThresholdVerificationError: too few distinct keys signed valid links, or links disagree.
        RuleVerificationError: an artifact rule failed.
        BadReturnValueError: an inspection failed or timed out.
        InvalidMetadataError: a layout, link or sublayout is malformed or too large.
    """
    options = options or VerifyOptions()
    sink = warnings if warnings is not None else []
    summary = verify_supply_chain(
        layout,
        keys,
        LinkDirectory(options.link_dir, max_bytes=options.max_metadata_bytes),
        now=options.now or datetime.now(UTC),
        runner=options.runner or WorkdirInspectionRunner(),
        inspection_timeout=options.inspection_timeout,
        reporter=options.reporter,
        warnings=sink,
    )
    if options.reporter is None:  # a reporter has seen them as events
        for text in sink:
            _LOG.warning("%s", text)
    return summary


def get_verification_result(
    layout: Envelope,
    keys: RootKeys,
    options: VerifyOptions | None = None,
) -> LayoutVerificationResult:
    """Like :func:`verify_layout`, but return a :class:`LayoutVerificationResult`, never raise.

    Any tufkit error (malformed data included) becomes a failed result; OSError from the
    inspection runner is reported the same way.
    """
    result = LayoutVerificationResult()
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
