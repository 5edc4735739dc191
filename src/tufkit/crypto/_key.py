"""Public keys in the TUF key format, keyids, and signature verification.

A :class:`Key` is what metadata says about a key: keytype, scheme, ``keyval`` and any
unrecognised fields, which are kept and covered by the keyid. Verification never raises for bad
signatures or unusable keys: an unusable key (an unknown keytype or scheme such as tuf-on-ci's
``sigstore-oidc``, a ``keyval`` without a public key, unreadable key material) simply verifies
nothing, and the document that lists it stays readable. This module does not read key files or
know roles and thresholds.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from tufkit.canonical import encode_canonical
from tufkit.crypto._schemes import LoadedKey, load_public_key, scheme_info

if TYPE_CHECKING:
    from tufkit.crypto._sigstore import SigstoreVerifier
from tufkit.errors import FormatError

__all__ = ["Key", "Signature"]

_KNOWN_KEY_FIELDS = ("keytype", "scheme", "keyval")


def _require_str(data: dict[str, Any], field: str, where: str) -> str:
    value = data.get(field)
    if type(value) is not str:
        problem = (
            "is missing" if field not in data else f"must be a string, not {_type_name(value)}"
        )
        raise FormatError(f"{where}: '{field}' {problem}")
    return value


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


class Key:
    """A public key as written in TUF metadata.

    Attributes:
        keyid: the identifier metadata uses for this key.
        keytype: e.g. ``"ed25519"``, ``"ecdsa"``, ``"rsa"``.
        scheme: e.g. ``"ed25519"``, ``"ecdsa-sha2-nistp256"``, ``"rsassa-pss-sha256"``.
        keyval: the ``keyval`` object; ``keyval["public"]`` is the public key of every key
            type tufkit can use (other key types may hold anything, e.g. an identity).
        unrecognized_fields: other fields of the key object, kept as they were read.
    """

    __slots__ = (
        "_identity",
        "_loaded",
        "_tried",
        "keyid",
        "keytype",
        "keyval",
        "scheme",
        "unrecognized_fields",
    )

    def __init__(
        self,
        keyid: str,
        keytype: str,
        scheme: str,
        keyval: dict[str, Any],
        unrecognized_fields: dict[str, Any] | None = None,
    ) -> None:
        if type(keyval) is not dict:
            raise ValueError("keyval must be a dict")
        self.keyid = keyid
        self.keytype = keytype
        self.scheme = scheme
        self.keyval = keyval
        self.unrecognized_fields = unrecognized_fields or {}
        self._loaded: LoadedKey | SigstoreVerifier | None = None
        self._tried = False  # whether _loaded has been computed
        self._identity: tuple[str, str] | None = None

    @classmethod
    def from_dict(cls, keyid: str, data: object) -> Key:
        """Read a key object from metadata.

        Only ``keytype``, ``scheme`` (strings) and ``keyval`` (an object) are required, so a key
        tufkit cannot use (``sigstore-oidc``, whose ``keyval`` holds an identity and an issuer)
        is read and merely verifies nothing.

        Raises:
            FormatError: a field is missing or has the wrong type.
        """
        where = f"key {keyid[:16]}"
        if type(data) is not dict:
            raise FormatError(f"{where}: must be an object, not {_type_name(data)}")
        keytype = _require_str(data, "keytype", where)
        scheme = _require_str(data, "scheme", where)
        keyval = data.get("keyval")
        if type(keyval) is not dict:
            raise FormatError(f"{where}: 'keyval' must be an object")
        others = {k: v for k, v in data.items() if k not in _KNOWN_KEY_FIELDS}
        return cls(keyid, keytype, scheme, keyval, others)

    @classmethod
    def from_public(
        cls, keytype: str, scheme: str, public: str, *, extra: dict[str, Any] | None = None
    ) -> Key:
        """Build a key from its public value, with the keyid computed the TUF way."""
        key = cls("", keytype, scheme, {"public": public}, dict(extra or {}))
        key.keyid = key.compute_keyid()
        return key

    def to_dict(self) -> dict[str, Any]:
        """Return the key object as metadata writes it (the keyid is not part of it)."""
        return {
            "keytype": self.keytype,
            "scheme": self.scheme,
            "keyval": self.keyval,
            **self.unrecognized_fields,
        }

    def compute_keyid(self) -> str:
        """Return the SHA-256 hex digest of the canonical key object, every field included."""
        return hashlib.sha256(encode_canonical(self.to_dict())).hexdigest()

    @property
    def public(self) -> str:
        """The public key value (``keyval["public"]``), or "" if the key has no string there."""
        value = self.keyval.get("public")
        return value if type(value) is str else ""

    @property
    def is_supported(self) -> bool:
        """True if tufkit can verify signatures with this key."""
        return self._load() is not None

    def identity(self) -> tuple[str, str]:
        """What makes two keys the same key, whatever their keyids: the key material.

        Thresholds count identities, not keyids (TUF TAP 12). The material comes from the very
        loader that verifies signatures, so whatever spelling verifies as a key (hex case, PEM
        line endings or text around the PEM block, PKCS#1 or SubjectPublicKeyInfo, hex or
        compressed ECDSA points, another scheme of the same family) is that key. A Sigstore
        key is its issuer and identity. Keys tufkit cannot use verify nothing; each is its own
        identity (by keyid).
        """
        if self._identity is None:
            loaded = self._load()
            if loaded is None:
                self._identity = ("unusable", self.keyid)
            elif isinstance(loaded, LoadedKey):
                info = scheme_info(self.keytype, self.scheme)
                family = info.family if info is not None else "unusable"
                self._identity = (family, loaded.material.hex())
            else:
                self._identity = (loaded.family, loaded.material.hex())
        return self._identity

    def _load(self) -> LoadedKey | SigstoreVerifier | None:
        if not self._tried:
            self._loaded = self._load_now()
            self._tried = True
        return self._loaded

    def _load_now(self) -> LoadedKey | SigstoreVerifier | None:
        info = scheme_info(self.keytype, self.scheme)
        public = self.keyval.get("public")
        if info is not None and type(public) is str:
            return load_public_key(info, public)
        from tufkit.crypto._sigstore import SIGSTORE_KEYTYPE, SIGSTORE_SCHEME

        if (self.keytype, self.scheme) == (SIGSTORE_KEYTYPE, SIGSTORE_SCHEME):
            from tufkit.crypto._sigstore import load_sigstore_key

            return load_sigstore_key(self.keyval)
        return None

    def verify_signature(self, signature: Signature | str, data: bytes) -> bool:
        """Return True if *signature* (an object, or its hex string) is valid over *data*.

        Empty, non-hex or wrong signatures, and keys tufkit cannot use, give False. A Sigstore
        key verifies only a :class:`Signature` object (its ``bundle`` field holds the proof).
        """
        loaded = self._load()
        if loaded is None:
            return False
        if not isinstance(loaded, LoadedKey):
            return isinstance(signature, Signature) and loaded.verify(signature, data)
        sig_hex = signature.signature if isinstance(signature, Signature) else signature
        if not sig_hex or type(sig_hex) is not str:
            return False
        try:
            raw = bytes.fromhex(sig_hex)
        except ValueError:
            return False
        return loaded.verify(raw, data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        return self.keyid == other.keyid and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.keyid, self.scheme))

    def __repr__(self) -> str:
        return f"Key(keyid={self.keyid[:16]!r}, keytype={self.keytype!r}, scheme={self.scheme!r})"


class Signature:
    """One entry of a metadata ``signatures`` list.

    Attributes:
        keyid: the keyid of the key that made it.
        signature: the signature bytes as lowercase hex (may be empty: a keyholder that did not
            sign).
        unrecognized_fields: other fields, kept as read.
    """

    __slots__ = ("keyid", "signature", "unrecognized_fields")

    def __init__(
        self, keyid: str, signature: str, unrecognized_fields: dict[str, Any] | None = None
    ) -> None:
        self.keyid = keyid
        self.signature = signature
        self.unrecognized_fields = unrecognized_fields or {}

    @classmethod
    def from_dict(cls, data: object) -> Signature:
        """Read a signature object.

        Raises:
            FormatError: not an object with string 'keyid' and 'sig'.
        """
        if type(data) is not dict:
            raise FormatError(f"signature must be an object, not {_type_name(data)}")
        keyid = _require_str(data, "keyid", "signature")
        sig = _require_str(data, "sig", "signature")
        others = {k: v for k, v in data.items() if k not in ("keyid", "sig")}
        return cls(keyid, sig, others)

    def to_dict(self) -> dict[str, Any]:
        """Return the signature object as metadata writes it."""
        return {"keyid": self.keyid, "sig": self.signature, **self.unrecognized_fields}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signature):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.keyid, self.signature))

    def __repr__(self) -> str:
        return f"Signature(keyid={self.keyid[:16]!r})"
