"""A TCP proxy for tests that can stall, like ``kill -STOP`` on a real proxy.

It runs its own event loop in a thread, so it keeps its promise even when the
code under test blocks the test's event loop (which is what such a test must
be able to show). ``stall()`` stops moving bytes: connections are still
accepted (the kernel would accept them for a stopped process too) and what the
client sends is read and held, but nothing reaches the server and nothing comes
back, until ``resume()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()
        self._stalled = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer: threading.Timer | None = None

    # -- the test's side (any thread) ---------------------------------------------

    def start(self) -> TcpProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    @property
    def stalled(self) -> bool:
        return self._stalled

    def stall(self, *, resume_after: float | None = None) -> None:
        """Stop moving bytes; ``resume_after`` seconds: resume anyway (a safety net, so a
        test of code that blocks its own loop ends instead of hanging)."""
        self._stalled = True
        self._loop.call_soon_threadsafe(self._flowing.clear)
        if resume_after is not None:
            self._timer = threading.Timer(resume_after, self.resume)
            self._timer.daemon = True
            self._timer.start()

    def resume(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._stalled = False
        self._loop.call_soon_threadsafe(self._flowing.set)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the proxy's own loop -------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _serve(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            # Cancelled at close: end quietly (Python 3.11's streams log a cancelled
            # connection handler as an error).
            with contextlib.suppress(asyncio.CancelledError):
                await self._forward(client_r, client_w)
        finally:
            self._tasks.discard(task)

    async def _forward(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        self._writers.add(client_w)
        try:
            await self._flowing.wait()
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            self._writers.discard(client_w)
            return
        self._writers.add(server_w)
        await asyncio.gather(
            self._pump(client_r, server_w), self._pump(server_r, client_w), return_exceptions=True
        )
        for writer in (client_w, server_w):
            writer.close()
            self._writers.discard(writer)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(65536)
            await self._flowing.wait()
            if not data:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        self._flowing.set()
