"""Ledger and summary files, as the gateway hands them out (base64 over RPC).

A unit's ledger is one workbook titled with the unit's name, as the seeds' 附件 are
(`（单位）查摆出…清单`). A campaign's ledger is what the campaign office collects: one
such workbook per unit, in a zip. CSV holds one list, so it needs `list`.
"""

import base64
import io
import zipfile

from eventlog.tenancy import district_scope
from services.directory import read as directory

from . import ledger, views
from .domain import Invalid

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _file(body: bytes, content_type: str, filename: str) -> dict:
    return {
        "content": base64.b64encode(body).decode(),
        "content_type": content_type,
        "filename": filename,  # ASCII only: it goes into a header
    }


def _one(conn, district, campaign_id, unit, name, query) -> tuple[bytes, str]:
    lists = views.ledger_lists(conn, district, campaign_id, unit, query.get("list"))
    if query.get("format") == "csv":
        return ledger.csv_bytes(query["list"], lists[query["list"]]), "csv"
    return ledger.xlsx(name, lists), "xlsx"


def ledger_file(conn, district, campaign_id, query) -> dict:
    views.campaign(conn, district, campaign_id)  # 404 for another district's
    if query.get("format") == "csv" and not query.get("list"):
        raise Invalid(
            "a CSV ledger holds one list: give list=problem|improvement|suggestion"
        )
    with district_scope(conn, district):
        names = {u["code"]: u["name"] for u in directory.units(conn)}
    unit = query.get("unit")
    suffix = f"-{query['list']}" if query.get("list") else ""
    if unit:
        if unit not in names:
            raise Invalid(f"no unit {unit!r} in district {district}'s directory")
        body, ext = _one(conn, district, campaign_id, unit, names[unit], query)
        kind = XLSX if ext == "xlsx" else "text/csv"
        return _file(body, kind, f"ledger-{campaign_id}-{unit}{suffix}.{ext}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for code in views.units_with_items(conn, district, campaign_id):
            name = names.get(code, code)
            body, ext = _one(conn, district, campaign_id, code, name, query)
            archive.writestr(f"{code}-{name}{suffix}.{ext}", body)
    return _file(
        buffer.getvalue(), "application/zip", f"ledger-{campaign_id}{suffix}.zip"
    )


def summary_file(data: dict, campaign_id: str) -> dict:
    return _file(
        ledger.summary_csv(data),
        "text/csv",
        f"summary-{campaign_id}-{data['period']}.csv",
    )
