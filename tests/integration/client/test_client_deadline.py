"""Every request has a total deadline: servers trickling a status line, headers, chunk-size lines,
a body or endless informational responses on 127.0.0.1 cannot hold a fetcher, the Updater or a
client process for longer than the deadline (issue 7, security 2).

The deadline of a request for at most N bytes is ``connect_timeout + slow_retrieval_grace +
N / min_average_speed``; ``HttpFetcher`` also counts head and framing bytes towards the minimum
average speed, so it usually gives up at the grace time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytuf_repo import PyTufRepo
from servers import FETCHERS, TRICKLES, Trickle, fetcher_id, trickling_server

from tufkit.client import HttpFetcher, Updater, UpdaterConfig, Urllib3Fetcher
from tufkit.client._internal.transfer import request_seconds
from tufkit.errors import SlowRetrievalError

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

# deadline for 100 bytes: 1 + 0.5 + 100 / 200 = 2 s
CONFIG = UpdaterConfig(
    connect_timeout=1.0, read_timeout=5.0, slow_retrieval_grace=0.5, min_average_speed=200
)
MAX_LENGTH = 100
SLACK = 1.5  # seconds of scheduling noise allowed past the deadline on a loaded machine

Fetcher = HttpFetcher | Urllib3Fetcher


@pytest.fixture(params=FETCHERS, ids=fetcher_id)
def fetcher(request: pytest.FixtureRequest) -> Iterator[Fetcher]:
    made: Fetcher = request.param(CONFIG)
    yield made
    made.close()


@pytest.mark.parametrize("case", list(TRICKLES))
def test_a_trickling_server_is_cut_off_by_the_deadline(fetcher: Fetcher, case: str) -> None:
    deadline = request_seconds(MAX_LENGTH, CONFIG)
    with trickling_server(None, {"/slow": TRICKLES[case]}) as url:
        start = time.monotonic()
        with pytest.raises(SlowRetrievalError):
            fetcher.fetch(f"{url}/slow", MAX_LENGTH)
        took = time.monotonic() - start
    assert took < deadline + SLACK, f"{case}: gave up after {took:.1f}s"


def test_http_fetcher_counts_head_bytes_towards_the_minimum_speed() -> None:
    """A trickled head fails at the grace time, long before the deadline."""
    config = CONFIG.replace(min_average_speed=100, slow_retrieval_grace=0.5)
    fetcher = HttpFetcher(config)
    max_length = 10_000  # deadline 1 + 0.5 + 100 s
    with trickling_server(None, {"/slow": TRICKLES["headers"]}) as url:
        start = time.monotonic()
        with pytest.raises(SlowRetrievalError, match="bytes/s"):
            fetcher.fetch(f"{url}/slow", max_length)
        assert time.monotonic() - start < 0.5 + SLACK
    fetcher.close()


def test_deadline_grows_with_the_length_bound() -> None:
    """Fast enough for the speed rule: the informational flood ends at the deadline, not before."""
    fetcher = HttpFetcher(CONFIG)
    max_length = 400  # deadline 1 + 0.5 + 2 = 3.5 s
    with trickling_server(None, {"/slow": TRICKLES["informational flood"]}) as url:
        start = time.monotonic()
        with pytest.raises(SlowRetrievalError, match=r"no complete response within 3\.5s"):
            fetcher.fetch(f"{url}/slow", max_length)
        assert 3.5 - 0.2 <= time.monotonic() - start < 3.5 + SLACK
    fetcher.close()


@pytest.fixture
def repo(tmp_path: Path) -> PyTufRepo:
    made = PyTufRepo(tmp_path / "repo")
    made.add_target("file.bin", b"content")
    made.publish()
    return made


@pytest.mark.parametrize("fetcher_class", FETCHERS, ids=fetcher_id)
@pytest.mark.parametrize("case", ["headers", "chunk-size line", "body"])
def test_updater_refresh_ends_at_the_deadline(
    repo: PyTufRepo, tmp_path: Path, fetcher_class: type[Fetcher], case: str
) -> None:
    config = CONFIG.replace(timestamp_max_length=1000)
    deadline = request_seconds(1000, config)  # 1 + 0.5 + 5 s
    fetcher = fetcher_class(config)
    with trickling_server(repo.base, {"/timestamp.json": TRICKLES[case]}) as url:
        updater = Updater(
            tmp_path / "meta",
            f"{url}/metadata",
            trusted_root=repo.root_bytes(),
            fetcher=fetcher,
            config=config,
        )
        start = time.monotonic()
        with pytest.raises(SlowRetrievalError):
            updater.refresh()
        took = time.monotonic() - start
    fetcher.close()
    assert took < deadline + SLACK
    assert not (tmp_path / "meta" / "timestamp.json").exists()


def _run(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    return done, time.monotonic() - start


@pytest.mark.slow
@pytest.mark.parametrize("program", ["tufkit client", "tufkit-conformance-client"])
def test_client_processes_give_up_on_a_trickling_server(
    repo: PyTufRepo, tmp_path: Path, program: str
) -> None:
    """With the default configuration, a refresh against a trickled timestamp ends (exit 1)."""
    bin_dir = Path(sys.executable).parent
    root = tmp_path / "root.json"
    root.write_bytes(repo.root_bytes())
    meta = tmp_path / "meta"
    # default config: deadline for timestamp.json 10 + 5 + 16384 / 1024 = 31 s; the head is
    # trickled at 20 bytes/s, below the minimum average speed once the 5 s grace is over
    bound = request_seconds(16_384, UpdaterConfig())
    slow = {"/timestamp.json": Trickle(b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a")}
    with trickling_server(repo.base, slow) as url:
        if program == "tufkit client":
            base = [str(bin_dir / "tufkit"), "client", "--metadata-dir", str(meta)]
            init = [*base, "init", "--bootstrap", str(root)]
            refresh = [*base, "--metadata-url", f"{url}/metadata", "refresh"]
        else:
            base = [str(bin_dir / "tufkit-conformance-client"), "--metadata-dir", str(meta)]
            init = [*base, "init", str(root)]
            refresh = [*base, "--metadata-url", f"{url}/metadata", "refresh"]
        done, _ = _run(init)
        assert done.returncode == 0, done.stderr
        done, took = _run(refresh)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SlowRetrievalError" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert took < bound, f"took {took:.1f}s"
