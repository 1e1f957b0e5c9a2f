"""Executes a Jupyter notebook top to bottom with nbclient, as a user's "Run all" would.

    python run_notebook.py NOTEBOOK --out EXECUTED [--cwd DIR] [--cell-timeout SECONDS]

The kernel is this very Python (the interpreter running the script, with its packages): a
kernelspec naming it is written into a temporary folder put first on JUPYTER_PATH, so a user's
own "python3" kernel never stands in for it. The kernel inherits this process's environment, so
the notebook's parameters (TEMPORAL_ADDRESS, ...) are set by whoever runs the script.

The executed notebook (with its outputs) is written to EXECUTED also when a cell fails, so the
caller can read what the notebook printed. Exit code 0 when every cell ran, 1 when one failed
(its error on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

KERNEL_NAME = "openeo-temporal-notebook-test"


def write_kernelspec(folder: Path) -> None:
    """A kernelspec under folder/kernels/ that starts ipykernel with this interpreter."""
    spec_dir = folder / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (openeo-temporal notebook tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))


def execute(notebook: Path, out: Path, cwd: Path, cell_timeout: int) -> int:
    # Imported here, after JUPYTER_PATH and IPYTHONDIR are set, so every Jupyter path is read from them.
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=cell_timeout,
        resources={"metadata": {"path": str(cwd)}},
    )
    try:
        client.execute()
        return 0
    except (CellExecutionError, CellTimeoutError) as err:
        print(f"{notebook.name}: a cell failed:\n{err}", file=sys.stderr)
        return 1
    finally:
        nbformat.write(nb, out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="where the executed notebook is written")
    parser.add_argument("--cwd", type=Path, help="the kernel's working folder (default: the notebook's)")
    parser.add_argument("--cell-timeout", type=int, default=600, help="seconds one cell may run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="notebook-kernel-") as scratch:
        jupyter_dir = Path(scratch) / "jupyter"
        write_kernelspec(jupyter_dir)
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(jupyter_dir), os.environ.get("JUPYTER_PATH")]))
        # A profile of its own: a user's IPython startup files do not run in the test's kernel.
        os.environ["IPYTHONDIR"] = str(Path(scratch) / "ipython")
        cwd = (args.cwd or args.notebook.parent).resolve()
        return execute(args.notebook.resolve(), args.out, cwd, args.cell_timeout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
