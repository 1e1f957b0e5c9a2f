"""The hook worker: a Temporal worker on its own task queue running a module's hooks and the probe.

    python -m openeo_temporal worker --hooks my_hooks.py --task-queue openeo-python

A spec then names a hook as ``{"activity": "s1s2", "taskQueue": "openeo-python"}``.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from .connection import connect
from .hooks import HookActivity, Hooks

DEFAULT_TASK_QUEUE = "openeo-python"
# Time the hooks running at a stop get to finish before they are cancelled (and retried elsewhere).
DEFAULT_GRACE = timedelta(seconds=10)


def load_module(source: str) -> Any:
    """A module from a file (``my_hooks.py``) or by import name (``my_package.hooks``)."""
    path = Path(source)
    if not (source.endswith(".py") or path.is_file()):
        return importlib.import_module(source)
    if not path.is_file():
        raise FileNotFoundError(f"{source}: no such hooks file")
    path = path.resolve()
    # Let the hooks file import the modules beside it.
    sys.path.insert(0, str(path.parent))
    name = path.stem if path.stem not in sys.modules else f"openeo_temporal_hooks_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{source}: cannot load this file as Python")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as an import would: dataclasses and pickling look modules up by name.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_hooks(source: str) -> Hooks:
    """The hooks a module defines (see :func:`load_module`); at least one."""
    hooks = Hooks.from_module(load_module(source))
    if not hooks.job_factories and not hooks.postprocessors:
        raise ValueError(f"{source} defines no hooks: decorate functions with @job_factory or @postprocessor")
    return hooks


def create_worker(
    client: Client, task_queue: str, hooks: Hooks | Iterable[HookActivity], **worker_options: Any
) -> Worker:
    """A Temporal worker running ``hooks`` and the probe; ``worker_options`` go to ``Worker``."""
    registry = hooks if isinstance(hooks, Hooks) else Hooks(hooks)
    return Worker(client, task_queue=task_queue, activities=registry.activities(), **worker_options)


def ready_line(task_queue: str, hooks: Hooks) -> str:
    factories = ", ".join(hooks.job_factories) or "none"
    postprocessors = ", ".join(hooks.postprocessors) or "none"
    return (
        f'openeo-temporal python worker polling "{task_queue}": '
        f"job factories {factories}; post-processors {postprocessors}"
    )


async def run_worker(
    hooks: Hooks | Iterable[HookActivity],
    *,
    task_queue: str = DEFAULT_TASK_QUEUE,
    client: Client | None = None,
    address: str | None = None,
    namespace: str | None = None,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[str], None] = lambda line: print(line, flush=True),
    grace: timedelta = DEFAULT_GRACE,
) -> None:
    """Runs the hooks until ``stop`` is set (forever without one); ``on_ready`` gets the ready line once polling."""
    registry = hooks if isinstance(hooks, Hooks) else Hooks(hooks)
    client = client or await connect(address, namespace)
    worker = create_worker(client, task_queue, registry, graceful_shutdown_timeout=grace)
    running = asyncio.create_task(worker.run())
    # Worker.run first checks the namespace with the server; is_running turns true once that passed.
    while not worker.is_running:
        if running.done():
            await running  # raises why it could not start
            return
        await asyncio.sleep(0.05)
    on_ready(ready_line(task_queue, registry))
    stopping = asyncio.ensure_future((stop or asyncio.Event()).wait())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not running.done():
        await worker.shutdown()
    await running
