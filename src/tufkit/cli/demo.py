"""``tufkit demo``: an end-to-end walk through what tufkit can do so far, printing each step.

It generates keys, builds and signs a small repository's metadata (root with a 2-of-2 threshold,
targets with a delegation, snapshot, timestamp), writes it with consistent-snapshot names, reads
it back strictly and verifies every role against its delegator, and shows that tampering, an
unauthorised key and a forged delegation are each refused. Then it serves the repository over
HTTP on 127.0.0.1 and runs the TUF client against it: a refresh, a delegated download, and
attacks by the server (a substituted target, an unsigned timestamp) that the client refuses.
Then a maintainer publishes a repository with ``tufkit repo`` (init with hashed bins, add
files), serves it, rotates the timestamp key in a new root, and a client follows the rotation and
refuses a timestamp signed by the revoked key. Last, an in-toto supply chain: the owner signs a
layout, a functionary records a signed build, the end user verifies the product, and a product
swapped after the build is refused.
Nothing leaves the output directory and no traffic leaves the machine. Every line is escaped
before it is printed (the output directory's name is the user's, error names come from the
library): nothing printed can act on the terminal.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from tufkit.cli._output import printable

__all__ = ["demo"]


def _step(text: str) -> None:
    click.secho(f"==> {printable(text)}", bold=True)


def _ok(text: str) -> None:
    click.echo(f"    ok: {printable(text)}")


def _build(out: Path) -> dict[str, Any]:
    from tufkit.crypto import generate
    from tufkit.metadata import (
        DelegatedRole,
        Delegations,
        Metadata,
        MetaFile,
        Role,
        Root,
        Snapshot,
        TargetFile,
        Targets,
        Timestamp,
    )

    _step("generating keys")
    keys = {
        "root-1": generate("ed25519"),
        "root-2": generate("ecdsa"),
        "targets": generate("ed25519"),
        "snapshot": generate("ed25519"),
        "timestamp": generate("ed25519"),
        "releases": generate("rsa"),
    }
    for name, signer in keys.items():
        key = signer.public_key
        _ok(f"{name:<10} {key.scheme:<20} keyid {key.keyid[:16]}...")

    _step("building and signing metadata")
    now = datetime.now(UTC).replace(microsecond=0)
    root = Root(expires=now + timedelta(days=365))
    root.roles["root"] = Role([], 2)
    for name in ("root-1", "root-2"):
        root.add_key(keys[name].public_key, "root")
    for name in ("targets", "snapshot", "timestamp"):
        root.add_key(keys[name].public_key, name)

    payloads = {"hello.txt": b"hello, world\n", "releases/app-1.0.tar.gz": b"\x1f\x8b app 1.0"}
    targets_dir = out / "targets"
    targets_dir.mkdir(parents=True)
    for path, data in payloads.items():
        directory, _, name = path.rpartition("/")
        (targets_dir / directory).mkdir(parents=True, exist_ok=True)
        (targets_dir / path).write_bytes(data)
        for algorithm in ("sha256", "sha512"):  # consistent snapshot: <hash>.<name> as well
            digest = hashlib.new(algorithm, data).hexdigest()
            (targets_dir / directory / f"{digest}.{name}").write_bytes(data)

    releases_key = keys["releases"].public_key
    top = Targets(expires=now + timedelta(days=90))
    top.targets["hello.txt"] = TargetFile.from_data("hello.txt", payloads["hello.txt"])
    top.delegations = Delegations(
        {releases_key.keyid: releases_key},
        {"releases": DelegatedRole("releases", [releases_key.keyid], 1, True, ["releases/*"])},
    )
    releases = Targets(expires=now + timedelta(days=90))
    path = "releases/app-1.0.tar.gz"
    releases.targets[path] = TargetFile.from_data(path, payloads[path], ("sha256", "sha512"))

    documents: dict[str, Metadata[Any]] = {
        "root": Metadata(root),
        "targets": Metadata(top),
        "releases": Metadata(releases),
    }
    for name in ("root-1", "root-2"):
        documents["root"].sign(keys[name])
    documents["targets"].sign(keys["targets"])
    documents["releases"].sign(keys["releases"])
    written: dict[str, bytes] = {
        name: documents[name].to_bytes() for name in ("root", "targets", "releases")
    }
    snapshot = Snapshot(expires=now + timedelta(days=7))
    snapshot.meta = {
        f"{name}.json": MetaFile(1, len(data), {"sha256": _sha256(data)})
        for name, data in written.items()
        if name != "root"
    }
    documents["snapshot"] = Metadata(snapshot)
    documents["snapshot"].sign(keys["snapshot"])
    written["snapshot"] = documents["snapshot"].to_bytes()
    timestamp = Timestamp(expires=now + timedelta(days=1))
    data = written["snapshot"]
    timestamp.snapshot_meta = MetaFile(1, len(data), {"sha256": _sha256(data)})
    documents["timestamp"] = Metadata(timestamp)
    documents["timestamp"].sign(keys["timestamp"])
    written["timestamp"] = documents["timestamp"].to_bytes()

    metadata_dir = out / "metadata"
    metadata_dir.mkdir(parents=True)
    for name, data in written.items():
        file_name = f"{name}.json" if name == "timestamp" else f"1.{name}.json"
        (metadata_dir / file_name).write_bytes(data)
        _ok(f"{file_name:<20} {len(data):>6} bytes, {len(documents[name].signatures)} signature(s)")
    return {"keys": keys, "metadata_dir": metadata_dir, "now": now}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verify(metadata_dir: Path, now: datetime) -> dict[str, Any]:
    from tufkit.metadata import Metadata, Root, Snapshot, Targets, Timestamp

    _step("reading back and verifying every role against its delegator")
    raw = {
        "root": (metadata_dir / "1.root.json").read_bytes(),
        "timestamp": (metadata_dir / "timestamp.json").read_bytes(),
        "snapshot": (metadata_dir / "1.snapshot.json").read_bytes(),
        "targets": (metadata_dir / "1.targets.json").read_bytes(),
        "releases": (metadata_dir / "1.releases.json").read_bytes(),
    }
    root = Metadata.from_bytes_as(raw["root"], Root)
    root.signed.verify_delegate("root", root.verification_payload, root.signatures)
    _ok("root is signed by 2 of its 2 root keys")
    timestamp = Metadata.from_bytes_as(raw["timestamp"], Timestamp)
    root.signed.verify_delegate("timestamp", timestamp.verification_payload, timestamp.signatures)
    timestamp.signed.snapshot_meta.verify_length_and_hashes(raw["snapshot"], "snapshot")
    _ok("timestamp verified; snapshot bytes match its length and hash")
    snapshot = Metadata.from_bytes_as(raw["snapshot"], Snapshot)
    root.signed.verify_delegate("snapshot", snapshot.verification_payload, snapshot.signatures)
    for name in ("targets", "releases"):
        snapshot.signed.meta[f"{name}.json"].verify_length_and_hashes(raw[name], name)
    _ok("snapshot verified; targets and releases bytes match it")
    targets = Metadata.from_bytes_as(raw["targets"], Targets)
    root.signed.verify_delegate("targets", targets.verification_payload, targets.signatures)
    releases = Metadata.from_bytes_as(raw["releases"], Targets)
    targets.signed.verify_delegate("releases", releases.verification_payload, releases.signatures)
    _ok("targets verified by root; releases verified by the delegation in targets")
    for md in (root, timestamp, snapshot, targets, releases):
        if md.signed.is_expired(now):
            raise click.ClickException(f"{md.signed.type} is expired")
    _ok("nothing has expired")
    target = releases.signed.targets["releases/app-1.0.tar.gz"]
    data = (metadata_dir.parent / "targets" / target.path).read_bytes()
    target.verify_length_and_hashes(data)
    _ok(f"{target.path}: {target.length} bytes match sha256 and sha512")
    return {"raw": raw, "root": root, "targets": targets}


def _attacks(keys: dict[str, Any], verified: dict[str, Any]) -> None:
    from tufkit.errors import FormatError, LengthOrHashMismatchError, RepositoryError
    from tufkit.metadata import Metadata, TargetFile, Targets

    _step("attacks that must fail")
    root, targets = verified["root"], verified["targets"]
    tampered = verified["raw"]["targets"].replace(b'"length":13', b'"length":14')
    forged = Metadata.from_bytes_as(tampered, Targets)
    result = root.signed.get_verification_result(
        "targets", forged.verification_payload, forged.signatures
    )
    _expect_refused(not result.verified, "a targets file with one length changed")

    evil = Metadata.from_bytes_as(verified["raw"]["releases"], Targets)
    evil.signed.targets["releases/app-1.0.tar.gz"] = TargetFile.from_data(
        "releases/app-1.0.tar.gz", b"malware"
    )
    evil.sign(keys["snapshot"], append=False)
    result = targets.signed.get_verification_result(
        "releases", evil.verification_payload, evil.signatures
    )
    _expect_refused(not result.verified, "releases re-signed with the (online) snapshot key")

    try:
        TargetFile.from_data("hello.txt", b"hello, world\n").verify_length_and_hashes(b"hell0")
        _expect_refused(False, "a substituted target file")
    except LengthOrHashMismatchError:
        _expect_refused(True, "a substituted target file")

    duplicated = verified["raw"]["targets"].replace(
        b'"signatures":[', b'"signatures":[{"keyid":"a","sig":""},{"keyid":"a","sig":""},', 1
    )
    try:
        Metadata.from_bytes(duplicated)
        _expect_refused(False, "a document repeating a keyid in its signatures")
    except (FormatError, RepositoryError):
        _expect_refused(True, "a document repeating a keyid in its signatures")


@contextmanager
def _serve(directory: Path) -> Iterator[str]:
    """Serve *directory* over HTTP on 127.0.0.1 (an ephemeral port) while the block runs."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _client(out: Path) -> None:
    from tufkit.client import Updater

    _step("serving the repository on 127.0.0.1 and updating with the TUF client")
    bootstrap = (out / "metadata" / "1.root.json").read_bytes()
    with _serve(out) as base:

        def updater(name: str) -> Updater:
            return Updater(
                metadata_dir=out / name / "metadata",
                metadata_base_url=f"{base}/metadata/",
                trusted_root=bootstrap,
                target_dir=out / name / "targets",
                target_base_url=f"{base}/targets/",
            )

        client = updater("client")
        client.refresh()
        _ok(f"refreshed from {base}/metadata/ (root, timestamp, snapshot, targets)")
        lookup = client.lookup("releases/app-1.0.tar.gz")
        if lookup.target is None:
            raise click.ClickException("the client did not find releases/app-1.0.tar.gz")
        saved = client.download_target(lookup.target)
        _ok(f"found via {' -> '.join(lookup.chain)}; downloaded and verified into {saved}")

        _step("the server turns hostile; the client must refuse")
        hello = out / "targets" / f"{_sha256(b'hello, world' + bytes([10]))}.hello.txt"
        timestamp = out / "metadata" / "timestamp.json"
        originals = {hello: hello.read_bytes(), timestamp: timestamp.read_bytes()}
        try:
            _hostile_server(out, updater, hello, timestamp)
        finally:
            for path, data in originals.items():  # leave a good repository behind
                path.write_bytes(data)


def _hostile_server(out: Path, updater: Any, hello: Path, timestamp: Path) -> None:
    from tufkit.errors import DownloadError, RepositoryError

    hello.write_bytes(b"HELLO, W0RLD\n")  # same length: only the hash can tell
    victim = updater("client-2")
    info = victim.get_targetinfo("hello.txt")
    try:
        assert info is not None
        victim.download_target(info)
        _expect_refused(False, "a substituted target file served over HTTP")
    except (RepositoryError, DownloadError) as exc:
        _expect_refused(True, f"a substituted target file ({type(exc).__name__})")
    if any((out / "client-2" / "targets").iterdir()):
        raise click.ClickException("SECURITY FAILURE: a refused target was left on disk")

    timestamp.write_bytes(timestamp.read_bytes().replace(b'"version":1', b'"version":2'))
    try:
        updater("client").refresh()
        _expect_refused(False, "a timestamp whose version was raised without signing")
    except RepositoryError as exc:
        _expect_refused(True, f"a timestamp altered without its key ({type(exc).__name__})")


def _repo_cli(*args: str | Path) -> Any:
    """Run ``tufkit repo ARGS -q`` in this process, as a maintainer would type it."""
    from tufkit.cli.repo import repo

    return repo.main([*map(str, args), "-q"], prog_name="tufkit repo", standalone_mode=False)


def _maintainer(out: Path) -> None:
    """A maintainer publishes with ``tufkit repo``, rotates the timestamp key, and a client
    follows the rotation and refuses a timestamp signed by the revoked key."""
    import threading

    from tufkit.cli._repo_server import make_server
    from tufkit.client import Updater
    from tufkit.errors import RepositoryError

    _step("a maintainer publishes with `tufkit repo`; a client follows a key rotation")
    repo, dist = out / "published", out / "dist"
    (dist / "app").mkdir(parents=True)
    (dist / "app" / "app-2.0.tar.gz").write_bytes(b"app 2.0\n")
    (dist / "app" / "NOTES.txt").write_bytes(b"what is new in 2.0\n")
    _repo_cli("init", "--repo", repo, "--no-encrypt", "--bins", "4")
    _ok(f"tufkit repo init --repo {repo} --bins 4: keys, root, 16 hashed bins")
    _repo_cli("add", "--repo", repo, "--base", dist, dist / "app")
    _ok("tufkit repo add --base dist dist/app: 2 targets hashed, bins, snapshot, timestamp")
    server = make_server(repo, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        client = Updater(
            metadata_dir=out / "follower" / "metadata",
            metadata_base_url=f"{base}/metadata/",
            trusted_root=(repo / "metadata" / "1.root.json").read_bytes(),
            target_dir=out / "follower" / "targets",
            target_base_url=f"{base}/targets/",
        )
        client.refresh()
        found = client.lookup("app/app-2.0.tar.gz")
        if found.target is None:
            raise click.ClickException("the client did not find app/app-2.0.tar.gz")
        client.download_target(found.target)
        _ok(f"tufkit repo serve: the client found it via {' -> '.join(found.chain)}, verified")
        old_key = _rotate_timestamp_key(repo)
        _repo_cli("bump", "--repo", repo)
        follower = Updater.from_trusted_cache(
            out / "follower" / "metadata", f"{base}/metadata/", target_base_url=f"{base}/targets/"
        )
        follower.refresh()
        root = follower.trusted_set.root.signed
        if root.version != 2 or old_key.public_key.keyid in root.roles["timestamp"].keyids:
            raise click.ClickException("the client did not follow the timestamp key rotation")
        _ok("root v2 rotates the timestamp key; tufkit repo bump signs with the new key")
        _ok("the client updated to root v2 and accepted the new timestamp")
        good = _forge_timestamp(repo, old_key)
        try:
            Updater.from_trusted_cache(
                out / "follower" / "metadata",
                f"{base}/metadata/",
                target_base_url=f"{base}/targets/",
            ).refresh()
            _expect_refused(False, "a timestamp signed by the revoked timestamp key")
        except RepositoryError as exc:
            _expect_refused(True, f"a timestamp signed by the revoked key ({type(exc).__name__})")
        (repo / "metadata" / "timestamp.json").write_bytes(good)  # leave a good repository
    finally:
        server.shutdown()
        server.server_close()
    _ok(f"try it: tufkit repo status --repo {repo}")


def _rotate_timestamp_key(repo_dir: Path) -> Any:
    """Root v2 replaces the timestamp key (library calls until a `rotate-key` verb exists);
    the configuration names the new key, so the next `bump` signs with it."""
    from dataclasses import replace

    from tufkit.crypto import CryptoSigner, generate
    from tufkit.repository import FilesystemStorage, Repository
    from tufkit.repository._config import CONFIG_FILENAME, RepositoryConfig, RoleConfig

    config = RepositoryConfig.load(repo_dir / CONFIG_FILENAME)

    def key(name: str) -> CryptoSigner:
        return CryptoSigner.from_private_pem((repo_dir / "keys" / name).read_bytes(), None)

    old = key("timestamp.pem")
    new = generate()
    (repo_dir / "keys" / "timestamp-2.pem").write_bytes(new.private_pem(None))
    (repo_dir / "keys" / "timestamp-2.pem").chmod(0o600)
    signers = [key("root.pem"), key("snapshot.pem")]
    repository = Repository.open(
        FilesystemStorage(repo_dir), signers=[*signers, new], policy=config.expiry
    )
    with repository.edit_root() as root:
        root.revoke_key(old.public_key.keyid, "timestamp")
        root.add_key(new.public_key, "timestamp")
    repository.publish()
    roles = {**config.roles, "timestamp": RoleConfig(1, True, ("file:keys/timestamp-2.pem",))}
    replace(config, roles=roles).save(repo_dir / CONFIG_FILENAME)
    return old


def _forge_timestamp(repo_dir: Path, old_key: Any) -> bytes:
    """What a thief of the revoked key can do: sign a newer timestamp with it; returns the
    genuine timestamp it replaced."""
    from tufkit.metadata import Metadata, Timestamp

    path = repo_dir / "metadata" / "timestamp.json"
    good = path.read_bytes()
    forged = Metadata.from_bytes_as(good, Timestamp)
    forged.signed.version += 1
    forged.signatures.clear()
    forged.sign(old_key)
    path.write_bytes(forged.to_bytes())
    return good


def _supply_chain(out: Path) -> None:
    import sys

    from tufkit.crypto import generate
    from tufkit.intoto import (
        Inspection,
        Layout,
        Link,
        Metablock,
        RecordOptions,
        Step,
        VerifyOptions,
        WorkdirInspectionRunner,
        format_layout_expires,
        get_verification_result,
        key_to_layout_dict,
        link_filename,
        record_artifacts,
        run_command,
        sign_metadata,
        write_metadata,
    )

    _step("in-toto: the owner's layout, a functionary's signed build, the user's verification")
    work = out / "supply-chain"
    (work / "src").mkdir(parents=True)
    (work / "src" / "app.py").write_text("print('hello from app 1.0')\n")
    owner, builder = generate("ed25519"), generate("ecdsa")
    build_command = [sys.executable, "-c", _BUILD_SCRIPT]
    layout = Layout(
        steps=[
            Step(
                name="build",
                pubkeys=[builder.public_key.keyid],
                expected_command=build_command,
                expected_materials=[["ALLOW", "src/*"], ["DISALLOW", "*"]],
                expected_products=[["CREATE", "dist/app.zip"], ["DISALLOW", "*"]],
            )
        ],
        inspect=[
            Inspection(
                name="check-product",
                run=[sys.executable, "-c", _CHECK_SCRIPT],
                expected_materials=[
                    # an archive that does not match the build is left for the DISALLOW
                    ["MATCH", "dist/app.zip", "WITH", "PRODUCTS", "FROM", "build"],
                    ["DISALLOW", "dist/app.zip"],
                    ["ALLOW", "*"],
                ],
            )
        ],
        keys={builder.public_key.keyid: key_to_layout_dict(builder.public_key)},
        expires=format_layout_expires(datetime.now(UTC) + timedelta(days=30)),
        readme="demo: one build step, signed by the builder",
    )
    signed_layout = Metablock(layout)
    sign_metadata(signed_layout, [owner])
    write_metadata(work / "root.layout", signed_layout)
    _ok("owner signed root.layout: step 'build' by the builder's key, creating dist/app.zip only;")
    _ok("  inspection 'check-product': the product the user holds must be the one built")

    options = RecordOptions(base_path=work)
    materials = record_artifacts(["src"], options)
    byproducts = run_command(build_command, cwd=str(work))
    link = Link(name="build", materials=materials, byproducts=byproducts, command=build_command)
    link.products = record_artifacts(["dist"], options)
    evidence = Metablock(link)
    sign_metadata(evidence, [builder])
    write_metadata(work / link_filename("build", builder.public_key.keyid), evidence)
    _ok(f"builder ran the build and signed {link_filename('build', builder.public_key.keyid)}")

    verify = VerifyOptions(link_dir=work, runner=WorkdirInspectionRunner(work))
    result = get_verification_result(signed_layout, [owner.public_key], verify)
    if not result.ok:
        raise click.ClickException(f"in-toto verification failed: {result.error}")
    _ok("end user verified the layout signature, the builder's link and every artifact rule")
    product = work / "dist" / "app.zip"
    built = product.read_bytes()
    _swap_product(product)
    result = get_verification_result(signed_layout, [owner.public_key], verify)
    summary = f"{type(result.error).__name__} in {result.failed_item}" if result.error else ""
    _expect_refused(not result.ok, f"a product swapped after the build ({summary})")
    product.write_bytes(built)
    (work / "check-product.link").unlink()
    (work / "owner.pub").write_bytes(_public_pem(owner.public_key.public))
    _ok(f"try it: cd {work} && tufkit intoto verify -l root.layout --verification-keys owner.pub")


def _public_pem(ed25519_hex: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(ed25519_hex))
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _swap_product(path: Path) -> None:
    """Replace the built archive by another valid archive (what a compromised mirror would do)."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("app.py", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(info, "import os  # a backdoor\n")


# The inspection: the archive must at least open and pass its CRC checks.
_CHECK_SCRIPT = """
import sys, zipfile
sys.exit(zipfile.ZipFile("dist/app.zip").testzip() is not None)
"""

# The demo's build: zip src/ into dist/app.zip, with fixed timestamps (reproducible).
_BUILD_SCRIPT = """
import os, zipfile
os.makedirs("dist", exist_ok=True)
with zipfile.ZipFile("dist/app.zip", "w") as archive:
    info = zipfile.ZipInfo("app.py", date_time=(2020, 1, 1, 0, 0, 0))
    archive.writestr(info, open("src/app.py", "rb").read())
"""


def _expect_refused(refused: bool, what: str) -> None:
    if not refused:
        raise click.ClickException(f"SECURITY FAILURE: {what} was accepted")
    click.echo(f"    refused: {printable(what)}")


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Directory for the demo's keys, metadata and targets (replaced on each run).",
)
def demo(out: Path) -> None:
    """Run the end-to-end demonstration, printing each step."""
    if out.exists():
        if not (out / ".tufkit-demo").exists():
            raise click.ClickException(f"{out} exists and was not made by the demo; choose --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / ".tufkit-demo").write_text("made by tufkit demo\n")
    built = _build(out)
    verified = _verify(built["metadata_dir"], built["now"])
    _attacks(built["keys"], verified)
    _client(out)
    _maintainer(out)
    _supply_chain(out)
    _step(f"done: metadata in {built['metadata_dir']}, targets in {out / 'targets'}")
