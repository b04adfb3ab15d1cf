"""bench/ledger: ledger exports (台账) against the machine's own ceiling.

In one run, on 10,000 rows of the problem list (附件1, six columns):
- xlsx: the ceiling is openpyxl in write-only mode writing the same 10,000 x 6 values
  as plain cells (no title, merge, widths or styles); ours is `ledger.xlsx`;
- csv: the ceiling is a plain csv.writer over the same values, encoded as UTF-8; ours
  is `ledger.csv_bytes` (formula guard, BOM).
Ratio = ceiling seconds / our seconds (1.0: no overhead). Each figure is the median of
several interleaved rounds: the machine is shared and noisy, so read ratios, not
seconds. Target: the xlsx of 10,000 rows well under 5 s.

    .venv/bin/python bench/ledger.py [--rows 10000] [--rounds 5]
"""

import argparse
import csv
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from openpyxl import Workbook  # noqa: E402

from bench.common import median, save  # noqa: E402
from services.issues import ledger  # noqa: E402

UNIT = "区行政审批局"


def problem_rows(n: int) -> list[dict]:
    """Rows shaped like real ones: long complaint text, some commas and line breaks,
    one in a hundred starting with "=" (the guard's slow path)."""
    rows = []
    for i in range(n):
        text = (
            f"第{i}号：窗口工作人员推诿，要求补交材料三次，群众往返跑腿，未一次性告知"
        )
        rows.append(
            {
                "manifestation": ("=" + text) if i % 100 == 0 else text,
                "responsible": "张三",
                "measures": "约谈窗口负责人,一次性告知所需材料\n建立首问负责制",
                "progress": None if i % 3 else "已整改，待回访",
                "supervision": "纪检组 李四",
            }
        )
    return rows


def plain_values(rows: list[dict]) -> list[list]:
    fields = ledger.FIELDS["problem"]
    return [[n, *(r[f] for f in fields)] for n, r in enumerate(rows, 1)]


def ceiling_xlsx(values):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("附件1")
    for row in values:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def ceiling_csv(values):
    out = io.StringIO()
    csv.writer(out).writerows(values)
    return out.getvalue().encode("utf-8")


def timed(fn, *args) -> float:
    began = time.perf_counter()
    fn(*args)
    return time.perf_counter() - began


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    rows = problem_rows(args.rows)
    values = plain_values(rows)
    # the ceiling must not write "=..." as formulas: keep it the same text
    values = [[v.lstrip("=") if isinstance(v, str) else v for v in r] for r in values]
    pairs = {
        "xlsx": (
            lambda: ceiling_xlsx(values),
            lambda: ledger.xlsx(UNIT, {"problem": rows}),
        ),
        "csv": (lambda: ceiling_csv(values), lambda: ledger.csv_bytes("problem", rows)),
    }
    figures = {"rows": args.rows, "rounds": args.rounds}
    for name, (ceiling, ours) in pairs.items():
        c_rounds, o_rounds = [], []
        for _ in range(args.rounds):  # interleaved, so drift hits both alike
            c_rounds.append(timed(ceiling))
            o_rounds.append(timed(ours))
        c, o = median(c_rounds), median(o_rounds)
        figures[name] = {
            "ceiling_s": round(c, 4),
            "ours_s": round(o, 4),
            "ratio": round(c / o, 3),
            "ceiling_rounds": c_rounds,
            "ours_rounds": o_rounds,
        }
        print(
            f"{name:4}: ceiling {c:7.3f} s   ours {o:7.3f} s   ratio {c / o:.2f}",
            flush=True,
        )
    ok = figures["xlsx"]["ours_s"] < 5
    print(f"target: xlsx of {args.rows} rows under 5 s: {'met' if ok else 'MISSED'}")
    print(f"saved {save('ledger', figures)}")


if __name__ == "__main__":
    main()
