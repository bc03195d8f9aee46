"""python-telegram-bot's HTTP requests, made with aiohttp instead of httpx.

python-telegram-bot lets an application bring its own ``BaseRequest``. The bot
already runs aiohttp (our HTTP server), and on this machine one ``sendMessage``
through httpx cost about 1.7 ms of CPU against 0.27 ms through aiohttp
(``docs/performance.md``, section 6): with one reply per update, that was a
quarter of the Telegram path. The library still builds the requests, reads the
answers and maps HTTP statuses to its errors; this class only moves the bytes.

Timeouts follow the library's meaning: ``read`` per socket read (a long poll
passes its own), ``connect`` for the TCP connection, ``pool`` for waiting on a
free connection (then :class:`TimedOut`, the request was not sent).
"""

from __future__ import annotations

import json

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_READ = 5.0
DEFAULT_CONNECT = 5.0
DEFAULT_POOL = 1.0
MEDIA_WRITE = 20.0  # uploading a picture or file may take longer than a read
_JSON = {"Content-Type": "application/json"}


def _seconds(value: object, default: float | None) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return None
    return default  # BaseRequest.DEFAULT_NONE: the value this request was made with


class AiohttpRequest(BaseRequest):
    """One aiohttp session with at most ``connection_pool_size`` connections."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = DEFAULT_READ,
        connect_timeout: float | None = DEFAULT_CONNECT,
        pool_timeout: float | None = DEFAULT_POOL,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    @property
    def closed(self) -> bool:
        return self._session is None or self._session.closed

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data is not None and request_data.contains_files
        read = _seconds(read_timeout, self._read)
        if files:  # the upload is one long write; give it the media time as well
            read = None if read is None else read + (_seconds(write_timeout, None) or MEDIA_WRITE)
        connect = _seconds(connect_timeout, self._connect)
        pool = _seconds(pool_timeout, self._pool)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        data: aiohttp.FormData | bytes | None = None
        headers = None
        if request_data is not None and files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            data = form
        elif request_data is not None:
            # A JSON body (the Bot API takes one for everything but uploads): a form
            # would percent-encode a long answer character by character in Python
            # (urllib's quote), a tenth of a millisecond per reply.
            data = json.dumps(request_data.parameters, ensure_ascii=False).encode()
            headers = _JSON
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as answer:
                return answer.status, await answer.read()
        except TimeoutError as exc:  # asyncio's and aiohttp's timeouts
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
