"""Both fetchers against hostile HTTP servers on 127.0.0.1: lying Content-Length, gzip, keep-alive.

Decision (docs/client.md): a ``Content-Encoding`` other than identity is refused, never decoded;
lengths and hashes in TUF metadata are those of the file, tufkit never asks for compression, and
so no decompression bomb can get past the length bound.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pytuf_repo import PyTufRepo, serve

from tufkit.client import HttpFetcher, Updater, Urllib3Fetcher
from tufkit.errors import (
    DownloadError,
    DownloadLengthMismatchError,
    Error,
    LengthOrHashMismatchError,
)

pytestmark = pytest.mark.integration

FETCHERS = [HttpFetcher, Urllib3Fetcher]
CONTENT = b"0123456789"


@contextlib.contextmanager
def raw_server(response: bytes) -> Iterator[str]:
    """Answer every connection's first request with exactly *response*, then close it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):  # the client may hang up first
                conn.recv(65536)
                conn.sendall(response)
                conn.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def _response(body: bytes, headers: dict[str, str]) -> bytes:
    lines = ["HTTP/1.1 200 OK", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode() + body


LIES: dict[str, tuple[bytes, type[Error]]] = {
    "length too short": (
        _response(CONTENT, {"Content-Length": "5", "Connection": "close"}),
        LengthOrHashMismatchError,
    ),
    "length too long": (
        _response(CONTENT, {"Content-Length": "20", "Connection": "close"}),
        DownloadLengthMismatchError,
    ),
    "length absent, extra bytes": (
        _response(CONTENT + b"x" * 100, {"Connection": "close"}),
        DownloadLengthMismatchError,
    ),
    "gzip": (
        _response(
            gzip.compress(CONTENT),
            {
                "Content-Length": str(len(gzip.compress(CONTENT))),
                "Content-Encoding": "gzip",
                "Connection": "close",
            },
        ),
        DownloadError,
    ),
    "length absent, exact body": (_response(CONTENT, {"Connection": "close"}), Error),
}


@pytest.fixture
def updater(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Updater]:
    repo = PyTufRepo(tmp_path / "repo")
    repo.add_target("file.bin", CONTENT)
    repo.publish()
    fetcher = request.param()
    with serve(tmp_path / "repo") as (url, _):
        made = Updater(
            tmp_path / "meta",
            f"{url}/metadata",
            trusted_root=repo.root_bytes(),
            target_dir=tmp_path / "targets",
            fetcher=fetcher,
        )
        made.refresh()
        yield made
    fetcher.close()


@pytest.mark.parametrize("updater", FETCHERS, indirect=True, ids=lambda c: c.__name__)
@pytest.mark.parametrize("case", list(LIES))
def test_lying_servers_never_store_a_file(updater: Updater, tmp_path: Path, case: str) -> None:
    response, error = LIES[case]
    info = updater.get_targetinfo("file.bin")
    assert info is not None
    with raw_server(response) as url:
        if case == "length absent, exact body":
            path = updater.download_target(info, target_base_url=url)
            assert Path(path).read_bytes() == CONTENT
            assert [p.name for p in (tmp_path / "targets").iterdir()] == ["file.bin"]
            return
        with pytest.raises(error) as raised:
            updater.download_target(info, target_base_url=url)
    if case == "gzip":
        assert "Content-Encoding" in str(raised.value)
    assert list((tmp_path / "targets").iterdir()) == []


@pytest.mark.parametrize("fetcher_class", FETCHERS, ids=lambda c: c.__name__)
def test_body_shorter_than_announced_is_an_error(fetcher_class: type[HttpFetcher]) -> None:
    response = _response(CONTENT, {"Content-Length": "20", "Connection": "close"})
    with raw_server(response) as url:
        fetcher = fetcher_class()
        with pytest.raises(DownloadError):
            fetcher.fetch(f"{url}/x", 1000)
        fetcher.close()


@pytest.mark.parametrize("fetcher_class", FETCHERS, ids=lambda c: c.__name__)
def test_gzip_is_refused_even_when_small(fetcher_class: type[HttpFetcher]) -> None:
    body = gzip.compress(b"{}")
    response = _response(body, {"Content-Length": str(len(body)), "Content-Encoding": "gzip"})
    with raw_server(response) as url:
        fetcher = fetcher_class()
        with pytest.raises(DownloadError, match="Content-Encoding"):
            fetcher.fetch(f"{url}/x", 1000)
        fetcher.close()


class _KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        body = self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.close_after_each:  # type: ignore[attr-defined]
            self.close_connection = True  # keep-alive announced, connection closed anyway

    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextlib.contextmanager
def keep_alive_server(*, close_after_each: bool) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    server.connections = 0  # type: ignore[attr-defined]
    server.close_after_each = close_after_each  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("close_after_each", [False, True], ids=["kept", "dropped by server"])
def test_http_fetcher_reuses_or_reopens_connections(close_after_each: bool) -> None:
    fetcher = HttpFetcher()
    with keep_alive_server(close_after_each=close_after_each) as (url, server):
        for i in range(5):
            assert fetcher.fetch(f"{url}/file-{i}", 100) == f"/file-{i}".encode()
    fetcher.close()
    assert server.connections == (5 if close_after_each else 1)  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http:///x", "http://127.0.0.1:99999/x"])
def test_http_fetcher_refuses_bad_urls(url: str) -> None:
    with pytest.raises(DownloadError):
        HttpFetcher().fetch(url, 100)
