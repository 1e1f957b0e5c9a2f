"""openeo-temporal for Python: job factories and post-processors as Temporal activities, and a batch client.

Write hooks as plain functions::

    from openeo_temporal import job_factory, postprocessor, load_collection, job

    @job_factory("s2")
    def s2(tile, ctx):
        return job(load_collection(tile, "SENTINEL2_L2A", bands=["B04", "B08"]), title=f"S2 {tile.id}")

and run them with ``python -m openeo_temporal worker --hooks my_hooks.py``. The batch client
(``openeo_temporal.client``) needs the ``client`` extra.
"""

from .contract import (
    CONTRACT_VERSION,
    MAX_RESULT_BYTES,
    Backend,
    DescribeHooksAnswer,
    JobFactoryAnswer,
    JobFactoryRequest,
    JobPlan,
    Period,
    PostprocessAnswer,
    PostprocessRequest,
    ProcessRef,
    Skip,
    Tile,
    TileFile,
)
from .errors import ContractError, InvalidFileName
from .hooks import DESCRIBE_HOOKS, Hooks, JobContext, PostprocessContext, job_factory, postprocessor
from .jobs import job, load_collection, process_graph
from .version import __version__
from .worker import create_worker, load_hooks, run_worker

__all__ = [
    "CONTRACT_VERSION",
    "DESCRIBE_HOOKS",
    "MAX_RESULT_BYTES",
    "Backend",
    "ContractError",
    "DescribeHooksAnswer",
    "Hooks",
    "InvalidFileName",
    "JobContext",
    "JobFactoryAnswer",
    "JobFactoryRequest",
    "JobPlan",
    "Period",
    "PostprocessAnswer",
    "PostprocessContext",
    "PostprocessRequest",
    "ProcessRef",
    "Skip",
    "Tile",
    "TileFile",
    "__version__",
    "create_worker",
    "job",
    "job_factory",
    "load_collection",
    "load_hooks",
    "postprocessor",
    "process_graph",
    "run_worker",
]
