"""The secret scan: digests and signatures pass, credentials block, located by JSON path."""

from __future__ import annotations

import json

import pytest

from promgate.supply.errors import SecretFoundError
from promgate.supply.secret_scan import ScanReport, scan_files, scan_text

AWS_EXAMPLE = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example key id


def test_digests_and_base64_signatures_are_not_findings(tmp_path):
    doc = {
        "sha256": "4eb1000fbaa178c92f2088b8b104bc59490aec16918983e27130662a5f22febb",
        "sig": "MEUCIQDx2c3LkqkZ0sAbc8qk3pKk2X8xk0yH3b1F8b3l1P5S6wIgN5M0yJk9Wb1tL8n7Q0gT2mY6o6c1X=",
    }
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc, indent=2))
    report = scan_files([("a.json", path)])
    assert report.findings == [] and report.files == ["a.json"]


def test_a_credential_in_json_is_located_by_path(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"meta": {"notes": ["ok", f"aws {AWS_EXAMPLE}"]}}, indent=2))
    report = ScanReport()
    with pytest.raises(SecretFoundError, match=r"b.json, meta.notes\[1\]: .*AWS Access Key"):
        scan_files([("b.json", path)], report)
    assert report.findings == [{"file": "b.json", "at": "meta.notes[1]", "type": "AWS Access Key"}]
    assert AWS_EXAMPLE not in json.dumps(report.to_json()), "the secret itself is never recorded"


def test_a_password_in_text_is_located_by_line(tmp_path):
    path = tmp_path / "r.md"
    path.write_text("# report\n\nok\npassword = 'hunter2isMyPassw0rd'\n")
    with pytest.raises(SecretFoundError, match=r"r\.md, line 4: .*Secret Keyword"):
        scan_files([("r.md", path)])


def test_documents_are_scanned_before_they_exist_on_disk():
    with pytest.raises(SecretFoundError, match=r"statement\.json"):
        scan_text("statement.json", json.dumps({"token": AWS_EXAMPLE}), ScanReport())
