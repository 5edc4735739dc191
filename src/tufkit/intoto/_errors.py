"""The in-toto error classes, all under :class:`tufkit.errors.SupplyChainError`.

The names follow the failure categories users of the reference implementation know, so a
diagnostic such as ``RuleVerificationError: ...`` means the same thing in both tools. This module
does not decide when to raise them.
"""

from __future__ import annotations

from tufkit.errors import ConfigError, SupplyChainError

__all__ = [
    "BadReturnValueError",
    "CommandError",
    "GpgKeyExpiredError",
    "InvalidMetadataError",
    "LayoutExpiredError",
    "LinkNotFoundError",
    "OutsideBaseError",
    "PrefixError",
    "RuleVerificationError",
    "SignatureVerificationError",
    "ThresholdVerificationError",
]


class InvalidMetadataError(SupplyChainError):
    """A layout, link or envelope is malformed, too large or of an unknown kind."""


class SignatureVerificationError(SupplyChainError):
    """A signature is missing or does not verify with the key that must have made it."""


class LayoutExpiredError(SupplyChainError):
    """The layout's ``expires`` date is not in the future."""


class LinkNotFoundError(SupplyChainError):
    """Fewer link files than a step's threshold exist in the link directory."""


class ThresholdVerificationError(SupplyChainError):
    """Not enough distinct functionaries validly signed agreeing links for a step."""


class RuleVerificationError(SupplyChainError):
    """An artifact rule (DISALLOW or REQUIRE) failed for a step or inspection.

    Attributes:
        item: the step or inspection whose artifacts failed, when known.
        side: ``"materials"`` or ``"products"``, when known.
        rule: the failing rule as written in the layout, when known.
        queue: the artifact names still in the queue when the rule failed, sorted.
    """

    def __init__(
        self,
        message: str,
        *,
        item: str | None = None,
        side: str | None = None,
        rule: list[str] | None = None,
        queue: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.item = item
        self.side = side
        self.rule = rule
        self.queue = queue


class BadReturnValueError(SupplyChainError):
    """An inspection command exited with a non-zero status, failed to start or timed out."""


class PrefixError(ConfigError):
    """``lstrip_paths`` prefixes overlap or make two artifact names collide."""


class OutsideBaseError(ConfigError):
    """A path to record, or a symlink on the way, leads outside the base directory.

    Attributes:
        what: ``"path"`` or ``"symlink"``.
        path: the path as given or found.
        base: the base directory.
    """

    def __init__(self, what: str, path: str, base: str) -> None:
        self.what, self.path, self.base = what, path, base
        super().__init__(self.explain("unsafe_allow_outside_base"))

    def explain(self, allow: str) -> str:
        """The message, naming *allow* (a parameter or a command-line flag) as the way out."""
        return (
            f"{self.what} {self.path!r} leads outside the base directory {self.base!r}; "
            f"refusing to record it ({allow} allows it)"
        )


class CommandError(SupplyChainError):
    """A step's command could not be started or did not finish within its timeout."""


class GpgKeyExpiredError(SignatureVerificationError):
    """A gpg key (or the subkey that signed) has expired; its signatures count for nothing."""
