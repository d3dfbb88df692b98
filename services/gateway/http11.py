"""A small keep-alive HTTP/1.1 client for the gateway's calls to the services.

The gateway's hop to a service is plain HTTP/1.1 on a private network, to servers we run
(uvicorn). A general client (httpx over httpcore) spent about half of the gateway's time
on a forwarded GET building and checking objects this hop does not need; this one writes
the request in one buffer and reads the answer framed by ``Content-Length`` or chunked
encoding, nothing else (no redirects, cookies, proxies, TLS or decompression).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: A pooled connection idle longer than this is not reused: the services' uvicorn closes
#: idle connections after 5 s, and a request racing that close may not be sent again.
MAX_IDLE_S = 4.0
#: Methods whose repetition changes nothing more than doing them once (RFC 9110 §9.2.2).
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class UpstreamError(Exception):
    """The service could not be reached, or broke the connection or the protocol."""


class UpstreamTimeout(UpstreamError):
    """The service did not answer in time."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A service's answer: status, headers (lower-case names) and body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.content)


_NO_BODY_STATUS = frozenset({204, 304})


class _Connection:
    """One open connection; ``reusable`` until an answer says otherwise."""

    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def close(self) -> None:
        self.writer.close()


class _StaleConnection(Exception):
    """A kept-alive connection the server had closed before our request reached it."""


class ConnectionPool:
    """Keep-alive connections to one base URL (``http://host:port[/prefix]``)."""

    def __init__(self, base_url: str, *, timeout_s: float, connect_timeout_s: float = 2.0,
                 max_connections: int = 200, max_idle: int = 50):
        url = urlsplit(base_url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"{base_url!r}: only http://host:port URLs are supported")
        self._host, self._port = url.hostname, url.port or 80
        self._prefix = url.path.rstrip("/")
        self._host_header = f"host: {url.netloc}\r\n"
        self._timeout_s, self._connect_timeout_s = timeout_s, connect_timeout_s
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []
        self._max_idle = max_idle

    async def request(self, method: str, target: str, *, headers: Mapping[str, str],
                      content: bytes | None = None, timeout_s: float | None = None) -> Answer:
        """Send one request (``target``: path and query, already encoded); its answer."""
        head = [f"{method} {self._prefix}{target} HTTP/1.1\r\n", self._host_header]
        for name, value in headers.items():
            head.append(f"{name}: {value}\r\n")
        if content is not None:
            head.append(f"content-length: {len(content)}\r\n")
        head.append("\r\n")
        text = "".join(head)
        # One CR LF per line and no space in the target: nothing can split the request.
        if text.count("\n") != len(head) or text.count("\r") != len(head) or " " in target:
            raise ValueError("the request target or a header holds a space or line break")
        data = text.encode("latin-1") + (content or b"")
        # Sent again on a fresh connection only when doing so twice is harmless: an empty
        # read on a kept-alive connection does not prove the service never ran the request.
        resend = method.upper() in _IDEMPOTENT_METHODS or any(
            name.lower() == "idempotency-key" for name in headers
        )
        try:
            async with asyncio.timeout(timeout_s or self._timeout_s), self._slots:
                try:
                    return await self._exchange(data, method, reuse=True)
                except _StaleConnection:
                    if not resend:
                        raise UpstreamError("the service closed the connection") from None
                    return await self._exchange(data, method, reuse=False)
        except TimeoutError as exc:
            raise UpstreamTimeout(f"no answer within {timeout_s or self._timeout_s}s") from exc

    async def close(self) -> None:
        """Close every idle connection."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    async def _exchange(self, data: bytes, method: str, *, reuse: bool) -> Answer:
        connection = self._take() if reuse else None
        reused = connection is not None
        if connection is None:
            connection = await self._open()
        keep = False
        try:
            try:
                connection.writer.write(data)
                await connection.writer.drain()
                head = await connection.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                # Nothing came back on a kept-alive connection: the server had closed it
                # (idle timeout) before the request reached it, so sending again is safe.
                if reused and not getattr(exc, "partial", b""):
                    raise _StaleConnection from exc
                raise
            answer, keep = await _read_answer(connection.reader, head, method)
            return answer
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise UpstreamError(f"connection to {self._host}:{self._port} broke: {exc!r}") from exc
        except ValueError as exc:
            raise UpstreamError(f"unreadable answer from {self._host}:{self._port}") from exc
        finally:
            if keep and len(self._idle) < self._max_idle:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                connection.close()

    def _take(self) -> _Connection | None:
        fresh_after = time.monotonic() - MAX_IDLE_S
        while self._idle:
            connection = self._idle.pop()
            if (
                connection.idle_since > fresh_after
                and not connection.reader.at_eof()
                and not connection.writer.is_closing()
            ):
                return connection
            connection.close()
        return None

    async def _open(self) -> _Connection:
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                reader, writer = await asyncio.open_connection(self._host, self._port)
        except TimeoutError as exc:
            raise UpstreamError(f"connecting to {self._host}:{self._port} timed out") from exc
        except OSError as exc:
            raise UpstreamError(f"cannot connect to {self._host}:{self._port}: {exc}") from exc
        return _Connection(reader, writer)


async def _read_answer(reader: asyncio.StreamReader, head: bytes, method: str
                       ) -> tuple[Answer, bool]:
    """Parse the status line and headers in ``head``, read the body; (answer, keep-alive)."""
    lines = head[:-4].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key, text = name.strip().lower().decode("latin-1"), value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    keep = version == b"HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if method == "HEAD" or status < 200 or status in _NO_BODY_STATUS:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif (length := headers.get("content-length")) is not None:
        body = await reader.readexactly(int(length))
    else:  # framed by the end of the connection
        body, keep = await reader.read(), False
    return Answer(status, headers, body), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return b"".join(chunks)
        chunks.append((await reader.readexactly(size + 2))[:-2])
