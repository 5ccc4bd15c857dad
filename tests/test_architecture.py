"""Rules of the layout: Streamlit stays in pages/ and dhu_core/ui/."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "dhu_core"


def _imports_streamlit(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] == "streamlit" for alias in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "streamlit":
            return True
    return False


def test_streamlit_is_imported_only_in_dhu_core_ui():
    core_modules = [p for p in CORE.rglob("*.py") if "ui" not in p.relative_to(CORE).parts[:1]]
    assert len(core_modules) > 5
    offenders = [str(p.relative_to(CORE)) for p in core_modules if _imports_streamlit(p)]
    assert offenders == []


def test_the_check_sees_a_streamlit_import(tmp_path):
    module = tmp_path / "leak.py"
    module.write_text("def f():\n    from streamlit import cache_data\n")
    assert _imports_streamlit(module)
