"""Job factories and post-processors written as plain Python functions, run as Temporal activities.

``@job_factory`` and ``@postprocessor`` wrap a function ``(tile, ctx) -> answer`` (sync or async)
into an activity that takes the contract's request (one JSON object) and returns its answer. The
wrapper decodes the request, heartbeats while the function runs, checks the answer, and turns
failures into the errors the batch workflow expects:

* an exception in the function: a retryable ``ApplicationError`` of type ``JobFactoryFailed`` /
  ``PostprocessFailed`` with the message alone (the batch names the hook and the tile around it;
  the traceback goes to the log);
* a request or an answer that breaks the contract, or a bad file name: the same, non-retryable,
  since running it again cannot help;
* an ``ApplicationError`` the function raises itself passes unchanged (make it non-retryable to
  stop at once).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Final, Literal, Protocol, TypeVar, overload

from temporalio import activity
from temporalio.exceptions import ApplicationError

from . import storage
from .contract import (
    Backend,
    DescribeHooksAnswer,
    JobFactoryRequest,
    JSONObject,
    PostprocessAnswer,
    PostprocessRequest,
    Skip,
    Tile,
    TileFile,
)
from .errors import ContractError
from .file_names import check_file_name
from .jobs import to_job_answer
from .version import WORKER_NAME

DESCRIBE_HOOKS: Final = "openeo_temporal.describe_hooks"
# The longest pause between heartbeats; shorter when the activity's heartbeat timeout is short
# (see _beat_every). Temporal throttles what it actually sends.
HEARTBEAT_SECONDS: Final = 10.0

HookKind = Literal["job_factory", "postprocessor"]
_FAILURE_TYPE: Final[dict[HookKind, str]] = {"job_factory": "JobFactoryFailed", "postprocessor": "PostprocessFailed"}
T = TypeVar("T")


class _Beating:
    """Heartbeats for one activity, safe to send from the thread a sync hook runs in."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._details: tuple[Any, ...] = ()

    def send(self, *details: Any) -> None:
        if details:
            # Kept, so the wrapper's own periodic beats repeat them instead of erasing them.
            self._details = details
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            activity.heartbeat(*self._details)
        else:
            # Temporal's heartbeat schedules work on the activity's event loop: hand it over from the thread.
            self._loop.call_soon_threadsafe(activity.heartbeat, *self._details)


# ---- what hooks are given -------------------------------------------------------------------


@dataclass(frozen=True)
class JobContext:
    """What a job factory is told besides the tile."""

    batch_id: str
    backend: Backend
    attempt: int
    parameter_defaults: JSONObject
    spec_process_graph: JSONObject | None

    @staticmethod
    def skip(reason: str) -> Skip:
        """The answer that skips this tile (it ends ``skipped`` with the reason)."""
        return Skip(reason)


@dataclass
class PostprocessContext:
    """What a post-processor is given besides the tile: its record, its files, and a way to add files.

    Reading and writing files blocks: an async hook that moves large files to or from object storage
    should call these methods through ``asyncio.to_thread`` so its heartbeats keep going.
    """

    batch_id: str
    record: JSONObject
    files: list[TileFile]
    tile_dir: str
    _beating: _Beating | None = field(default=None, repr=False)
    _written: list[str] = field(default_factory=list, repr=False)

    @property
    def written(self) -> list[str]:
        """Names written so far, in order, each once."""
        return list(self._written)

    def file(self, name: str) -> TileFile:
        """The tile's file of that name."""
        for tile_file in self.files:
            if tile_file.name == name:
                return tile_file
        raise KeyError(f"the tile has no file {name!r}; it has {[f.name for f in self.files]}")

    def write_file(self, name: str, data: bytes | str) -> str:
        """Writes ``data`` (text as UTF-8) as ``name`` into the tile's folder, whole or not at all; its location."""
        check_file_name(name)
        location = storage.write(self.tile_dir, name, data.encode("utf-8") if isinstance(data, str) else data)
        self._note(name)
        return location

    def write_from(self, name: str, local_path: str | os.PathLike[str]) -> str:
        """Copies a file of this machine (e.g. a raster rasterio just wrote) as ``name`` into the tile's folder."""
        check_file_name(name)
        location = storage.write(self.tile_dir, name, Path(local_path))
        self._note(name)
        return location

    def heartbeat(self, details: Any = None) -> None:
        """Tells Temporal the step is alive (the wrapper also does every 10 s); ``details`` survive a retry."""
        if self._beating is not None:
            self._beating.send(*(() if details is None else (details,)))

    def _note(self, name: str) -> None:
        if name not in self._written:
            self._written.append(name)


# ---- running a hook -------------------------------------------------------------------------


def _beat_every() -> float:
    """Seconds between heartbeats: HEARTBEAT_SECONDS, or a third of a shorter heartbeat timeout."""
    timeout = activity.info().heartbeat_timeout
    if timeout is None or timeout.total_seconds() <= 0:
        return HEARTBEAT_SECONDS
    return min(HEARTBEAT_SECONDS, timeout.total_seconds() / 3)


async def _heartbeating(work: Awaitable[T], beating: _Beating) -> T:
    """Awaits ``work``, heartbeating meanwhile, often enough for the activity's heartbeat timeout."""
    every = _beat_every()
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every)
            if done:
                return task.result()
            beating.send()
    finally:
        # The activity was cancelled (or timed out): stop the hook too. A sync hook's thread cannot
        # be stopped; it finishes on its own and its answer is dropped.
        task.cancel()


_threads_lock = threading.Lock()
_in_threads = 0


def running_in_threads() -> int:
    """Sync hook calls whose thread has not returned yet (a cancelled call's thread runs on until it does)."""
    return _in_threads


def _counted(function: Callable[..., Any]) -> Callable[..., Any]:
    """The function, counted in running_in_threads() from its start until its thread returns."""

    def run(*args: Any) -> Any:
        global _in_threads
        with _threads_lock:
            _in_threads += 1
        try:
            return function(*args)
        finally:
            with _threads_lock:
                _in_threads -= 1

    return run


async def _call(function: Callable[..., Any], *args: Any) -> Any:
    """Calls the user's function: a coroutine function on the loop, anything else in a thread."""
    if inspect.iscoroutinefunction(function):
        return await function(*args)
    result = await asyncio.to_thread(_counted(function), *args)
    return await result if inspect.isawaitable(result) else result


def _message(err: BaseException) -> str:
    # "raise ValueError('no scenes')" reads best as its message alone; KeyError('sensor') needs its type.
    text = str(err)
    return text if text and type(err) in (Exception, RuntimeError, ValueError) else f"{type(err).__name__}: {text}"


# Marks the failures whose traceback this module logged itself.
_LOGGED: Final = "_openeo_temporal_logged"


def _failure(kind: HookKind, what: str, *, non_retryable: bool) -> ApplicationError:
    # The message is the cause alone: the batch names the hook, its task queue and the tile around it.
    err = ApplicationError(what, type=_FAILURE_TYPE[kind], non_retryable=non_retryable)
    setattr(err, _LOGGED, True)
    return err


class _LoggedOnce(logging.Filter):
    """Drops the SDK's own "Completing activity as failed" traceback for failures this module logged already.

    The hook's traceback is logged once, where it happened; the SDK would log it again, wrapped.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        err = record.exc_info[1] if record.exc_info else None
        message = record.msg if isinstance(record.msg, str) else ""
        return not (message.startswith("Completing activity as failed") and getattr(err, _LOGGED, False))


logging.getLogger(activity.logger.logger.name).addFilter(_LoggedOnce())


async def _run_hook(kind: HookKind, name: str, function: Callable[..., Any], tile: Tile, ctx: object) -> Any:
    """The user's function's answer; its failures as the workflow expects them."""
    beating = _Beating()
    if isinstance(ctx, PostprocessContext):
        ctx._beating = beating
    try:
        return await _heartbeating(_call(function, tile, ctx), beating)
    except ApplicationError:
        raise
    except ContractError as err:
        activity.logger.warning("%s for tile %s broke the hook contract: %s", name, tile.id, err)
        raise _failure(kind, str(err), non_retryable=True) from err
    except Exception as err:
        activity.logger.exception("%s for tile %s failed", name, tile.id)
        raise _failure(kind, _message(err), non_retryable=False) from err


def _decode(kind: HookKind, name: str, decode: Callable[[object], T], request: object) -> T:
    try:
        return decode(request)
    except ContractError as err:
        # The workflow sent something this package does not understand: retrying sends it again.
        tile = request.get("tile") if isinstance(request, dict) else None
        tile_id = tile.get("id") if isinstance(tile, dict) else "?"
        raise _failure(kind, f"{name} got a request for tile {tile_id} it cannot read: {err}", non_retryable=True) from err


# ---- the decorators -------------------------------------------------------------------------


@dataclass(frozen=True)
class HookInfo:
    """What the decorators record on the activity: the hook's kind, its activity name and the user's function."""

    kind: HookKind
    name: str
    function: Callable[..., Any]


class HookActivity(Protocol):
    """A decorated hook: a Temporal activity taking the request dict, returning the answer dict."""

    __openeo_temporal_hook__: HookInfo

    def __call__(self, request: JSONObject) -> Coroutine[Any, Any, JSONObject]: ...


def _activity(kind: HookKind, name: str, function: Callable[..., Any]) -> HookActivity:
    if kind == "job_factory":

        async def run(request: dict[str, Any]) -> dict[str, Any]:
            decoded = _decode(kind, name, JobFactoryRequest.from_json, request)
            ctx = JobContext(
                batch_id=decoded.batch_id,
                backend=decoded.backend,
                attempt=decoded.attempt,
                parameter_defaults=decoded.parameter_defaults,
                spec_process_graph=decoded.spec_process_graph,
            )
            answer = await _run_hook(kind, name, function, decoded.tile, ctx)
            try:
                return to_job_answer(answer).to_json()
            except ContractError as err:
                raise _failure(kind, f"unusable answer: {err}", non_retryable=True) from err

    else:

        async def run(request: dict[str, Any]) -> dict[str, Any]:
            decoded = _decode(kind, name, PostprocessRequest.from_json, request)
            ctx = PostprocessContext(decoded.batch_id, decoded.record, decoded.files, decoded.tile_dir)
            result = await _run_hook(kind, name, function, decoded.tile, ctx)
            try:
                return PostprocessAnswer(written=ctx.written, result=result).to_json()
            except ContractError as err:
                raise _failure(kind, f"unusable answer: {err}", non_retryable=True) from err

    # Not functools.wraps: Temporal reads the activity's parameter types, and __wrapped__ would
    # point it at the user's (tile, ctx) instead of the request dict.
    run.__name__ = run.__qualname__ = getattr(function, "__name__", name)
    run.__doc__ = function.__doc__
    run.__module__ = function.__module__
    hook = activity.defn(name=name)(run)
    setattr(hook, "__openeo_temporal_hook__", HookInfo(kind, name, function))
    return hook  # type: ignore[return-value]  # the attribute was just set


def _decorator(kind: HookKind, name_or_function: Callable[..., Any] | str | None) -> Any:
    if callable(name_or_function):
        # Used bare: @job_factory
        return _activity(kind, name_or_function.__name__, name_or_function)
    name = name_or_function

    def decorate(function: Callable[..., Any]) -> HookActivity:
        return _activity(kind, name or function.__name__, function)

    return decorate


@overload
def job_factory(function: Callable[..., Any], /) -> HookActivity: ...
@overload
def job_factory(name: str | None = None) -> Callable[[Callable[..., Any]], HookActivity]: ...
def job_factory(name: Callable[..., Any] | str | None = None) -> Any:
    """Makes ``f(tile: Tile, ctx: JobContext) -> JobPlan | Skip | DataCube | dict`` the activity ``name``.

    The activity's name (the spec's ``"activity"``) is the function's name unless given:
    ``@job_factory`` or ``@job_factory("s1s2")``.
    """
    return _decorator("job_factory", name)


@overload
def postprocessor(function: Callable[..., Any], /) -> HookActivity: ...
@overload
def postprocessor(name: str | None = None) -> Callable[[Callable[..., Any]], HookActivity]: ...
def postprocessor(name: Callable[..., Any] | str | None = None) -> Any:
    """Makes ``f(tile: Tile, ctx: PostprocessContext) -> JSON | None`` the activity ``name``.

    The result (at most 16 KiB as JSON) is kept in the tile's record as ``postprocessResult``;
    files written with ``ctx.write_file`` / ``ctx.write_from`` join the tile's files.
    """
    return _decorator("postprocessor", name)


def hook_info(value: object) -> HookInfo | None:
    """The hook a decorated activity runs, or None for anything else."""
    info = getattr(value, "__openeo_temporal_hook__", None)
    return info if isinstance(info, HookInfo) else None


# ---- the registry and the probe -------------------------------------------------------------


class Hooks:
    """The hooks one worker runs, by name; its activities include the probe that lists them."""

    def __init__(self, activities: Iterable[HookActivity] = ()) -> None:
        self._hooks: dict[str, HookActivity] = {}
        for hook in activities:
            self.add(hook)

    def add(self, hook: HookActivity) -> None:
        info = hook_info(hook)
        if info is None:
            raise TypeError(f"{hook!r} is not a hook: decorate it with @job_factory or @postprocessor")
        known = self._hooks.get(info.name)
        if known is hook:
            return
        if info.name == DESCRIBE_HOOKS:
            raise ValueError(f"{DESCRIBE_HOOKS!r} is the probe's name: give the hook another one")
        if known is not None:
            # Activity names are one namespace per worker, whatever the hook's kind.
            raise ValueError(f"two hooks are named {info.name!r}: give one another name (@job_factory('...'))")
        self._hooks[info.name] = hook

    @classmethod
    def from_module(cls, module: ModuleType) -> Hooks:
        """Every decorated hook defined (or imported) at the top level of ``module``."""
        return cls(value for value in vars(module).values() if hook_info(value) is not None)

    def names(self, kind: HookKind) -> list[str]:
        return [name for name, hook in self._hooks.items() if hook.__openeo_temporal_hook__.kind == kind]

    @property
    def job_factories(self) -> list[str]:
        return self.names("job_factory")

    @property
    def postprocessors(self) -> list[str]:
        return self.names("postprocessor")

    def describe(self) -> DescribeHooksAnswer:
        return DescribeHooksAnswer(self.job_factories, self.postprocessors, worker=WORKER_NAME)

    def probe(self) -> Callable[[JSONObject], Coroutine[Any, Any, JSONObject]]:
        """The ``openeo_temporal.describe_hooks`` activity for these hooks."""
        answer = self.describe().to_json()

        @activity.defn(name=DESCRIBE_HOOKS)
        async def describe_hooks(request: dict[str, Any]) -> dict[str, Any]:
            # The request's contractVersion is the workflow's; the answer says ours and the workflow decides.
            return answer

        return describe_hooks

    def activities(self) -> list[Callable[..., Any]]:
        """Every hook's activity, and the probe."""
        return [*self._hooks.values(), self.probe()]
