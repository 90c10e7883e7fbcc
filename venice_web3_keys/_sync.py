"""SyncRunner: run coroutines from synchronous code on one private event loop.

The sync facades share the async core instead of duplicating it. A dedicated loop on a daemon
thread (rather than `asyncio.run` per call) keeps one httpx connection pool alive across calls,
and works even when the caller's own thread already runs an event loop (Jupyter, async apps).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

__all__ = ["SyncFacade", "SyncRunner", "blocking", "collecting"]

_T = TypeVar("_T")
_P = ParamSpec("_P")
_CANCEL_GRACE = 5.0  # seconds a cancelled coroutine gets to clean up before run() re-raises


class SyncRunner:
    """A private event loop on a daemon thread; `run(coro)` blocks until the result is ready."""

    def __init__(self, *, name: str = "venice-web3-keys-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._closed = False
        self._lock = threading.Lock()
        ready = threading.Event()

        def _main() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.call_soon(ready.set)
            self._loop.run_forever()

        self._thread = threading.Thread(target=_main, name=name, daemon=True)
        self._thread.start()
        ready.wait()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def run(self, coro: Coroutine[Any, Any, _T], *, timeout: float | None = None,
            grace: float = _CANCEL_GRACE) -> _T:
        """Run `coro` on the private loop and return its result (or raise its exception).

        On Ctrl-C (or `timeout`) the coroutine is cancelled, then given up to `grace` seconds to
        wind down before this re-raises.
        """
        if self._closed:
            coro.close()
            raise RuntimeError("SyncRunner is closed")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("SyncRunner.run() called from its own loop would deadlock")
        finished = threading.Event()

        async def tracked() -> _T:
            try:
                return await coro
            finally:
                finished.set()

        future = asyncio.run_coroutine_threadsafe(tracked(), self._loop)
        try:
            return future.result(timeout)
        except (KeyboardInterrupt, concurrent.futures.TimeoutError):
            future.cancel()
            # Let the coroutine's own clean-up run (e.g. a stake recording which transaction it
            # had sent, a provisioning run finishing its create in flight) before the caller
            # reports the interruption.
            finished.wait(grace)
            raise

    def close(self) -> None:
        """Cancel what is still running, stop the loop and join its thread. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True

        async def _cancel_pending() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._loop.shutdown_asyncgens()

        # Best effort: the loop is stopped below whatever happens here.
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_cancel_pending(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> SyncRunner:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class SyncFacade:
    """Base of a blocking twin: `_core` (an async object with `aclose`) driven by `_runner`."""

    _core: Any
    _runner: SyncRunner
    _owns_runner: bool = True

    def close(self) -> None:
        """Close the async core, then the runner if this object created it. Idempotent."""
        if self._runner.closed:
            return
        try:
            self._runner.run(self._core.aclose())
        finally:
            if self._owns_runner:
                self._runner.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class blocking(Generic[_P, _T]):
    """`name = blocking(AsyncCore.name)`: the sync twin of an async method, by construction.

    The owner class has `_core` (the async object) and `_runner` (a SyncRunner). The twin is a
    plain function with the async method's name, docstring and signature, so `help()`,
    `inspect.signature` and IDEs show the real thing on the class and on instances; its only job
    is `runner.run(core.name(...))`: the sync face can never drift from, or duplicate, the async
    logic.
    """

    def __init__(self, method: Callable[Concatenate[Any, _P], Coroutine[Any, Any, _T]]) -> None:
        name = method.__name__

        def twin(self: SyncFacade, *args: _P.args, **kwargs: _P.kwargs) -> _T:
            coro: Coroutine[Any, Any, _T] = getattr(self._core, name)(*args, **kwargs)
            return self._runner.run(coro)

        self._twin = _signed_like(twin, method)
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._twin.__qualname__ = f"{owner.__qualname__}.{name}"

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Callable[Concatenate[Any, _P], _T]: ...
    @overload
    def __get__(self, obj: SyncFacade, owner: type[Any]) -> Callable[_P, _T]: ...

    def __get__(
        self, obj: SyncFacade | None, owner: type[Any]
    ) -> Callable[Concatenate[Any, _P], _T] | Callable[_P, _T]:
        if obj is None:
            return self._twin
        bound: Callable[_P, _T] = self._twin.__get__(obj, owner)
        return bound


def _signed_like(twin: Callable[..., Any], method: Callable[..., Any]) -> Callable[..., Any]:
    """`twin` named, documented and signed like `method` (without following it to the async
    original, which `inspect` would show as a coroutine function)."""
    functools.update_wrapper(twin, method)
    del twin.__wrapped__  # type: ignore[attr-defined]
    twin.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return twin


class collecting(Generic[_P, _T]):
    """`name = collecting(AsyncCore.name)`: the sync twin of a method that returns an async
    iterator is a function returning the list of everything it yields.

    The method itself runs in the caller's thread (so its argument checks raise there, before
    any request); the iteration runs on the private loop. On Ctrl-C the iteration is cancelled
    and given `grace` seconds to finish what it has in flight. `item_type` names what it yields,
    for the `list[...]` its signature shows.
    """

    def __init__(self, method: Callable[Concatenate[Any, _P], AsyncIterator[_T]], *,
                 item_type: str, grace: float = _CANCEL_GRACE) -> None:
        name = method.__name__

        def twin(self: SyncFacade, *args: _P.args, **kwargs: _P.kwargs) -> list[_T]:
            iterator: AsyncIterator[_T] = getattr(self._core, name)(*args, **kwargs)

            async def collect() -> list[_T]:
                return [item async for item in iterator]

            return self._runner.run(collect(), grace=grace)

        self._twin = _signed_like(twin, method)
        signature = inspect.signature(method)
        self._twin.__signature__ = signature.replace(  # type: ignore[attr-defined]
            return_annotation=f"list[{item_type}]")
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._twin.__qualname__ = f"{owner.__qualname__}.{name}"

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Callable[Concatenate[Any, _P], list[_T]]:
        ...
    @overload
    def __get__(self, obj: SyncFacade, owner: type[Any]) -> Callable[_P, list[_T]]: ...

    def __get__(
        self, obj: SyncFacade | None, owner: type[Any]
    ) -> Callable[Concatenate[Any, _P], list[_T]] | Callable[_P, list[_T]]:
        if obj is None:
            return self._twin
        bound: Callable[_P, list[_T]] = self._twin.__get__(obj, owner)
        return bound

