"""``garde consent`` and ``garde decide`` as users reach them, and the CSV import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from garde import audit
from garde.cli import app
from garde.consent.importing import import_csv
from garde.consent.ledger import consent_events, current, event_digest
from garde.consent.state import as_utc
from garde.problems import GardeError
from garde.settings import get_settings
from garde.store import connect, migrate
from garde.subjects import find_subject, subjects
from tests.test_decide import REGISTER

runner = CliRunner()


@pytest.fixture
def store(migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    register = tmp_path / "register.yaml"
    register.write_text(REGISTER, encoding="utf-8")
    monkeypatch.setenv("GARDE_DATABASE_URL", migrated_url)
    monkeypatch.setenv("GARDE_REGISTERS", str(register))
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def garde(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_give_decide_withdraw_show_history_receipt(store: str) -> None:
    code, output = garde("consent", "give", "newsletter", "--email", "ana@example.com", "--channel", "email",
                         "--notice-version", "sha256:v3", "--ip", "192.0.2.7")
    assert code == 0, output
    receipt_id = output.rsplit("receipt ", 1)[1].strip()
    assert garde("decide", "newsletter", "--email", "ana@example.com", "--channel", "email")[0] == 0
    code, output = garde("consent", "receipt", receipt_id)
    receipt = json.loads(output)
    assert receipt["header"]["record_id"] == receipt_id
    assert receipt["events"][0]["validity_duration"] == "P3Y"
    code, output = garde("consent", "withdraw", "newsletter", "--email", "ana@example.com",
                         "--channel", "email")
    assert code == 0, output
    code, output = garde("decide", "newsletter", "--email", "ana@example.com", "--channel", "email",
                         "--format", "json")
    assert code == 1 and json.loads(output)["reasons"][0]["code"] == "consent_withdrawn"
    code, output = garde("consent", "show", "--email", "ana@example.com", "--format", "json")
    assert [s["status"] for s in json.loads(output)] == ["withdrawn"]
    code, output = garde("consent", "history", "--email", "ana@example.com", "--format", "jsonl")
    assert [json.loads(line)["action"] for line in output.splitlines()] == ["given", "withdrawn"]
    assert "192.0.2.7" not in output


def test_unknown_activity_and_subject_are_clear_errors(store: str) -> None:
    code, output = garde("consent", "give", "newsleter", "--email", "ana@example.com")
    assert code == 2 and "did you mean 'newsletter'" in output
    code, output = garde("consent", "show", "--email", "nobody@example.com")
    assert code == 2 and "no subject" in output


@pytest.mark.parametrize("command", [["decide", "newsleter", "--email", "ana@example.com"],
                                     ["audience", "newsleter", "--channel", "email", "--subject-ids"]])
def test_an_unknown_activity_is_a_usage_error_with_a_suggestion_not_a_refusal(
        store: str, command: list[str]) -> None:
    """Exit 1 means "not allowed"; a misspelt activity is the caller's error (2), not a decision."""
    code, output = garde(*command)
    assert code == 2 and "did you mean 'newsletter'" in output


def test_a_date_in_the_future_is_refused_naming_the_option(store: str) -> None:
    """A consent dated ahead would outrank the withdrawals recorded before its date (Art. 7(3))."""
    code, output = garde("consent", "give", "newsletter", "--email", "ana@example.com", "--channel", "email",
                         "--at", "2099-01-01T00:00:00Z")
    assert code == 2 and "Traceback" not in output
    assert "--at: 2099-01-01T00:00:00+00:00 is in the future" in " ".join(output.split())
    code, output = garde("consent", "withdraw", "newsletter", "--email", "ana@example.com", "--at", "someday")
    assert code == 2 and "--at: 'someday' is not a date" in " ".join(output.split())
    code, output = garde("consent", "history", "--email", "ana@example.com", "--format", "jsonl")
    assert output.strip() == "" or code != 0  # nothing was recorded


def test_a_user_agent_longer_than_its_column_is_refused(store: str) -> None:
    code, output = garde("consent", "give", "newsletter", "--email", "ana@example.com", "--channel", "email",
                         "--user-agent", "M" * 600)
    assert code == 2 and "Traceback" not in output
    assert "field user_agent is 600 characters long; the ledger keeps at most 512" in " ".join(output.split())


def test_gpc_command(store: str) -> None:
    assert garde("decide", "ads", "--email", "ana@example.com")[0] == 0
    assert garde("consent", "gpc", "--email", "ana@example.com")[0] == 0
    code, output = garde("decide", "ads", "--email", "ana@example.com")
    assert code == 1 and "objection" in output


CSV = """record,mail,purpose,status,timestamp,channel,ip
r1,ana@example.com,newsletter,opt-in,2025-01-02T10:00:00Z,email,192.0.2.1
r2,bob@example.com,newsletter,opt-in,2025-01-03T10:00:00Z,email,
r3,ana@example.com,newsletter,opt-out,2025-03-01T10:00:00Z,email,
r4,cy@example.com,no-such-activity,opt-in,2025-01-03T10:00:00Z,email,
r5,,newsletter,opt-in,2025-01-03T10:00:00Z,email,
"""


def test_import_is_idempotent_and_reports_refused_rows(store: str, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(CSV, encoding="utf-8")
    args = ["consent", "import", str(path), "--source", "othertool", "--column", "id=record",
            "--column", "email=mail", "--column", "activity=purpose", "--column", "action=status",
            "--column", "at=timestamp"]
    code, output = garde(*args)
    assert code == 1 and "3 events added" in output and "2 rows refused" in output
    assert "line 5: activity 'no-such-activity'" in output and "line 6: no identity" in output
    code, output = garde(*args)
    assert "0 events added, 3 already imported" in output
    engine = connect(store, create=True)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(consent_events)).scalar() == 3
        assert conn.execute(sa.select(sa.func.count()).select_from(subjects)).scalar() == 2
        assert [e["payload"]["count"] for e in audit.entries(conn, kind="consent.imported")] == [3]
        assert audit.verify(conn).ok
    engine.dispose()
    code, output = garde("consent", "show", "--email", "ana@example.com", "--format", "json")
    assert [s["status"] for s in json.loads(output)] == ["withdrawn"]


def test_import_without_ids_dedupes_on_content_and_resumes(migrated_url: str, tmp_path: Path) -> None:
    engine = connect(migrated_url, create=True)
    migrate(engine)
    path = tmp_path / "export.csv"
    rows = "".join(f"user{i}@example.com,newsletter,given,2025-01-01T00:00:00,email\n" for i in range(25))
    path.write_text("email,activity,action,at,channel\n" + rows, encoding="utf-8")
    partial = tmp_path / "partial.csv"  # an import that stopped after ten rows
    partial.write_text("email,activity,action,at,channel\n" + "".join(rows.splitlines(True)[:10]),
                       encoding="utf-8")
    assert import_csv(engine, partial, source="tool", batch_size=4).added == 10
    report = import_csv(engine, path, source="tool", batch_size=4)
    assert (report.added, report.already_there, report.new_subjects) == (15, 10, 15)
    engine.dispose()


def test_import_names_the_real_line_and_reads_ragged_rows(migrated_url: str, tmp_path: Path) -> None:
    """Blank lines and cells spanning lines do not shift the line a problem names; short rows
    read as empty cells, long rows lose their extra cells; every stored event is the one the
    audit entry vouches for, on both databases."""
    engine = connect(migrated_url, create=True)
    migrate(engine)
    path = tmp_path / "export.csv"
    path.write_text(
        "id,email,activity,action,at,user_agent\n"               # line 1
        "a1,ana@example.com,newsletter,given,2025-01-02T10:00:00Z,\"Mozilla/5.0\n(X11)\"\n"  # 2-3
        "\n"                                                      # 4: blank
        "a2,bob@example.com,newsletter,maybe,2025-01-02T10:00:00Z\n"  # 5: bad action, short row
        "a3,cy@example.com,newsletter,withdrawn,2025-02-03T04:05:06+01:00,curl,extra,cells\n"  # 6
        "a4,,newsletter,given,2025-01-02\n",                      # 7: no identity
        encoding="utf-8")
    report = import_csv(engine, path, source="tool")
    assert report.read == 4 and report.added == 2
    assert [p.split(":")[0] for p in report.problems] == ["line 5", "line 7"]
    with engine.connect() as conn:
        stored = {r.event_id: dict(r._mapping) for r in conn.execute(sa.select(consent_events))}
        [entry] = audit.entries(conn, kind="consent.imported")
        vouched = dict(entry["payload"]["events"])
    assert vouched == {event_id: event_digest(row) for event_id, row in stored.items()}
    agents = sorted(row["user_agent"] or "" for row in stored.values())
    assert agents == ["Mozilla/5.0\n(X11)", "curl"]
    moments = sorted(as_utc(row["at"]) for row in stored.values())
    assert moments == [datetime(2025, 1, 2, 10, tzinfo=UTC), datetime(2025, 2, 3, 3, 5, 6, tzinfo=UTC)]
    engine.dispose()


def test_a_file_that_is_not_utf8_is_refused_with_its_line(store: str, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"email,activity,action,at\nana@example.com,newsletter,given,2025-01-02\n"
                     b"b\xe9a@example.com,newsletter,given,2025-01-02\n")
    code, output = garde("consent", "import", str(path))
    assert code != 0 and "Traceback" not in output
    assert f"{path}: line 3: not UTF-8 text (invalid continuation byte)" in " ".join(output.split())
    path.write_bytes(b"email,activity,action,at\nana@example.com,newsletter,given,2025-01-02\n"
                     b"bea@example.com,newsletter,given,\"" + b"x" * 200_000 + b"\"\n")
    code, output = garde("consent", "import", str(path))
    assert code != 0 and "Traceback" not in output
    assert f"{path}: line 3: field larger than field limit" in " ".join(output.split())


def test_import_refuses_a_row_dated_in_the_future_with_its_line(migrated_url: str, tmp_path: Path) -> None:
    """A consent dated ahead would outrank every withdrawal recorded before its date."""
    engine = connect(migrated_url, create=True)
    migrate(engine)
    path = tmp_path / "export.csv"
    path.write_text("id,email,activity,action,at\n"
                    "1,ana@example.com,newsletter,given,2099-01-01T00:00:00Z\n"
                    "2,ana@example.com,newsletter,given,2025-01-01T00:00:00Z\n", encoding="utf-8")
    report = import_csv(engine, path, source="tool")
    assert report.added == 1
    assert [p.split(" is in")[0] for p in report.problems] == ["line 2: field at: 2099-01-01T00:00:00+00:00"]
    engine.dispose()


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_spreadsheet_export_separated_by_semicolons_or_tabs_is_read(migrated_url: str, tmp_path: Path,
                                                                      separator: str) -> None:
    """Excel in a French or Italian locale saves CSV with `;` (and a BOM, CRLF lines): every row
    used to be refused as "no activity", the whole header read as one column."""
    engine = connect(migrated_url, create=True)
    migrate(engine)
    path = tmp_path / "export.csv"
    lines = ["id,email,activity,action,at", "1,ana@example.com,newsletter,given,2025-01-02 10:00",
             "2,ana@example.com,newsletter,withdrawn,2025-02-02 10:00"]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(line.replace(",", separator) for line in lines).encode()
                     + b"\r\n")
    report = import_csv(engine, path, source="excel")
    assert (report.added, report.problems) == (2, [])
    with engine.connect() as conn:
        ana = find_subject(conn, {"email": "ana@example.com"})
        assert ana is not None and [c.status for c in current(conn, ana)] == ["withdrawn"]
    engine.dispose()


def test_a_withdrawal_on_a_channel_spelled_otherwise_still_wins(store: str) -> None:
    """`--channel EMAIL` (or an export's `Email`, `E-mail`) was recorded as written: the withdrawal
    applied to no channel decide() asks about, and the consent on `email` stayed valid."""
    assert garde("consent", "give", "newsletter", "--email", "ana@example.com", "--channel", "email")[0] == 0
    code, output = garde("consent", "withdraw", "newsletter", "--email", "ana@example.com",
                         "--channel", "EMAIL")
    assert code == 0 and "on email," in output, output
    code, output = garde("decide", "newsletter", "--email", "ana@example.com", "--channel", "email",
                         "--format", "json")
    assert code == 1 and json.loads(output)["reasons"][0]["code"] == "consent_withdrawn"
    # Asked with another spelling, decide() asks about the same channel: still withdrawn.
    code, output = garde("decide", "newsletter", "--email", "ana@example.com", "--channel", "E-mail",
                         "--format", "json")
    assert code == 1 and json.loads(output)["reasons"][0]["code"] == "consent_withdrawn"
    code, output = garde("consent", "withdraw", "newsletter", "--email", "ana@example.com",
                         "--channel", "pigeon")
    assert code == 2 and "'pigeon' is not a channel garde knows" in " ".join(output.split())


def test_an_import_records_each_channel_by_its_id(migrated_url: str, tmp_path: Path) -> None:
    engine = connect(migrated_url, create=True)
    migrate(engine)
    path = tmp_path / "export.csv"
    path.write_text("id,email,activity,channel,action,at\n"
                    "1,ana@example.com,newsletter,email,given,2025-01-02\n"
                    "2,ana@example.com,newsletter,E-mail,withdrawn,2025-02-02\n"
                    "3,bea@example.com,newsletter,Courriel,given,2025-01-02\n"
                    "4,bea@example.com,newsletter,carrier pigeon,given,2025-01-02\n", encoding="utf-8")
    report = import_csv(engine, path, source="tool")
    assert report.added == 3 and len(report.problems) == 1 and "line 5:" in report.problems[0]
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(consent_events.c.channel)).scalars()) == {"email"}
        ana = find_subject(conn, {"email": "ana@example.com"})
        assert ana is not None and [c.status for c in current(conn, ana)] == ["withdrawn"]
    engine.dispose()


def test_an_unclosed_quote_stops_the_import_with_the_line_where_its_record_starts(
        store: str, tmp_path: Path) -> None:
    """The withdrawals after a quote left open were read as one cell and lost, with exit status 0."""
    path = tmp_path / "export.csv"
    path.write_text("id,email,activity,action,at,user_agent\n"
                    "1,ana@example.com,newsletter,given,2025-01-02,Firefox\n"
                    "\n"
                    "2,bob@example.com,newsletter,given,2025-01-02,\"Mozilla/5.0 (X11\n"  # line 4: left open
                    "3,ana@example.com,newsletter,withdrawn,2025-02-02,curl\n"
                    "4,cy@example.com,newsletter,withdrawn,2025-02-02,curl\n", encoding="utf-8")
    code, output = garde("consent", "import", str(path))
    assert code == 2 and "Traceback" not in output
    assert (f"{path}: line 4: a quote opened in the record that starts on this line is never closed"
            in " ".join(output.split()))
    # closed further down by another cell's quote: the same, not rows merged into one cell
    path.write_text("id,email,activity,action,at,user_agent\n"
                    "2,bob@example.com,newsletter,given,2025-01-02,\"Mozilla/5.0 (X11\n"  # line 2
                    "3,ana@example.com,newsletter,withdrawn,2025-02-02,\"curl\"\n", encoding="utf-8")
    code, output = garde("consent", "import", str(path))
    assert code == 2 and f"{path}: line 2: ',' expected after '\"' on line 3" in " ".join(output.split())
    engine = connect(store, create=True)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(consent_events)).scalar() == 0
    engine.dispose()



@pytest.mark.parametrize("record", [",," * 2_000_000, '"a\n",' * 700_000], ids=["one-line", "many-lines"])
def test_a_record_wider_than_any_export_s_stops_the_import_in_bounded_memory(
        store: str, tmp_path: Path, record: str) -> None:
    """A line of 30 million commas made the CSV reader build a list of 30 million cells (600 MB for
    a 30 MB file, gigabytes for a larger one) before the row was refused; a record spread over
    many quoted lines did the same. A record is now read up to 1 MiB, then the import stops with
    its line, the batches before it kept."""
    path = tmp_path / "export.csv"
    path.write_text("id,email,activity,action,at\n"
                    "1,ana@example.com,newsletter,given,2025-01-02\n"
                    f"2,bob@example.com,newsletter,given,2025-01-02,{record}\n"
                    "3,ana@example.com,newsletter,withdrawn,2025-02-02\n", encoding="utf-8")
    code, output = garde("consent", "import", str(path))
    assert code == 2 and "Traceback" not in output, output
    assert f"{path}: line 3: a record longer than 1,048,576 characters" in " ".join(output.split())


JANUARY = """id,email,activity,action,at,channel,user_agent
1,ana@example.com,newsletter,opt-in,2025-01-02T10:00:00Z,email,Firefox
2,bob@example.com,newsletter,opt-in,2025-01-03T10:00:00Z,email,Firefox
"""
FEBRUARY = """id,email,activity,action,at,channel,user_agent
1,ana@example.com,newsletter,opt-out,2025-02-01T10:00:00Z,email,Firefox
2,bob@example.com,newsletter,opt-in,2025-01-03T10:00:00Z,email,Chrome
3,cy@example.com,newsletter,opt-in,2025-02-03T10:00:00Z,email,Firefox
"""


def test_next_months_export_with_the_same_ids_loses_no_withdrawal(store: str, tmp_path: Path) -> None:
    """The same file name and row ids a month later: an id with another event (ana withdrew) is
    a new event; the same event is already imported, even with other evidence (noted)."""
    path = tmp_path / "export.csv"
    path.write_text(JANUARY, encoding="utf-8")
    code, output = garde("consent", "import", str(path))
    assert code == 0 and "2 events added" in output
    path.write_text(FEBRUARY, encoding="utf-8")
    code, output = garde("consent", "import", str(path))
    text = " ".join(output.split())
    assert code == 0 and "3 rows read: 2 events added, 1 already imported" in text
    assert ("line 2: its id was imported before with another event (given newsletter on email at "
            "2025-01-02T10:00:00+00:00); this one (withdrawn newsletter on email at "
            "2025-02-01T10:00:00+00:00) is added beside it") in text
    assert "line 3: already imported, with other evidence (user_agent)" in text
    code, output = garde("decide", "newsletter", "--email", "ana@example.com", "--channel", "email")
    assert code == 1 and "withdrawn" in output
    code, output = garde("consent", "import", str(path))  # again: nothing new
    assert code == 0 and "3 rows read: 0 events added, 3 already imported" in " ".join(output.split())
    engine = connect(store, create=True)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(consent_events)).scalar() == 4
        assert audit.verify(conn).ok
    engine.dispose()


@pytest.mark.parametrize("batch_size", [1, 2, 5000])
def test_an_id_repeated_with_another_event_is_imported_in_any_batch(migrated_url: str, tmp_path: Path,
                                                                     batch_size: int) -> None:
    """A file holding a record's history under one id (given, withdrawn, given again), imported
    then imported again, in batches of every size: each event once, none dropped."""
    engine = connect(migrated_url, create=True)
    migrate(engine)
    path = tmp_path / "history.csv"
    path.write_text("id,email,activity,action,at\n"
                    "7,ana@example.com,newsletter,given,2025-01-02T10:00:00Z\n"
                    "7,ana@example.com,newsletter,withdrawn,2025-02-02T10:00:00Z\n"
                    "7,ana@example.com,newsletter,withdrawn,2025-02-02T10:00:00Z\n"
                    "7,ana@example.com,newsletter,given,2025-03-02T10:00:00Z\n", encoding="utf-8")
    first = import_csv(engine, path, source="crm", batch_size=batch_size)
    assert (first.added, first.already_there, first.changed) == (3, 1, 2)
    again = import_csv(engine, path, source="crm", batch_size=batch_size)
    assert (again.added, again.already_there, again.changed) == (0, 4, 0)
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.select(consent_events.c.action)
                                                   .order_by(consent_events.c.at))]
    assert actions == ["given", "withdrawn", "given"]
    engine.dispose()


def test_a_value_longer_than_its_column_refuses_its_row_not_the_batch(migrated_url: str,
                                                                      tmp_path: Path) -> None:
    """On PostgreSQL a too-long user agent or channel aborted the batch with a traceback (and the
    withdrawals in it); now that row is refused with its line and field, on both databases."""
    engine = connect(migrated_url, create=True)
    migrate(engine)
    path = tmp_path / "export.csv"
    path.write_text("id,email,activity,action,at,channel,user_agent\n"
                    "1,ana@example.com,newsletter,given,2025-01-02,email,Firefox\n"
                    f"2,bob@example.com,newsletter,given,2025-01-02,email,{'M' * 513}\n"
                    f"3,cy@example.com,newsletter,given,2025-01-02,{'e' * 33},Firefox\n"
                    "4,dee@example.com,newsletter,given,2025-01-02,email,Fire\x00fox\n"
                    "5,ana@example.com,newsletter,withdrawn,2025-02-02,email,Firefox\n", encoding="utf-8")
    report = import_csv(engine, path, source="tool")
    assert report.problems == [
        "line 3: field user_agent is 513 characters long; the ledger keeps at most 512",
        "line 4: field channel is 33 characters long; the ledger keeps at most 32",
        "line 5: field user_agent holds a NUL character, which the ledger cannot store"]
    assert report.added == 2
    with engine.connect() as conn:
        actions = conn.execute(sa.select(consent_events.c.action).order_by(consent_events.c.id)).scalars()
        assert list(actions) == ["given", "withdrawn"]
    with pytest.raises(GardeError, match="the import's source: field source is 65 characters long"):
        import_csv(engine, path, source="s" * 65)
    engine.dispose()


def test_a_withdrawal_listed_after_a_consent_dated_later_sets_it_aside_and_is_noted(
        migrated_url: str, tmp_path: Path) -> None:
    """Rows are recorded in the file's order: in doubt the withdrawal wins, and the DPO is told."""
    engine = connect(migrated_url, create=True)
    migrate(engine)
    path = tmp_path / "export.csv"
    path.write_text("id,email,activity,channel,action,at\n"
                    "1,ana@example.com,newsletter,email,given,2025-03-01T00:00:00Z\n"
                    "2,bob@example.com,newsletter,email,withdrawn,2025-01-01T00:00:00Z\n"
                    "3,ana@example.com,newsletter,email,withdrawn,2025-02-01T00:00:00Z\n", encoding="utf-8")
    report = import_csv(engine, path, source="tool")
    assert report.added == 3 and report.set_aside == 1
    assert report.notes == [
        "line 4: withdrawn at 2025-02-01T00:00:00+00:00, listed after the consent of line 2 dated later "
        "(2025-03-01T00:00:00+00:00): recorded after it, it sets it aside (if the consent came later, "
        "sort the export oldest first)"]
    with engine.connect() as conn:
        sid = find_subject(conn, {"email": "ana@example.com"})
        assert sid is not None
        assert [s.status for s in current(conn, sid)] == ["withdrawn"]
    engine.dispose()


def test_a_hostile_rows_values_are_reported_as_text(store: str, tmp_path: Path) -> None:
    """A consent export's row is another system's (or a visitor's) text: refused, its value quoted in
    the report as written, never as Rich markup or an escape sequence (red22)."""
    path = tmp_path / "export.csv"
    path.write_text("record,mail,purpose,status,timestamp\n"
                    "r1,ana@example.com,[link=https://evil.example/]newsletter[/link],opt-in,2025-01-02T10:00:00Z\n"
                    "r2,bob@example.com,news\x1b]0;owned\x07\u202e,opt-in,2025-01-02T10:00:00Z\n",
                    encoding="utf-8")
    code, output = garde("consent", "import", str(path), "--source", "othertool", "--column", "id=record",
                         "--column", "email=mail", "--column", "activity=purpose",
                         "--column", "action=status", "--column", "at=timestamp")
    assert code == 1 and "2 rows refused" in output, output
    assert "[link=https://evil.example/]newsletter[/link]" in output, output
    assert "\x1b" not in output and "\u202e" not in output, output


def test_a_consents_evidence_from_the_shops_systems_is_shown_as_text(store: str) -> None:
    """The notice version is what the shop's system sent (a service key, or this option): history
    shows it as written, not as Rich markup (red22)."""
    version = "[link=https://evil.example/]sha256:v3[/link]"
    code, output = garde("consent", "give", "newsletter", "--email", "ana@example.com", "--channel", "email",
                         "--notice-version", version)
    assert code == 0, output
    code, output = garde("consent", "history", "--email", "ana@example.com")
    assert code == 0 and "[link=htt" in output, output  # the table cuts it at 80 columns; markup would go
