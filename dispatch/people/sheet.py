"""A roster spreadsheet (.xlsx, via openpyxl) or CSV as rows of text cells that know where
they came from, and the same format written back (the export).

Each worksheet whose first row holds a `worker_id` header is read; header names are matched
case-insensitively, unknown headers are an error (a typo would otherwise drop a column
silently). Cells are read as text: a grid code typed as a number in Excel comes back as
"500106001001001", not 5.00106e14; a float that is a whole number loses its ".0".
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

COLUMNS: tuple[str, ...] = (
    "worker_id",
    "name",
    "force",
    "street_code",
    "community_code",
    "grid_code",
    "roster",
    "phone",
    "home_lon",
    "home_lat",
    "active",
    "district_code",
)
"""`district_code` is optional: a person's district follows from their area's code; only a
district-level person (a district center's duty desk) needs it, and only when several districts
share the deployment."""
REQUIRED: frozenset[str] = frozenset({"worker_id", "name", "force", "roster", "phone"})
EXPORT_SHEET = "people"


class SheetError(ValueError):
    """The file itself cannot be read as a roster (not a workbook, no header row, bad headers)."""


@dataclass(frozen=True, slots=True)
class SheetRow:
    sheet: str
    row: int  # 1-based, as the spreadsheet shows it (the header is row 1)
    cells: dict[str, str]  # column -> trimmed text ("" when empty)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e6:
        return str(int(value))
    return str(value).strip()


def _rows(sheet: str, table: Iterable[Sequence[object]]) -> list[SheetRow] | None:
    it = iter(table)
    header = next(it, None)
    names = [_text(h).lower() for h in header or ()]
    if "worker_id" not in names:
        return None
    unknown = [n for n in names if n and n not in COLUMNS]
    if unknown:
        raise SheetError(
            f"sheet {sheet!r} row 1: unknown column(s) {', '.join(unknown)}; use {', '.join(COLUMNS)}"
        )
    missing = sorted(REQUIRED - set(names))
    if missing:
        raise SheetError(f"sheet {sheet!r} row 1: missing column(s) {', '.join(missing)}")
    out = []
    for i, values in enumerate(it, start=2):
        cells = {n: _text(v) for n, v in zip(names, values, strict=False) if n}
        if any(cells.values()):
            out.append(SheetRow(sheet, i, {c: cells.get(c, "") for c in COLUMNS}))
    return out


def read_roster(path: Path) -> list[SheetRow]:
    """Every data row of a roster file (.xlsx or .csv), in file order."""
    return read_roster_bytes(path.name, path.read_bytes())


def read_roster_bytes(name: str, data: bytes) -> list[SheetRow]:
    """`read_roster` for an upload: the file's name (for its type) and its bytes."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SheetError(f"{name}: a CSV roster must be UTF-8 (byte {exc.start})") from None
        rows = _rows(name, csv.reader(io.StringIO(text, newline="")))
        if rows is None:
            raise SheetError(f"{name} row 1: no worker_id column in the header")
        return rows
    if suffix not in (".xlsx", ".xlsm"):
        raise SheetError(f"{name}: a roster is an .xlsx workbook or a .csv file")
    from openpyxl import load_workbook  # noqa: PLC0415  (on first use: ~5 MB of the API process)

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise SheetError(f"{name}: not a readable workbook ({type(exc).__name__})") from None
    try:
        out: list[SheetRow] = []
        found = False
        for ws in book.worksheets:
            rows = _rows(ws.title, ws.iter_rows(values_only=True))
            if rows is not None:
                found = True
                out += rows
    finally:
        book.close()
    if not found:
        raise SheetError(f"{name}: no worksheet has a worker_id column in its first row")
    return out


def write_roster(name: str, rows: Iterable[Sequence[object]]) -> bytes:
    """The roster in the format `name` asks for (.csv, else .xlsx)."""
    return write_csv(rows) if Path(name).suffix.lower() == ".csv" else write_xlsx(rows)


def write_xlsx(rows: Iterable[Sequence[object]]) -> bytes:
    """The roster as a workbook of one sheet, in the import's columns."""
    from openpyxl import Workbook  # noqa: PLC0415  (on first use: ~5 MB of the API process)

    book = Workbook(write_only=True)
    ws = book.create_sheet(EXPORT_SHEET)
    ws.append(list(COLUMNS))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def write_csv(rows: Iterable[Sequence[object]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")
