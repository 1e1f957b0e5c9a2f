from __future__ import annotations

from pathlib import Path

import pytest
from support import make_tile_dir


@pytest.fixture
def tile_dir(tmp_path: Path) -> Path:
    return make_tile_dir(tmp_path)
