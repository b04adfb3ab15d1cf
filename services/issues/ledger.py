"""Campaign ledgers (台账) as spreadsheets: the notice's three lists, 附件1-3.

Pure rendering: row dicts in, bytes out. No database, no clock. Each worksheet is
laid out as the notice's attachment: row 1 "附件N", row 2 the title with the unit's
name, row 3 the headers, then one numbered row per item.
"""

import csv
import io

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

LISTS = ("problem", "improvement", "suggestion")
LABELS = {"problem": "附件1", "improvement": "附件2", "suggestion": "附件3"}
HEADERS: dict[str, tuple[str, ...]] = {
    "problem": (
        "序号",
        "作风纪律、工作流程问题具体表现",
        "责任人",
        "整改措施",
        "整改进展情况",
        "监督",
    ),
    "improvement": (
        "序号",
        "改进作风纪律、理顺工作流程具体表现",
        "责任人",
        "改进措施",
        "监督责任人",
    ),
    "suggestion": ("序号", "单位名称", "改进作风纪律、理顺工作流程具体表现"),
}
TITLES: dict[str, str] = {
    "problem": "（{unit}）查摆出作风纪律、工作流程问题清单",
    "improvement": "（{unit}）查摆出应进一步改进作风纪律、理顺工作流程清单",
    "suggestion": "（{unit}）认为其他单位应进一步改进作风纪律、理顺工作流程清单",
}
FIELDS: dict[str, tuple[str, ...]] = {  # the row dict's keys, after 序号
    "problem": ("manifestation", "responsible", "measures", "progress", "supervision"),
    "improvement": ("manifestation", "responsible", "measures", "supervisor"),
    "suggestion": ("unit_name", "manifestation"),
}
WIDTHS = {  # in characters, 序号 first
    "problem": (6, 44, 12, 32, 24, 12),
    "improvement": (6, 44, 12, 32, 12),
    "suggestion": (6, 24, 56),
    "summary": (6, 24, 9, 9, 9, 9, 9, 10),
}
SUMMARY_HEADERS = (
    "序号",
    "单位",
    "登记",
    "整改中",
    "待销号",
    "已销号",
    "超期",
    "按期销号",
)
SUMMARY_FIELDS = (
    "registered",
    "rectifying",
    "submitted",
    "closed",
    "overdue",
    "closed_on_time",
)

# Complaint text is user input. Opened in a spreadsheet, a cell starting with one of
# these can run as a formula (=HYPERLINK(...) leaks data, =cmd|... ran commands in old
# Excel). In CSV, where a cell has no type, the OWASP remedy is a leading single
# quote. In xlsx the cell is typed: it is written as a string (never a formula) with
# the quotePrefix flag, so Excel keeps it text even when someone edits the cell, and
# the complainant's words stay exactly as written.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_THIN = Side(style="thin")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LOOKS = {
    "title": {"font": Font(bold=True, size=14), "alignment": _CENTER},
    "header": {"font": Font(bold=True), "alignment": _CENTER, "border": _GRID},
    # data cells carry a grid, as the notice's tables do
    "number": {
        "alignment": Alignment(horizontal="center", vertical="top"),
        "border": _GRID,
    },
    "text": {"alignment": Alignment(vertical="top", wrap_text=True), "border": _GRID},
    "total": {
        "font": Font(bold=True),
        "alignment": Alignment(vertical="top"),
        "border": _GRID,
    },
}


def xlsx(
    scope_name: str, lists: dict[str, list[dict]], summary: dict | None = None
) -> bytes:
    """One worksheet per list present (附件1-3), after a 汇总 sheet if `summary`."""
    unknown = sorted(set(lists) - set(LISTS))
    if unknown:
        raise ValueError(f"unknown ledger lists {unknown}; expected some of {LISTS}")
    if not lists and summary is None:
        raise ValueError("nothing to render: no lists and no summary")
    wb = Workbook(write_only=True)
    if summary is not None:
        title = f"（{summary['scope']}）{summary['period']} 台账汇总"
        title += f"（截至{summary['as_of']}）" if summary.get("as_of") else ""
        rows = summary_rows(summary)
        ws, looks = _sheet(wb, "汇总", title, rows[0], WIDTHS["summary"])
        for row in rows[1:-1]:
            ws.append([_cell(ws, v, looks["text"]) for v in row])
        ws.append([_cell(ws, v, looks["total"]) for v in rows[-1]])
    for kind in (k for k in LISTS if k in lists):
        title = TITLES[kind].format(unit=scope_name)
        ws, looks = _sheet(wb, LABELS[kind], title, HEADERS[kind], WIDTHS[kind])
        number, text = looks["number"], looks["text"]
        for n, row in enumerate(lists[kind], 1):
            values = [row.get(field) for field in FIELDS[kind]]
            ws.append([_cell(ws, n, number), *(_cell(ws, v, text) for v in values)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(kind: str, rows: list[dict]) -> bytes:
    """One list as CSV: UTF-8 with a BOM (so Excel reads it as UTF-8), CRLF, quoted
    as RFC 4180 asks."""
    if kind not in LISTS:
        raise ValueError(f"unknown ledger list {kind!r}; expected one of {LISTS}")
    fields = FIELDS[kind]
    body = ([n, *(row.get(f) for f in fields)] for n, row in enumerate(rows, 1))
    return _csv([HEADERS[kind], *body])


def summary_rows(summary: dict) -> list[list]:
    """Header, one row per unit, then 合计 (in the 单位 column, 序号 left empty)."""
    rows: list[list] = [list(SUMMARY_HEADERS)]
    totals = [0] * len(SUMMARY_FIELDS)
    for n, unit in enumerate(summary["units"], 1):
        counts = [unit[field] for field in SUMMARY_FIELDS]
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        rows.append([n, unit["unit_name"], *counts])
    rows.append([None, "合计", *totals])
    return rows


def summary_csv(summary: dict) -> bytes:
    return _csv(summary_rows(summary))


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)  # excel dialect: minimal quoting, CRLF, "" for a quote
    for row in rows:
        writer.writerow(
            "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
            for v in row
        )
    return out.getvalue().encode("utf-8-sig")


def _sheet(wb, name, title, headers, widths):
    """A write-only sheet with rows 1-3 written; returns it and its cell styles.
    Column widths, panes and print settings go out with the sheet's head, so they
    are set before the first row."""
    ws = wb.create_sheet(name)
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    looks = _looks(ws)
    ws.append([name])
    ws.append([_cell(ws, title, looks["title"])])
    # A write-only sheet has no merge_cells(); the range list it writes at the end is
    # there all the same (pandas merges the same way in write-only mode).
    ws.merged_cells.add(f"A2:{get_column_letter(len(headers))}2")
    ws.append([_cell(ws, h, looks["header"]) for h in headers])
    return ws, looks


def _looks(ws) -> dict:
    """Style arrays to build cells from. Setting font, alignment and border on each
    cell looks each up in the workbook's style tables: 10,000 x 6 styled cells took
    2.7x the time of plain values. A cell built on a template's array (openpyxl
    copies it) took 1.6x."""
    arrays = {}
    for name, looks in _LOOKS.items():
        template = WriteOnlyCell(ws)
        for attribute, value in looks.items():
            setattr(template, attribute, value)
        arrays[name] = template._style
    return arrays


def _cell(ws, value, style) -> Cell:
    if not isinstance(value, str):
        return Cell(ws, row=1, column=1, value=value, style_array=style)
    # Control characters other than tab and newlines cannot be stored in xlsx; one
    # pasted into a complaint must not make the whole ledger fail. XML reads any CR
    # back as LF, Excel's own line break: written so, the cell holds what was written.
    guard = value.startswith(FORMULA_STARTS)  # see FORMULA_STARTS
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    cell = Cell(ws, row=1, column=1, value=value, style_array=style)
    if guard or value.startswith(FORMULA_STARTS):  # "\x00=..." is "=..." by now
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
