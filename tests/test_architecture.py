"""Rules of the layout: Streamlit stays in pages/ and dhu_core/ui/; one spreadsheet writer."""

import ast
import re
from pathlib import Path

from dhu_core.ui.shell import PAGES

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "dhu_core"
#: `app.py` (the ASGI app: Streamlit and the API) and `main.py` (the Streamlit script).
ENTRY_POINTS = (ROOT / "app.py", ROOT / "main.py")
#: Ways to write a CSV or XLSX file that would bypass the escaping of dhu_core/spreadsheet.py.
SPREADSHEET_WRITERS = re.compile(
    r"\.to_excel\(|\.to_csv\(|\bExcelWriter\b|\bWorkbook\(|csv\.writer\(|\bDictWriter\(|"
    r"\bxlsxwriter\b|from csv import"
)


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


def _reads_the_connection(path: Path) -> bool:
    """True when the module reads `….context.ip_address` or `….context.headers`."""
    return any(
        isinstance(node, ast.Attribute)
        and node.attr in {"ip_address", "headers"}
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "context"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def test_the_client_address_is_read_in_one_place():
    # st.context.ip_address follows a forged X-Forwarded-For; dhu_core.clients undoes that.
    root = CORE.parent
    modules = [*CORE.rglob("*.py"), *(root / "app_pages").glob("*.py"), *ENTRY_POINTS]
    readers = [str(p.relative_to(root)) for p in modules if _reads_the_connection(p)]
    assert readers == ["dhu_core/ui/auth.py"]


def _writes_spreadsheets(path: Path) -> bool:
    return bool(SPREADSHEET_WRITERS.search(path.read_text(encoding="utf-8")))


def test_every_spreadsheet_is_written_by_dhu_core_spreadsheet():
    modules = [*CORE.rglob("*.py"), *(ROOT / "app_pages").glob("*.py"), *ENTRY_POINTS]
    offenders = [
        str(p.relative_to(ROOT))
        for p in modules
        if p != CORE / "spreadsheet.py" and _writes_spreadsheets(p)
    ]
    assert offenders == []
    assert _writes_spreadsheets(CORE / "spreadsheet.py")


def test_the_check_sees_a_spreadsheet_written_around_the_writer(tmp_path):
    for leak in ("frame.to_excel(buffer)", "frame.to_csv(text)", "csv.writer(file)"):
        module = tmp_path / "leak.py"
        module.write_text(f"def f(frame, buffer, text, file):\n    {leak}\n")
        assert _writes_spreadsheets(module), leak
    module.write_text("from openpyxl import Workbook\nbook = Workbook(write_only=True)\n")
    assert _writes_spreadsheets(module)


def _mentions(path: Path, pattern: re.Pattern) -> bool:
    return bool(pattern.search(path.read_text(encoding="utf-8")))


def test_e_mail_goes_through_the_outbox_only():
    # A message sent straight over SMTP would bypass the outbox: lost when the server is down,
    # sent for a change that was rolled back, and deaf to the recipient's choices.
    modules = [*CORE.rglob("*.py"), *(ROOT / "app_pages").glob("*.py"), *ENTRY_POINTS]
    smtp = re.compile(r"\bimport smtplib\b|\bfrom smtplib\b")
    written = re.compile(r"(?<!class )\bOutboxMessage\(")
    senders = [str(p.relative_to(ROOT)) for p in modules if _mentions(p, smtp)]
    writers = [str(p.relative_to(ROOT)) for p in modules if _mentions(p, written)]
    assert senders == ["dhu_core/notifications/delivery.py"]
    assert writers == ["dhu_core/notifications/__init__.py"]


#: A query that picks published practices by their status instead of `models.LISTED`.
OWN_LISTING = re.compile(r"""Practice\.status\s*(==|!=|\.in_\()\s*\(?["']published["']""")


def test_every_query_of_listed_practices_uses_the_one_definition():
    # An archived practice must leave the catalogue, the map, suggestions and exports at once.
    modules = [*CORE.rglob("*.py"), *(ROOT / "app_pages").glob("*.py")]
    offenders = [
        str(p.relative_to(ROOT))
        for p in modules
        if p != CORE / "models.py" and _mentions(p, OWN_LISTING)
    ]
    assert offenders == []


def test_the_check_sees_a_listing_of_its_own(tmp_path):
    module = tmp_path / "leak.py"
    for leak in ('Practice.status == "published"', "Practice.status.in_(('published',))"):
        module.write_text(f"rows = select(Practice.id).where({leak})\n")
        assert _mentions(module, OWN_LISTING), leak


def test_every_page_module_is_in_the_menu_and_every_menu_entry_has_its_module():
    # A page left out of shell.PAGES is "Page not found"; one without a module fails at start.
    listed = [spec.path for spec in PAGES]
    modules = sorted(f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py"))
    assert sorted(listed) == modules
    assert len({spec.url_path for spec in PAGES}) == len(PAGES)


def _imported(path: Path) -> set[str]:
    """The modules `path` imports, and the names it imports from them (`module.name`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


#: What opens the database: the driver layers, and the project's engines and sessions.
DATABASE_ACCESS = re.compile(r"^(sqlalchemy|sqlmodel|psycopg|sqlite3)\b|^dhu_core\.db\b")


def _opens_the_database(path: Path) -> bool:
    return any(DATABASE_ACCESS.match(name) for name in _imported(path))


def test_the_api_calls_services_never_the_database():
    # The API and the pages show the same data because they call the same services.
    modules = sorted((CORE / "api").glob("*.py"))
    assert len(modules) > 3
    readers = [p.name for p in modules if _opens_the_database(p)]
    assert readers == ["http.py"]  # the data version, for entity tags (db.data_version)


def test_the_check_sees_the_api_reaching_for_the_database(tmp_path):
    module = tmp_path / "leak.py"
    for leak in ("from sqlmodel import select", "from dhu_core import db", "import sqlalchemy"):
        module.write_text(f"{leak}\n")
        assert _opens_the_database(module), leak
    module.write_text("from dhu_core import catalogue, knowledge\n")
    assert not _opens_the_database(module)


def test_the_open_data_routes_call_services_never_the_database():
    # An endpoint that queried by itself could miss `models.LISTED` or leak a private field.
    assert not _opens_the_database(CORE / "open_data" / "routes.py")
    assert _opens_the_database(CORE / "open_data" / "download.py")
