"""The HTTP routes and the CLI commands of the contract, on the hand-counted market."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from adoption_market import build
from click.testing import CliRunner

from market.cli import main


def test_api_adoption_by_zone(client, engine):
    build(engine)
    response = client.get("/api/adoption", params={"by": "zone", "as_of": "2026-03-31", "trend": "true"})
    assert response.status_code == 200
    body = response.json()
    figure = next(f for f in body["indicators"] if f["key"] == "transacting_30d")
    assert (figure["numerator"], figure["denominator"], figure["percent"]) == (2, 6, 33.33)
    assert [g["key"] for g in body["breakdown"]["groups"]] == ["A", "B", "C"]
    assert [m["month"] for m in body["trend"]][-1] == "2026-03"
    assert body["definitions"]
    assert body["rules"]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"window": 0}, 400, "window"),
        ({"by": "row"}, 400, "by"),
        ({"as_of": "31-13-2026"}, 422, "as_of"),
        ({"as_of": "2999-01-01"}, 422, "as_of"),
    ],
)
def test_api_adoption_refuses_bad_parameters(client, query, status, field):
    response = client.get("/api/adoption", params=query)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.json()["detail"]


def test_api_commune_report_in_every_format(client, engine):
    build(engine)
    as_json = client.get("/api/reports/commune", params={"period": "2026-03", "format": "json"})
    assert as_json.status_code == 200
    rows = as_json.json()["rows"]
    xlsx = client.get("/api/reports/commune", params={"period": "2026-03", "format": "xlsx"})
    assert xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'attachment; filename="bao-cao-xa-hoi-so-2026-03.xlsx"' in xlsx.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Bieu_XHS"]
    keys = [sheet.cell(r, 11).value for r in range(11, 11 + len(rows))]
    assert keys == [row["key"] for row in rows]
    pdf = client.get("/api/reports/commune", params={"period": "2026-03", "format": "pdf"})
    assert (pdf.headers["content-type"], pdf.content[:5]) == ("application/pdf", b"%PDF-")
    csv = client.get("/api/reports/commune", params={"period": "2026-03", "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    bad = client.get("/api/reports/commune", params={"period": "2026-3", "format": "pdf"})
    assert (bad.status_code, bad.headers["content-type"]) == (422, "application/problem+json")


def test_api_visits_and_survey_entry(client, engine):
    build(engine)
    visits = client.get("/api/reports/visits", params={"format": "csv", "as_of": "2026-03-31"})
    assert visits.status_code == 200
    assert [line.split(";")[2] for line in visits.content.decode("utf-8-sig").splitlines()[1:]] == [
        "A-02",
        "A-04",
        "A-10",
        "B-02",
    ]
    entry = {
        "name": "Tỷ lệ người dân dùng điện thoại thông minh có ứng dụng phục vụ sản xuất, kinh doanh",
        "numerator": 4692,
        "denominator": 10000,
        "surveyed_on": "2026-02-01",
        "source": "UBND xã",
        "target_percent": 80,
    }
    assert client.put("/api/reports/surveys/smartphone_business", json=entry).status_code == 200
    report = client.get("/api/reports/commune", params={"period": "2026-03", "format": "json"}).json()
    survey = report["rows"][-1]
    assert (survey["key"], survey["percent"], survey["source"]) == ("smartphone_business", 46.92, "survey")
    refused = client.put("/api/reports/surveys/smartphone_business", json={**entry, "numerator": 10001})
    assert refused.status_code == 422


def test_cli_reports(settings, engine, tmp_path):
    build(engine)
    runner = CliRunner(env={"MARKET_DATABASE_URL": settings.database_url})
    result = runner.invoke(main, ["report", "adoption", "--as-of", "31/03/2026", "--by", "category"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert next(f for f in figures["indicators"] if f["key"] == "regular")["numerator"] == 1
    as_csv = runner.invoke(main, ["report", "adoption", "--as-of", "2026-03-31", "--format", "csv"])
    assert "transacting_30d;" in as_csv.stdout
    out = tmp_path / "bao-cao.xlsx"
    made = runner.invoke(main, ["report", "commune", "--period", "2026-03", "--format", "xlsx", "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert openpyxl.load_workbook(out)["Bieu_XHS"]["A1"].value == "UBND TỈNH AN GIANG"
    visits = runner.invoke(main, ["report", "visits", "--as-of", "2026-03-31"])
    assert visits.stdout.count("\n") == 5
    survey = runner.invoke(
        main,
        ["report", "survey", "set", "online_payment_account", "--name", "Tài khoản thanh toán trực tuyến",
         "--numerator", "3695", "--denominator", "10000", "--date", "20/02/2026", "--source", "UBND xã"],
    )  # fmt: skip
    assert survey.exit_code == 0, survey.output
    settings_set = runner.invoke(main, ["report", "settings", "set", "signer_name", "Trần Văn Bình"])
    assert settings_set.exit_code == 0
    shown = json.loads(runner.invoke(main, ["report", "settings", "show"]).stdout)
    assert shown["profile"]["signer_name"] == "Trần Văn Bình"


def test_cli_refuses_bad_input_with_status_2(settings):
    runner = CliRunner(env={"MARKET_DATABASE_URL": settings.database_url})
    assert runner.invoke(main, ["report", "commune", "--period", "2026-13", "--format", "json"]).exit_code == 2
    assert runner.invoke(main, ["report", "adoption", "--as-of", "yesterday"]).exit_code == 2
    bad_target = runner.invoke(main, ["report", "settings", "set", "target.regular", "150"])
    assert bad_target.exit_code == 2
    assert "0–100" in bad_target.output
