"""Artifact rules: parsing the rule lists of a layout and applying them to a link's artifacts.

Patterns use the reference's glob language: ``*`` matches any run of characters *including* ``/``,
``?`` one character, ``[...]``/``[!...]`` a class; matching is case-sensitive on every OS. Rules
consume names from a queue in order (see :func:`apply_rules`). This module does not load links
or know about signatures; it receives the already verified links by name.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tufkit.errors import FormatError
from tufkit.intoto._errors import RuleVerificationError

__all__ = ["ArtifactRule", "HasArtifacts", "apply_rules", "glob_matcher", "parse_rule"]

_GENERIC = frozenset({"create", "delete", "modify", "allow", "disallow", "require"})
_SHAPES = (  # (length, positions of keywords, source prefix index, dest type, dest prefix, name)
    (10, ((2, "in"), (4, "with"), (6, "in"), (8, "from")), 3, 5, 7, 9),
    (8, ((2, "in"), (4, "with"), (6, "from")), 3, 5, None, 7),
    (8, ((2, "with"), (4, "in"), (6, "from")), None, 3, 5, 7),
    (6, ((2, "with"), (4, "from")), None, 3, None, 5),
)


@dataclass(frozen=True)
class ArtifactRule:
    """One parsed artifact rule.

    Attributes:
        kind: lower-case keyword: match, create, delete, modify, allow, disallow, require.
        pattern: the glob pattern (or, for REQUIRE, the literal name).
        source_prefix: MATCH only: ``IN`` prefix on this item's side ("" if none).
        dest_type: MATCH only: ``"materials"`` or ``"products"``.
        dest_prefix: MATCH only: ``IN`` prefix on the destination side ("" if none).
        dest_name: MATCH only: the step or inspection to match with.
        raw: the rule as written.
    """

    kind: str
    pattern: str
    source_prefix: str = ""
    dest_type: str = ""
    dest_prefix: str = ""
    dest_name: str = ""
    raw: list[str] | None = None


def parse_rule(rule: object) -> ArtifactRule:
    """Parse one rule (a list of strings), with keywords case-insensitive.

    Raises:
        FormatError: not a list of strings, an unknown keyword or a shape the grammar lacks.
    """
    if type(rule) is not list or not all(type(part) is str for part in rule):
        raise FormatError(f"artifact rule must be a list of strings, got {rule!r:.200}")
    lower = [part.lower() for part in rule]
    if len(rule) < 2 or (lower[0] not in _GENERIC and lower[0] != "match"):
        raise FormatError(
            f"artifact rule {rule!r:.200} must start with MATCH, CREATE, DELETE, MODIFY, ALLOW, "
            "DISALLOW or REQUIRE and give a pattern"
        )
    if lower[0] in _GENERIC:
        if len(rule) != 2:
            raise FormatError(f"rule {rule!r:.200} must be '{rule[0].upper()} <pattern>'")
        return ArtifactRule(lower[0], rule[1], raw=list(rule))
    for length, keywords, src, dtype, dst, name in _SHAPES:
        if len(rule) == length and all(lower[i] == word for i, word in keywords):
            if lower[dtype] not in ("materials", "products"):
                break
            return ArtifactRule(
                "match",
                rule[1],
                source_prefix=rule[src] if src is not None else "",
                dest_type=lower[dtype],
                dest_prefix=rule[dst] if dst is not None else "",
                dest_name=rule[name],
                raw=list(rule),
            )
    raise FormatError(
        f"rule {rule!r:.200} must be 'MATCH <pattern> [IN <prefix>] WITH (MATERIALS|PRODUCTS) "
        "[IN <prefix>] FROM <step>'"
    )


def glob_matcher(pattern: str) -> Callable[[str], bool]:
    """Return a case-sensitive predicate for *pattern* in the rule glob language."""
    compiled = re.compile(fnmatch.translate(pattern))
    return lambda name: compiled.match(name) is not None


class HasArtifacts(Protocol):
    """Anything with materials and products: a link, a summary link."""

    @property
    def materials(self) -> Mapping[str, Any]:
        """Artifact name -> hash object, before the step."""
        ...

    @property
    def products(self) -> Mapping[str, Any]:
        """Artifact name -> hash object, after the step."""
        ...


def _glob(pattern: str, queue: set[str]) -> set[str]:
    return set(filter(re.compile(fnmatch.translate(pattern)).match, queue))


def _joined_prefix(prefix: str) -> str:
    """What ``posixpath.join(prefix, rest)`` puts before a *rest* without ``/`` at its start."""
    return posixpath.join(prefix, "").replace("\\", "/")


def _plain(rest: str) -> bool:
    """True if joining a prefix with *rest* is concatenation (no backslash, no leading slash)."""
    return "\\" not in rest and not rest.startswith("/")


def _match(
    rule: ArtifactRule,
    queue: set[str],
    source: Mapping[str, Any],
    links: Mapping[str, HasArtifacts],
) -> set[str]:
    dest_link = links.get(rule.dest_name)
    if dest_link is None:
        return set()
    dest = dest_link.materials if rule.dest_type == "materials" else dest_link.products
    if rule.source_prefix:
        prefix = _joined_prefix(rule.source_prefix)
        candidates = [name[len(prefix) :] for name in queue if name.startswith(prefix)]
    else:
        candidates = list(queue)
    matched = list(filter(re.compile(fnmatch.translate(rule.pattern)).match, candidates))
    if all(map(_plain, matched)):
        # The common case in one pass: each joined name is the prefix plus the rest, and the
        # source name is the queued name itself (so it is an artifact of this item).
        src = _joined_prefix(rule.source_prefix) if rule.source_prefix else ""
        dst = _joined_prefix(rule.dest_prefix) if rule.dest_prefix else ""
        return {
            src + rest
            for rest in matched
            if (dst + rest) in dest and source[src + rest] == dest[dst + rest]
        }
    consumed: set[str] = set()
    for rest in matched:
        src_name = rest
        if rule.source_prefix:
            src_name = posixpath.join(rule.source_prefix, rest).replace("\\", "/")
        dst_name = rest
        if rule.dest_prefix:
            dst_name = posixpath.join(rule.dest_prefix, rest).replace("\\", "/")
        if src_name not in source:
            raise RuleVerificationError(
                f"MATCH prefix joins to {src_name!r}, which is not an artifact of this item"
            )
        if dst_name in dest and source[src_name] == dest[dst_name]:
            consumed.add(src_name)
    return consumed


def apply_rules(
    item_name: str,
    side: str,
    rules: Sequence[ArtifactRule],
    links: Mapping[str, HasArtifacts],
    *,
    on_rule: Callable[[ArtifactRule, set[str], set[str]], None] | None = None,
) -> list[tuple[ArtifactRule, set[str]]]:
    """Apply *rules* to one side of the link of *item_name*, with the reference's queue semantics.

    The queue starts as the names on *side*; each rule removes what it consumes; what is left at
    the end is allowed. Returns the trace: each rule with the queue left after it. A failing
    rule's error carries the queue it failed on (``queue``).

    Args:
        item_name: the step or inspection whose link is checked (a key of *links*).
        side: ``"materials"`` or ``"products"``.
        rules: the parsed rules of that side.
        links: the (reduced) link of every step, and of inspections already run.
        on_rule: called after each rule that passed with (rule, consumed names, queue left).

    Raises:
        RuleVerificationError: a DISALLOW matched something, a REQUIRE'd name is not in the queue,
            or a MATCH prefix produced a name the item does not have.
    """
    link = links[item_name]
    materials, products = link.materials, link.products
    artifacts = materials if side == "materials" else products
    queue = set(artifacts)
    trace: list[tuple[ArtifactRule, set[str]]] = []
    for rule in rules:
        consumed: set[str] = set()
        kind = rule.kind
        if kind == "match":
            try:
                consumed = _match(rule, queue, artifacts, links)
            except RuleVerificationError as exc:
                exc.item, exc.side, exc.rule, exc.queue = item_name, side, rule.raw, sorted(queue)
                raise
        elif kind == "allow":
            consumed = _glob(rule.pattern, queue)
        elif kind == "create":
            consumed = {
                n for n in _glob(rule.pattern, queue) if n in products and n not in materials
            }
        elif kind == "delete":
            consumed = {
                n for n in _glob(rule.pattern, queue) if n in materials and n not in products
            }
        elif kind == "modify":
            consumed = {
                n
                for n in _glob(rule.pattern, queue)
                if n in materials and n in products and materials[n] != products[n]
            }
        elif kind == "disallow":
            hits = _glob(rule.pattern, queue)
            if hits:
                raise RuleVerificationError(
                    f"{side} of {item_name!r}: rule {_show(rule)} forbids {_names(hits)}",
                    item=item_name,
                    side=side,
                    rule=rule.raw,
                    queue=sorted(queue),
                )
        elif rule.pattern not in queue:  # require
            raise RuleVerificationError(
                f"{side} of {item_name!r}: rule {_show(rule)} requires {rule.pattern!r}, "
                "which is not (or no longer) in the queue",
                item=item_name,
                side=side,
                rule=rule.raw,
                queue=sorted(queue),
            )
        queue -= consumed
        trace.append((rule, set(queue)))
        if on_rule is not None:
            on_rule(rule, consumed, queue)
    return trace


def _show(rule: ArtifactRule) -> str:
    return f"'{rule.kind.upper()} {rule.pattern}'"


def _names(names: set[str]) -> str:
    shown = sorted(names)
    text = ", ".join(repr(n) for n in shown[:5])
    return text + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
