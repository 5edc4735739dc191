"""Sigstore keys (``sigstore-oidc`` / ``Fulcio``), as tuf-on-ci and securesystemslib write them.

Such a key names an OpenID Connect identity and its issuer instead of holding a public key; a
signature by it carries, beside the usual ``sig``, a Sigstore ``bundle`` (a short-lived Fulcio
certificate for the identity, the signature over the payload, and the Rekor transparency-log
entry that proves when it was made). It verifies when the bundle verifies over the payload
against Sigstore's public-good trust root and the certificate names exactly the key's identity
and issuer (what securesystemslib's ``SigstoreKey`` checks, through the same library).

Verification is offline: the trust root is the one shipped inside the installed ``sigstore``
package (upgrading the package updates it); nothing is fetched and nothing is written. Without
the optional ``sigstore`` extra installed, such keys verify nothing. This module does not sign.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tufkit.crypto._key import Signature

__all__ = ["SIGSTORE_KEYTYPE", "SIGSTORE_SCHEME", "SigstoreVerifier", "load_sigstore_key"]

SIGSTORE_KEYTYPE = "sigstore-oidc"
SIGSTORE_SCHEME = "Fulcio"
_PRODUCTION = "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"


class SigstoreVerifier:
    """Checks Sigstore bundles for one identity and issuer.

    Attributes:
        family: ``"sigstore-oidc"``.
        material: what makes two such keys one key: the identity and issuer (canonical JSON).
    """

    family = SIGSTORE_KEYTYPE

    def __init__(self, identity: str, issuer: str, verifier: Any) -> None:
        self._identity = identity
        self._issuer = issuer
        self._verifier = verifier
        self.material = json.dumps([issuer, identity], separators=(",", ":")).encode("utf-8")

    def verify(self, signature: Signature, data: bytes) -> bool:
        """True if the signature's ``bundle`` verifies over *data* for this identity; never
        raises (a missing or malformed bundle, a wrong identity or payload give False)."""
        bundle_data = signature.unrecognized_fields.get("bundle")
        if type(bundle_data) is not dict:
            return False
        from sigstore.models import Bundle
        from sigstore.verify.policy import Identity

        try:
            bundle = Bundle.from_json(json.dumps(bundle_data))
            policy = Identity(identity=self._identity, issuer=self._issuer)
            self._verifier.verify_artifact(data, bundle, policy)
        except Exception:  # any failure on hostile input means "does not verify"
            return False
        return True


def load_sigstore_key(keyval: dict[str, Any]) -> SigstoreVerifier | None:
    """A verifier for a ``sigstore-oidc`` key's ``keyval``, or None when the ``sigstore`` extra
    is not installed or ``identity``/``issuer`` are not non-empty strings."""
    identity, issuer = keyval.get("identity"), keyval.get("issuer")
    if type(identity) is not str or type(issuer) is not str or not identity or not issuer:
        return None
    try:
        import importlib.resources

        from sigstore.models import TrustedRoot
        from sigstore.verify import Verifier
    except ImportError:
        return None
    try:
        store = importlib.resources.files("sigstore._store").joinpath(_PRODUCTION)
        with importlib.resources.as_file(store.joinpath("trusted_root.json")) as path:
            trusted_root = TrustedRoot.from_file(str(path))
        verifier = Verifier(trusted_root=trusted_root)
    except Exception:  # a sigstore package without its trust root: the key is unusable
        return None
    return SigstoreVerifier(identity, issuer, verifier)
