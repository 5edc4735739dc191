"""The updater enforces bounds itself, whatever the fetcher does (issue 7, security 4 and 8).

The fetchers here are real implementations of the ``Fetcher`` protocol that misbehave on one
file: they ignore the length bound, raise foreign exceptions, produce the wrong types, or are too
slow. Each is written against the old protocol too (``fetch`` as well as ``stream``), as a custom
fetcher of a tufkit user would be. And signed lengths in timestamp or snapshot can only lower the
configured caps, never raise them.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import urllib3
from client_sim import METADATA_URL, TARGETS_URL, MakeUpdater, RepositorySimulator, future

from tufkit.client import Fetcher, Updater, UpdaterConfig
from tufkit.errors import (
    DownloadError,
    DownloadLengthMismatchError,
    FormatError,
    SlowRetrievalError,
)
from tufkit.metadata import Metadata, MetaFile, Snapshot, Timestamp

Behaviour = Callable[[bytes, int], Iterator[bytes]]


@dataclass
class Misbehaving:
    """Serves *sim*'s repository, but URLs ending in *suffix* through *behaviour*."""

    sim: RepositorySimulator
    suffix: str
    behaviour: Behaviour
    pulled: list[int] = field(default_factory=list)  # bytes handed over per misbehaving request

    def stream(self, url: str, max_length: int) -> Iterator[bytes]:
        if not url.endswith(self.suffix):
            return self.sim.stream(url, max_length)
        return self._counted(self.behaviour(self.sim.fetch(url, 10**9), max_length))

    def fetch(self, url: str, max_length: int) -> bytes:
        return b"".join(self.stream(url, max_length))

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        self.pulled.append(0)
        for chunk in chunks:
            self.pulled[-1] += len(chunk) if isinstance(chunk, bytes | str) else 1
            yield chunk


def updater_with(
    fetcher: Fetcher, sim: RepositorySimulator, tmp_path: Path, config: UpdaterConfig | None = None
) -> Updater:
    return Updater(
        tmp_path / "metadata",
        METADATA_URL,
        trusted_root=sim.signed_roots[0],
        target_dir=tmp_path / "targets",
        target_base_url=TARGETS_URL,
        fetcher=fetcher,
        config=config,
    )


def padded(data: bytes, max_length: int) -> Iterator[bytes]:
    """The right bytes, then whitespace past the bound (still valid JSON)."""
    yield data
    for _ in range(max_length // 1000 + 10):
        yield b" " * 1000


def raising(exc: Exception) -> Behaviour:
    def behaviour(data: bytes, max_length: int) -> Iterator[bytes]:
        yield data[:10]
        raise exc

    return behaviour


def strings(data: bytes, max_length: int) -> Iterator[bytes]:
    yield data.decode()  # type: ignore[misc]


def not_an_iterator_of_bytes(data: bytes, max_length: int) -> Iterator[bytes]:
    return data  # type: ignore[return-value]  # iterating yields ints


def trickled(data: bytes, max_length: int) -> Iterator[bytes]:
    for i in range(len(data)):
        time.sleep(0.05)
        yield data[i : i + 1]


MISBEHAVIOURS: dict[str, tuple[Behaviour, type[DownloadError]]] = {
    "too many bytes": (padded, DownloadLengthMismatchError),
    "KeyError": (raising(KeyError("mirror")), DownloadError),
    "HTTP library error": (raising(urllib3.exceptions.ProtocolError("aborted")), DownloadError),
    "stdlib HTTP error": (raising(http.client.RemoteDisconnected("gone")), DownloadError),
    "tufkit error of another kind": (raising(FormatError("not mine to say")), DownloadError),
    "str chunks": (strings, DownloadError),
    "bytes instead of chunks": (not_an_iterator_of_bytes, DownloadError),
}


@pytest.mark.parametrize("case", list(MISBEHAVIOURS))
def test_misbehaving_fetcher_on_metadata(
    sim: RepositorySimulator, tmp_path: Path, case: str
) -> None:
    behaviour, error = MISBEHAVIOURS[case]
    fetcher = Misbehaving(sim, "timestamp.json", behaviour)
    with pytest.raises(error) as raised:
        updater_with(fetcher, sim, tmp_path).refresh()
    assert type(raised.value) is error  # exactly the transport error, nothing foreign
    assert not (tmp_path / "metadata" / "timestamp.json").exists()
    if case == "too many bytes":  # the guard stopped pulling right after the bound
        assert fetcher.pulled[-1] <= UpdaterConfig().timestamp_max_length + 1000
    if error is DownloadError and case != "str chunks" and case != "bytes instead of chunks":
        assert raised.value.__cause__ is not None  # translated with the cause kept


@pytest.mark.parametrize("case", list(MISBEHAVIOURS))
def test_misbehaving_fetcher_on_a_target(
    sim: RepositorySimulator, tmp_path: Path, case: str
) -> None:
    behaviour, error = MISBEHAVIOURS[case]
    sim.add_target("targets", "file.bin", b"x" * 5000)
    updater = updater_with(Misbehaving(sim, "file.bin", behaviour), sim, tmp_path)
    info = updater.get_targetinfo("file.bin")
    assert info is not None
    with pytest.raises(error) as raised:
        updater.download_target(info)
    assert type(raised.value) is error
    assert list((tmp_path / "targets").iterdir()) == []


def test_a_trickling_custom_fetcher_is_cut_off_at_the_deadline(
    sim: RepositorySimulator, tmp_path: Path
) -> None:
    # deadline for the timestamp: 0.1 + 0.2 + 2000 / 1000 = 2.3 s; trickled, it takes ~40 s
    config = UpdaterConfig(
        connect_timeout=0.1,
        slow_retrieval_grace=0.2,
        min_average_speed=1000,
        timestamp_max_length=2000,
    )
    fetcher = Misbehaving(sim, "timestamp.json", trickled)
    start = time.monotonic()
    with pytest.raises(SlowRetrievalError):
        updater_with(fetcher, sim, tmp_path, config).refresh()
    assert time.monotonic() - start < 2.3 + 1.5


# -- signed lengths narrow the configured caps, never widen them ---------------------------

HUGE = 300_000_000  # bytes announced by a compromised timestamp or snapshot key
CAP = 1_000_000


def endless(data: bytes, max_length: int) -> Iterator[bytes]:
    """Whitespace for as long as the client pulls, up to 8 MiB (so a failing test ends)."""
    for _ in range(128):
        yield b" " * 65536


def _signed(sim: RepositorySimulator, role: str, signed: Timestamp | Snapshot) -> bytes:
    md: Metadata[Any] = Metadata(cast(Any, signed))
    for signer in sim.signers[role]:
        md.sign(signer)
    return md.to_bytes()


def test_timestamp_cannot_raise_the_snapshot_cap(sim: RepositorySimulator, tmp_path: Path) -> None:
    sim.bump_snapshot()
    inflated = Timestamp(
        version=sim.timestamp.version,
        expires=future(),
        snapshot_meta=MetaFile(sim.snapshot.version, length=HUGE),
    )
    sim.overrides["timestamp.json"] = _signed(sim, "timestamp", inflated)
    fetcher = Misbehaving(sim, "snapshot.json", endless)
    with pytest.raises(DownloadLengthMismatchError):
        updater_with(fetcher, sim, tmp_path, UpdaterConfig(snapshot_max_length=CAP)).refresh()
    assert fetcher.pulled == [CAP - CAP % 65536 + 65536]  # one chunk past the cap, no more


def test_snapshot_cannot_raise_the_targets_cap(sim: RepositorySimulator, tmp_path: Path) -> None:
    inflated = Snapshot(
        version=sim.snapshot.version + 1,
        expires=future(),
        meta={"targets.json": MetaFile(sim.targets.version, length=HUGE)},
    )
    sim.bump_snapshot()
    sim.overrides[f"{inflated.version}.snapshot.json"] = _signed(sim, "snapshot", inflated)
    fetcher = Misbehaving(sim, "targets.json", endless)
    with pytest.raises(DownloadLengthMismatchError):
        updater_with(fetcher, sim, tmp_path, UpdaterConfig(targets_max_length=CAP)).refresh()
    assert fetcher.pulled == [CAP - CAP % 65536 + 65536]


def test_a_signed_length_below_the_cap_narrows_it(
    sim: RepositorySimulator, make_updater: MakeUpdater
) -> None:
    sim.bump_snapshot()
    real = len(sim.role_bytes("snapshot"))
    short = Timestamp(
        version=sim.timestamp.version,
        expires=future(),
        snapshot_meta=MetaFile(sim.snapshot.version, length=real - 1),
    )
    sim.overrides["timestamp.json"] = _signed(sim, "timestamp", short)
    with pytest.raises(DownloadLengthMismatchError):
        make_updater(UpdaterConfig(snapshot_max_length=CAP)).refresh()
