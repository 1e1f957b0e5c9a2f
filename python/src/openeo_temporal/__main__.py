"""``python -m openeo_temporal``: run a hook worker, or drive batches from Python.

    python -m openeo_temporal worker --hooks my_hooks.py [--task-queue openeo-python]
    python -m openeo_temporal run spec.json [--save tiles.geojson]
    python -m openeo_temporal tiles <batchId> [--save tiles.parquet]
    python -m openeo_temporal read-export antwerp-bap.parquet
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from .hooks import Hooks, running_in_threads
from .worker import DEFAULT_TASK_QUEUE, load_hooks, run_worker

CLIENT_TASK_QUEUE = "openeo"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m openeo_temporal", description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="run the job factories and post-processors of a Python module")
    worker.add_argument("--hooks", required=True, help="the hooks' module: a file (my_hooks.py) or an import name")
    worker.add_argument("--task-queue", default=DEFAULT_TASK_QUEUE, help="the task queue the spec names")
    worker.add_argument("--address", help="Temporal's host:port (default: TEMPORAL_ADDRESS, else localhost:7233)")
    worker.add_argument("--namespace", help="Temporal namespace (default: TEMPORAL_NAMESPACE, else default)")
    start = commands.add_parser("run", help="start a batch from a spec, follow it, and list its tiles")
    start.add_argument("spec", help="batch spec (JSON)")
    start.add_argument("--batch-id", help="batch id, when the spec has none")
    start.add_argument("--task-queue", default=CLIENT_TASK_QUEUE, help="task queue of the openeo-temporal workers")
    start.add_argument("--every", type=float, default=2.0, help="seconds between progress lines")
    start.add_argument("--save", help="write the tiles to this file (.geojson, .gpkg, .parquet)")
    listing = commands.add_parser("tiles", help="the tiles of a batch, with their records, as a GeoDataFrame")
    listing.add_argument("batch_id")
    listing.add_argument("--save", help="write the tiles to this file (.geojson, .gpkg, .parquet)")
    export = commands.add_parser("read-export", help="read an `openeo-temporal export` file (GeoJSON, Parquet, CSV)")
    export.add_argument("path")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace, hooks: Hooks) -> None:
    """The worker until SIGINT or SIGTERM; a second signal exits at once."""
    stop = asyncio.Event()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            # A sync hook's thread cannot be cancelled: do not wait for it a second time.
            os._exit(128 + signum)
        print(f"stopping ({signal.Signals(signum).name}); again to exit at once", file=sys.stderr, flush=True)
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    await run_worker(hooks, task_queue=args.task_queue, address=args.address, namespace=args.namespace, stop=stop)
    if running_in_threads():
        # Their activities were cancelled, but a thread cannot be stopped; leaving now could cut a write short.
        print(
            f"waiting for {running_in_threads()} cancelled sync hook call(s) to return; again to exit at once",
            file=sys.stderr,
            flush=True,
        )
        while running_in_threads():
            await asyncio.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "worker":
        # Hook failures are logged with their traceback (activity.logger); show them.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            hooks = load_hooks(args.hooks)
        except (FileNotFoundError, ValueError) as err:
            # No file, or no hooks in it: the message says all (an error inside the module keeps its traceback).
            print(f"error: {err}", file=sys.stderr)
            return 2
        asyncio.run(serve(args, hooks))
        return 0
    # The client needs geopandas (the `client` extra): imported only for its commands.
    from . import client

    if args.command == "read-export":
        return client.read_export_command(args)
    return asyncio.run(client.run_command(args) if args.command == "run" else client.tiles_command(args))


def run() -> None:
    """The command line's entry: ``main``, then an exit that skips the interpreter's teardown.

    Temporal's Rust core keeps threads that can call into Python while a short-lived process
    finalizes, which aborts it ("PyGILState_Release: thread state ... must be current") and turns a
    finished command's exit code into 134. Everything is done by now; only the output is flushed.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
