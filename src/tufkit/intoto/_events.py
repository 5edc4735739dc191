"""Verification events: what a verification reports as it goes, for ``verify -v`` and callers.

A :class:`VerificationEvent` describes one check (a signature, a threshold, a rule with the
artifacts it consumed, an inspection); a reporter is any callable taking one. This module does not
verify or print anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Reporter", "VerificationEvent"]


@dataclass(frozen=True)
class VerificationEvent:
    """One check of a verification, as it happens (what ``verify -v`` prints).

    Attributes:
        kind: ``layout-signature``, ``expiry``, ``link-signature``, ``threshold``,
            ``sublayout``, ``command``, ``inspection``, ``rule``, ``rule-failed`` or ``passed``.
        message: one line for people; names from files are *not* escaped here.
        ok: False when the check failed (a skipped link, a failed rule).
        depth: 0 for the root layout, 1 inside a sublayout, and so on.
        item: the step or inspection concerned, if any.
        rule: the artifact rule as written, for rule events.
        consumed: the artifact names a rule consumed, sorted.
        queue: the artifact names left in the queue (after a rule, or where it failed), sorted.
    """

    kind: str
    message: str
    ok: bool = True
    depth: int = 0
    item: str | None = None
    rule: list[str] | None = None
    consumed: tuple[str, ...] = ()
    queue: tuple[str, ...] = ()

    def lines(self, *, max_names: int = 50) -> list[str]:
        """The event as indented lines for people: the message, then the artifacts a rule
        consumed or, for a failed rule, the queue it failed on (at most *max_names* each).

        The text is not escaped: a caller printing to a terminal must escape it.
        """
        indent = "  " * self.depth
        mark = "" if self.ok else "FAILED: " if self.kind == "rule-failed" else "! "
        out = [f"{indent}{mark}{self.message}"]
        if self.kind == "rule" and self.consumed:
            out.append(f"{indent}    consumed: {_listing(self.consumed, max_names)}")
        if self.kind == "rule-failed":
            out.append(f"{indent}    queue left: {_listing(self.queue, max_names) or '(empty)'}")
        return out


def _listing(names: Sequence[str], limit: int) -> str:
    text = ", ".join(names[:limit])
    return text + (f" and {len(names) - limit} more" if len(names) > limit else "")


Reporter = Callable[[VerificationEvent], None]
