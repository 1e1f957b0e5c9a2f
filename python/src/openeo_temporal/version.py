"""The package's version, in one place (pyproject.toml reads it from here)."""

__version__ = "0.13.0"
# What a hook worker calls itself in the probe's answer.
WORKER_NAME = f"openeo-temporal-python {__version__}"
