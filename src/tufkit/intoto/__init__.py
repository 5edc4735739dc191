"""in-toto: layouts, links, recording, verification and attestations, compatible with in-toto 3.1.

* Models: :class:`Layout` (:class:`Step`, :class:`Inspection`), :class:`Link`.
* Envelopes (:class:`Envelope`): :class:`Metablock` (the legacy default) and :class:`DsseEnvelope`;
  :func:`load_metadata`/:func:`read_metadata` read either.
* Recording: :func:`record_artifacts`, :func:`run_step`, :func:`run_command`.
* Verification: :func:`verify_supply_chain` is the pure core (layout, keys, links, reference
  time, inspection runner; a reporter sees each check); :class:`LinkDirectory` loads link files
  for it. :func:`verify_layout` raises, :func:`get_verification_result` reports.
* gpg: :class:`GpgSigner` signs with a gpg keyring, :func:`export_gpg_key` reads a key from one;
  gpg-signed links and layouts verify without the binary.
* Attestations: :class:`Statement`, :func:`sign_statement`, :func:`verify_attestation`.

This package does not parse command lines; ``tufkit.cli.intoto`` does.
"""

from tufkit.intoto._attest import STATEMENT_TYPE, Statement, sign_statement, verify_attestation
from tufkit.intoto._describe import expiry_warning, layout_from_description
from tufkit.intoto._envelope import (
    DEFAULT_MAX_METADATA_BYTES,
    PAYLOAD_TYPE,
    DsseEnvelope,
    Envelope,
    Metablock,
    load_metadata,
    pae,
)
from tufkit.intoto._errors import (
    BadReturnValueError,
    CommandError,
    GpgKeyExpiredError,
    InvalidMetadataError,
    LayoutExpiredError,
    LinkNotFoundError,
    OutsideBaseError,
    PrefixError,
    RuleVerificationError,
    SignatureVerificationError,
    ThresholdVerificationError,
)
from tufkit.intoto._events import VerificationEvent
from tufkit.intoto._files import link_filename, read_metadata, unfinished_filename, write_metadata
from tufkit.intoto._gpg import GpgSigner, export_gpg_key, export_gpg_keys
from tufkit.intoto._inspect import (
    InspectionRunner,
    TemporaryCopyInspectionRunner,
    WorkdirInspectionRunner,
)
from tufkit.intoto._keys import key_to_layout_dict, load_public_key_pem
from tufkit.intoto._linkdir import LinkDirectory
from tufkit.intoto._models import (
    Inspection,
    Layout,
    Link,
    Step,
    format_layout_expires,
    parse_layout_expires,
)
from tufkit.intoto._record import DEFAULT_EXCLUDE_PATTERNS, RecordOptions, record_artifacts
from tufkit.intoto._rules import ArtifactRule, apply_rules, parse_rule
from tufkit.intoto._run import DEFAULT_TIMEOUT, run_command, run_step
from tufkit.intoto._verify import (
    LayoutVerificationResult,
    LinkSource,
    VerifyOptions,
    get_verification_result,
    verify_layout,
    verify_supply_chain,
)
from tufkit.intoto._workflow import (
    envelope_for,
    load_private_key_file,
    record_start,
    record_stop,
    sign_metadata,
    verify_metadata_signatures,
)

__all__ = [
    "DEFAULT_EXCLUDE_PATTERNS",
    "DEFAULT_MAX_METADATA_BYTES",
    "DEFAULT_TIMEOUT",
    "PAYLOAD_TYPE",
    "STATEMENT_TYPE",
    "ArtifactRule",
    "BadReturnValueError",
    "CommandError",
    "DsseEnvelope",
    "Envelope",
    "GpgKeyExpiredError",
    "GpgSigner",
    "Inspection",
    "InspectionRunner",
    "InvalidMetadataError",
    "Layout",
    "LayoutExpiredError",
    "LayoutVerificationResult",
    "Link",
    "LinkDirectory",
    "LinkNotFoundError",
    "LinkSource",
    "Metablock",
    "OutsideBaseError",
    "PrefixError",
    "RecordOptions",
    "RuleVerificationError",
    "SignatureVerificationError",
    "Statement",
    "Step",
    "TemporaryCopyInspectionRunner",
    "ThresholdVerificationError",
    "VerificationEvent",
    "VerifyOptions",
    "WorkdirInspectionRunner",
    "apply_rules",
    "envelope_for",
    "expiry_warning",
    "export_gpg_key",
    "export_gpg_keys",
    "format_layout_expires",
    "get_verification_result",
    "key_to_layout_dict",
    "layout_from_description",
    "link_filename",
    "load_metadata",
    "load_private_key_file",
    "load_public_key_pem",
    "pae",
    "parse_layout_expires",
    "parse_rule",
    "read_metadata",
    "record_artifacts",
    "record_start",
    "record_stop",
    "run_command",
    "run_step",
    "sign_metadata",
    "sign_statement",
    "unfinished_filename",
    "verify_attestation",
    "verify_layout",
    "verify_metadata_signatures",
    "verify_supply_chain",
    "write_metadata",
]
