"""Every fetcher against hostile HTTP servers on 127.0.0.1: lying Content-Length, gzip, redirects,
keep-alive reuse, bad URLs, https.

Decision (docs/client.md): a ``Content-Encoding`` other than identity is refused, never decoded;
lengths and hashes in TUF metadata are those of the file, tufkit never asks for compression, and
so no decompression bomb can get past the length bound.
"""

from __future__ import annotations

import contextlib
import gzip
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pytuf_repo import PyTufRepo, serve
from servers import FETCHERS, fetcher_id, raw_server, tls_files

from tufkit.client import HttpFetcher, Updater, Urllib3Fetcher
from tufkit.errors import (
    DownloadError,
    DownloadHTTPError,
    DownloadLengthMismatchError,
    Error,
    LengthOrHashMismatchError,
)

pytestmark = pytest.mark.integration

CONTENT = b"0123456789"


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


@pytest.mark.parametrize("updater", FETCHERS, indirect=True, ids=fetcher_id)
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


@pytest.mark.parametrize("fetcher_class", FETCHERS, ids=fetcher_id)
def test_body_shorter_than_announced_is_an_error(fetcher_class: type[HttpFetcher]) -> None:
    response = _response(CONTENT, {"Content-Length": "20", "Connection": "close"})
    with raw_server(response) as url:
        fetcher = fetcher_class()
        with pytest.raises(DownloadError):
            fetcher.fetch(f"{url}/x", 1000)
        fetcher.close()


@pytest.mark.parametrize("fetcher_class", FETCHERS, ids=fetcher_id)
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


@pytest.mark.parametrize("fetcher_class", FETCHERS, ids=fetcher_id)
@pytest.mark.parametrize("close_after_each", [False, True], ids=["kept", "dropped by server"])
def test_fetchers_reuse_or_reopen_connections(
    fetcher_class: type[HttpFetcher] | type[Urllib3Fetcher], close_after_each: bool
) -> None:
    fetcher = fetcher_class()
    with keep_alive_server(close_after_each=close_after_each) as (url, server):
        for i in range(5):
            assert fetcher.fetch(f"{url}/file-{i}", 100) == f"/file-{i}".encode()
    fetcher.close()
    assert server.connections == (5 if close_after_each else 1)  # type: ignore[attr-defined]


@pytest.mark.parametrize("fetcher_class", FETCHERS, ids=fetcher_id)
@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http:///x", "http://127.0.0.1:99999/x"])
def test_fetchers_refuse_bad_urls(
    fetcher_class: type[HttpFetcher] | type[Urllib3Fetcher], url: str
) -> None:
    with pytest.raises(DownloadError):
        fetcher_class().fetch(url, 100)


@pytest.mark.parametrize("fetcher_class", FETCHERS, ids=fetcher_id)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_never_followed(
    fetcher_class: type[HttpFetcher] | type[Urllib3Fetcher], status: int
) -> None:
    with raw_server(_response(CONTENT, {"Content-Length": "10"})) as target:
        moved = _response(b"", {"Location": f"{target}/x", "Content-Length": "0"})
        with raw_server(moved.replace(b"200 OK", f"{status} Moved".encode())) as url:
            fetcher = fetcher_class()
            with pytest.raises(DownloadHTTPError) as raised:
                fetcher.fetch(f"{url}/x", 1000)
            fetcher.close()
    assert raised.value.status_code == status


@pytest.mark.parametrize("fetcher_class", FETCHERS, ids=fetcher_id)
def test_chunked_responses_are_read_and_bounded(
    fetcher_class: type[HttpFetcher] | type[Urllib3Fetcher],
) -> None:
    body = b"4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n"
    response = _response(body, {"Transfer-Encoding": "chunked"})
    with raw_server(response) as url:
        fetcher = fetcher_class()
        assert fetcher.fetch(f"{url}/x", 10) == CONTENT
        with pytest.raises(DownloadLengthMismatchError):
            fetcher.fetch(f"{url}/x", 9)
        fetcher.close()


@contextlib.contextmanager
def https_server(tmp_path: Path) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    """The keep-alive server behind TLS, with a certificate for 127.0.0.1 from a test CA."""
    _, cert, key = tls_files(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with keep_alive_server(close_after_each=False) as (url, server):
        server.socket = context.wrap_socket(server.socket, server_side=True)
        yield url.replace("http://", "https://"), server


@pytest.mark.parametrize("fetcher_class", FETCHERS, ids=fetcher_id)
def test_https_verifies_the_server_and_reuses_the_connection(
    fetcher_class: type[HttpFetcher] | type[Urllib3Fetcher],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with https_server(tmp_path) as (url, server):
        fetcher = fetcher_class()
        with pytest.raises(DownloadError, match="CERTIFICATE_VERIFY_FAILED"):
            fetcher.fetch(f"{url}/untrusted", 100)  # the test CA is not trusted yet
        fetcher.close()
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        fetcher = fetcher_class()
        before = server.connections  # type: ignore[attr-defined]
        for i in range(3):
            assert fetcher.fetch(f"{url}/file-{i}", 100) == f"/file-{i}".encode()
        fetcher.close()
        assert server.connections - before == 1  # type: ignore[attr-defined]


_UPDATE = (
    "import sys\n"
    "from tufkit.client import Updater\n"
    "base, root_file, meta, targets = sys.argv[1:]\n"
    "root = open(root_file, 'rb').read()\n"
    "u = Updater(meta, base + '/metadata', trusted_root=root,\n"
    "            target_dir=targets, target_base_url=base + '/targets')\n"
    "u.download_target(u.get_targetinfo('file.bin'))\n"
)
_CONFORMANCE = (
    "import sys\n"
    "from tufkit.conformance_client import run\n"
    "base, root_file, meta, targets = sys.argv[1:]\n"
    "assert run(['--metadata-dir', meta, 'init', root_file]) == 0\n"
    "assert run(['--metadata-dir', meta, '--metadata-url', base + '/metadata',\n"
    "            '--target-name', 'file.bin', '--target-base-url', base + '/targets',\n"
    "            '--target-dir', targets, 'download']) == 0\n"
)


@pytest.mark.parametrize("program", [_UPDATE, _CONFORMANCE], ids=["Updater", "conformance"])
def test_a_plain_http_update_imports_only_what_it_uses(tmp_path: Path, program: str) -> None:
    """No ssl for http, no http.client/email (h11 instead), no click or shutil."""
    repo = PyTufRepo(tmp_path / "repo")
    repo.add_target("file.bin", CONTENT)
    repo.publish()
    (tmp_path / "root.json").write_bytes(repo.root_bytes())
    code = program + "print(' '.join(sorted(sys.modules)))\n"
    paths = [str(tmp_path / name) for name in ("root.json", "meta", "targets")]
    with serve(tmp_path / "repo") as (url, _):
        done = subprocess.run(
            [sys.executable, "-c", code, url, *paths], capture_output=True, text=True, check=True
        )
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    assert (tmp_path / "targets" / "file.bin").read_bytes() == CONTENT
    assert "h11" in loaded
    unused = {"ssl", "_ssl", "http", "email", "urllib3", "click", "shutil", "msgspec"}
    assert not loaded & unused
