"""docs/api.md shows the roles and endpoints the code has (scripts/api_tables.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "api_tables.py"


def tables() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_tables", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["roles", "endpoints"])
def test_the_api_doc_shows_what_the_code_does(name: str) -> None:
    module = tables()
    shown = module.section(module.DOC.read_text(), name)
    assert shown == module.TABLES[name](), "run: python scripts/api_tables.py --write"
