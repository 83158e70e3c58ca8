"""Trainers' tools: sources, syllabus coverage, the question log, adding and removing documents."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import rebuild_and_hash
from csbot.errors import CorpusError
from csbot.index.manifest import read_manifest
from csbot.ingest.corpus import load_corpus
from csbot.ingest.documents import add_documents, decode_text, document_text, infer_script, remove_document
from csbot.ingest.journal import LOCK
from csbot.reports.coverage_page import render
from csbot.reports.syllabus import load_syllabus, to_csv
from csbot.serve.api.app import create_app
from csbot.serve.assistant import Assistant
from csbot.serve.question_log import QuestionLog
from csbot.settings import Settings

BREAK_WORDS = "接听电话应在铃响三声之内，并主动问候客户。客服人员应着装整洁，保持微笑，耐心倾听客户的问题。"


def _served(settings: Settings):  # type: ignore[no-untyped-def]
    return rebuild_and_hash(settings)[1]


def _snapshot(settings: Settings) -> dict[str, str]:
    """Every corpus and index file's hash (not the change lock, which stays once made)."""
    files = sorted(settings.corpus_dir.iterdir()) + sorted(settings.index_dir.rglob("*"))
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file() and p.name != LOCK
    }


def test_syllabus_is_the_real_list_with_sources() -> None:
    from conftest import CORPUS

    corpus = load_corpus(CORPUS)
    points = load_syllabus(CORPUS)
    assert len(points) > 50
    for p in points:
        raw = corpus.raw_lines(corpus.get(p.source))[p.line - 1]
        assert "".join(p.point.split()) in "".join(raw.split()), p


def test_coverage_report_shape() -> None:
    from csbot.reports.syllabus import CoverageRow, DocumentCoverage, SectionHit, SyllabusPoint

    hit = SectionHit("资料 › 第一章", "客户<b>是</b>指…", 3, 4, 0.9)
    rows = [
        CoverageRow(
            SyllabusPoint("客户的概念", "第二章", "", "gd-selfstudy-syllabus", 41),
            {"basics-notes": DocumentCoverage("basics-notes", "客服管理基础知识", 0.9, (hit,))},
            {"basics-notes"},
        ),
        CoverageRow(SyllabusPoint("CTI技术", "第八章", "", "gd-selfstudy-syllabus", 53)),
    ]
    rows[1].documents["gd-selfstudy-syllabus"] = DocumentCoverage(
        "gd-selfstudy-syllabus", "大纲", 0.7, (hit,)
    )
    titles = {"basics-notes": "客服管理基础知识", "gd-selfstudy-syllabus": "大纲"}
    material = {"basics-notes"}
    report = render(rows, titles, material)
    body = report.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr>") == 2 and body.count('class="gap">缺口') == 1
    assert body.count('class="chapter"') == 2 and "覆盖 1 / 1" in body and "覆盖 0 / 1" in body
    assert 'href="#p0-basics-notes"' in report and 'id="p0-basics-notes"' in report
    assert '<td class="named"><a href="#p1-gd-selfstudy-syllabus">提及</a></td>' in body  # names, not covers
    assert "客户<b>是</b>指" not in report and "客户&lt;b&gt;是&lt;/b&gt;指" in report  # corpus text escaped
    assert (
        "<style>" not in report and 'href="/static/coverage.css"' in report
    )  # the page's CSP: no inline style
    assert "大纲覆盖报告" in report and "Syllabus" not in report
    # with a cover model, the page says its cut-off and how often it was right on the test points
    checked = {"points": 129, "gap_precision": 0.909, "covered_precision": 0.375}
    fitted = render(rows, titles, material, cut_off=0.8, checked=checked)
    assert "≥ 0.80 算覆盖" in fitted and "129 个" in fitted and "91% 确实没有材料讲" in fitted
    assert "判为“覆盖”的，38% 确实讲了" in fitted and "确实讲了" not in render(
        rows, titles, material, cut_off=0.8
    )
    assert to_csv(rows, list(titles), material).splitlines() == [
        "知识点,章节,级别,来源,行,basics-notes,gd-selfstudy-syllabus,缺口",
        "客户的概念,第二章,,gd-selfstudy-syllabus,41,0.90,,",
        "CTI技术,第八章,,gd-selfstudy-syllabus,53,,提及,缺口",
    ]


def test_question_log_groups_near_duplicates(tmp_path: Path) -> None:
    log = QuestionLog(tmp_path / "q.sqlite3")
    for q in ["考试报名费多少钱?", "考试报名费多少钱？", "考試報名費多少錢", "证书怎么查真伪"]:
        log.record(q, False, None)
    log.record("职业锚有哪些", True, "basics-notes")
    groups = log.gaps()
    assert groups[0].count == 3 and groups[0].question == "考试报名费多少钱?"
    assert [g.question for g in groups] == ["考试报名费多少钱?", "证书怎么查真伪"]


def test_off_topic_questions_are_counted_not_listed_as_gaps(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "q.sqlite3"
    with sqlite3.connect(path) as old:  # a log written before the off_topic column existed
        old.execute(
            "CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL, "
            "question TEXT NOT NULL, confident INTEGER NOT NULL, top_doc TEXT)"
        )
        old.execute("INSERT INTO questions (asked_at, question, confident) VALUES ('t', '证书怎么查真伪', 0)")
    old.close()
    log = QuestionLog(path)
    log.record("明天北京天气怎么样", False, None, off_topic=True)
    log.record("明天北京天气怎么样?", False, None, off_topic=True)
    log.record("考试报名费多少钱?", False, None)
    assert log.count() == 4 and log.off_topic() == 2
    assert [g.question for g in log.gaps()] == ["证书怎么查真伪", "考试报名费多少钱?"]


def test_concurrent_writes_lose_nothing(tmp_path: Path) -> None:
    log = QuestionLog(tmp_path / "q.sqlite3")
    ids: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(25):
            qid = log.record(f"问题 {n}-{i}", i % 2 == 0, None)
            log.mark(qid, helpful=False, comment=f"c{n}-{i}")
            with lock:
                ids.append(qid)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.count() == 200 and len(set(ids)) == 200
    assert len(log.unhelpful(limit=500)) == 200


def test_service_logs_questions_and_feedback(fake_index: Settings) -> None:
    with TestClient(create_app(fake_index, Assistant(fake_index))) as c:
        body = c.post("/api/ask", json={"question": "Python 的列表推导式怎么写?"}).json()
        qid = body["question_id"]
        assert c.post(
            "/api/feedback", json={"question_id": qid, "helpful": False, "comment": "没讲到"}
        ).json() == {"ok": True}
        assert c.post("/api/feedback", json={"question_id": 99999, "helpful": True}).status_code == 404
        assert c.get("/api/sources", params={"q": "职业锚"}).status_code == 200
        page = c.get("/coverage")  # there at once: no `csbot coverage` step first
        assert page.status_code == 200 and "大纲覆盖报告" in page.text and "缺口" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        table = c.get("/coverage.csv")
        assert table.headers["content-type"].startswith("text/csv")
        assert table.text.splitlines()[0].startswith("知识点,章节,级别,来源,行,")
    log = QuestionLog(fake_index.data_dir / "questions.sqlite3")
    assert log.count() == 1
    marked = log.unhelpful()[0]
    assert marked.question == "Python 的列表推导式怎么写?" and marked.comment == "没讲到"
    columns = {
        row[1] for row in __import__("sqlite3").connect(log.path).execute("PRAGMA table_info(questions)")
    }
    assert columns == {"id", "asked_at", "question", "confident", "top_doc", "off_topic"}  # no client data


def test_logging_can_be_turned_off(fake_index: Settings) -> None:
    from dataclasses import replace

    quiet = replace(fake_index, log_questions=False)
    with TestClient(create_app(quiet, Assistant(quiet))) as c:
        body = c.post("/api/ask", json={"question": "职业锚"}).json()
        assert "question_id" not in body
        assert c.post("/api/feedback", json={"question_id": 1, "helpful": True}).status_code == 409
    assert not (fake_index.data_dir / "questions.sqlite3").exists()


def test_encodings_are_detected() -> None:
    assert decode_text(BREAK_WORDS.encode("gbk"), "x.txt") == BREAK_WORDS
    trad = "接聽電話應在鈴響三聲之內，並主動問候客戶。客服人員應著裝整潔，保持微笑，耐心傾聽客戶的問題。"
    assert decode_text(trad.encode("big5"), "x.txt") == trad
    assert infer_script(trad) == "traditional" and infer_script(BREAK_WORDS) == "simplified"


def test_add_docx_and_gbk_text_then_remove(fake_index: Settings, tmp_path: Path) -> None:
    import docx

    gbk = tmp_path / "礼仪-notes.txt"
    gbk.write_bytes(("客户服务礼仪要点\n一、电话礼仪\n" + BREAK_WORDS + "\n").encode("gbk"))
    d = docx.Document()
    d.add_paragraph("客户服务管理师二级：服务补救")
    d.add_paragraph("服务补救是指企业在服务失误发生后，针对客户的抱怨所采取的及时有效的补救措施。")
    d.save(str(tmp_path / "recovery.docx"))
    added = add_documents(
        fake_index.corpus_dir, [gbk, tmp_path / "recovery.docx"], *rebuild_and_hash(fake_index)
    )
    assert [a.doc_id for a in added] == ["notes", "recovery"]
    assert added[1].level == "二级" and added[0].kind == "study-notes"
    assert (fake_index.corpus_dir / "notes.txt").read_text(encoding="utf-8").startswith("客户服务礼仪要点")
    assert read_manifest(fake_index.index_dir)["documents"][-2:] == ["notes", "recovery"]
    answer = Assistant(fake_index).ask("接听电话应在铃响几声之内?", mode="bm25")
    assert answer.citations[0].doc_id == "notes" and "三声之内" in (answer.answer or "")

    remove_document(fake_index.corpus_dir, "notes", *rebuild_and_hash(fake_index))
    assert not (fake_index.corpus_dir / "notes.txt").exists()
    assert "notes" not in read_manifest(fake_index.index_dir)["documents"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.docx", b"not a zip", "cannot extract text"),
        ("scan.pdf", b"%PDF-1.4 garbage", "cannot extract text"),
        ("empty.txt", b"   \n", "no text found"),
        ("binary.txt", bytes(range(256)) * 4, "not readable"),
        ("slides.pptx", b"x", "unsupported format"),
    ],
)
def test_unreadable_files_are_refused_and_nothing_changes(
    fake_index: Settings, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    good = tmp_path / "good.txt"
    good.write_text("客户服务礼仪要点\n" + BREAK_WORDS, encoding="utf-8")
    before = _snapshot(fake_index)
    with pytest.raises(CorpusError, match=message):
        add_documents(fake_index.corpus_dir, [good, bad], *rebuild_and_hash(fake_index))
    assert _snapshot(fake_index) == before


def test_failed_rebuild_puts_the_corpus_back(fake_index: Settings, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("客户服务礼仪要点\n" + BREAK_WORDS, encoding="utf-8")
    before = _snapshot(fake_index)

    def failing() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        add_documents(fake_index.corpus_dir, [good], failing, _served(fake_index))
    with pytest.raises(OSError):
        remove_document(fake_index.corpus_dir, "basics-notes", failing, _served(fake_index))
    assert _snapshot(fake_index) == before


def test_extracts_html_without_markup(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(
        "<html><script>alert(1)</script><body><h1>客户满意度</h1><p>" + BREAK_WORDS + "</p></body></html>",
        encoding="utf-8",
    )
    text = document_text(page)
    assert "alert" not in text and text.startswith("客户满意度") and "<" not in text


def test_gaps_cli_lists_unanswered_and_unhelpful(fake_index: Settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import sys

    from csbot.serve.cli import main

    log = QuestionLog(fake_index.data_dir / "questions.sqlite3")
    qid = log.record("考试报名费多少钱?", False, None)
    log.record("考试报名费多少钱", False, None)
    log.mark(qid, helpful=False, comment="没有答案")
    log.record("Python 的列表推导式怎么写?", False, None, off_topic=True)
    monkeypatch.setattr(sys, "argv", ["csbot", "gaps", "--json"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code in (0, None)
    data = json.loads(capsys.readouterr().out)
    assert data["unanswered"][0]["count"] == 2 and len(data["unanswered"]) == 1
    assert data["not_helpful"][0]["comment"] == "没有答案" and data["off_topic"] == 1
    monkeypatch.setattr(sys, "argv", ["csbot", "gaps"])
    with pytest.raises(SystemExit):
        main()
    text = capsys.readouterr().out
    assert "1 of them looked off topic" in text and "Python" not in text


def test_gaps_and_answers_cannot_steer_the_terminal(fake_index: Settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import sys

    from csbot.serve.cli import main

    hostile = "报名费\x1b[2J\x1b]0;owned\x07多少\n  999 × forged gap line\u202e"
    log = QuestionLog(fake_index.data_dir / "questions.sqlite3")
    qid = log.record(hostile, False, None)
    log.mark(qid, helpful=False, comment="坏\x1b[31m评\r\n")
    for argv in (
        ["csbot", "gaps"],
        ["csbot", "gaps", "--json"],
        ["csbot", "ask", hostile],
        ["csbot", "ask", hostile, "--json"],
    ):
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit):
            main()
        out = capsys.readouterr().out
        assert not any(c in out for c in "\x1b\x07\r\u202e"), argv
        assert not [line for line in out.splitlines() if line.strip().startswith("999 ×")], (
            argv
        )  # no forged line


def test_a_question_list_never_covers_a_point(fake_index: Settings) -> None:
    from csbot.reports.syllabus import covering_hits

    assistant = Assistant(fake_index)
    point = "解释什么是客户体验,以及如何提供良好的客户体验"  # asked word for word by a 题库 list
    found = assistant.retriever.search(assistant.retriever.analyse(point), k=3)
    assert any(h.passage.kind == "questions" and h.dense_score > 0.85 for h in found)
    assert all(h.passage.kind != "questions" for h, _ in covering_hits(assistant, point))


def test_add_refuses_links_and_what_is_not_a_regular_file(fake_index: Settings, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0", encoding="utf-8")
    link = tmp_path / "notes.txt"
    link.symlink_to(secret)
    before = (fake_index.corpus_dir / "corpus.toml").read_text(encoding="utf-8")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    for bad in (link, folder):
        with pytest.raises(CorpusError, match="symbolic link|not a regular file"):
            add_documents(fake_index.corpus_dir, [bad], lambda: None, _served(fake_index))
    assert (fake_index.corpus_dir / "corpus.toml").read_text(encoding="utf-8") == before
    assert not (fake_index.corpus_dir / "notes.txt").exists()


def test_trainer_page_is_off_without_a_token_and_refuses_a_wrong_one(fake_index: Settings) -> None:
    from dataclasses import replace

    with TestClient(create_app(fake_index, Assistant(fake_index))) as c:
        c.post("/api/ask", json={"question": "考试报名费多少钱"})
        assert c.get("/trainer").status_code == 404  # off: CSBOT_TRAINER_TOKEN unset
        assert c.get("/api/trainer/gaps", headers={"Authorization": "Bearer "}).status_code == 404
    on = replace(fake_index, trainer_token="s3cret-trainer-token")
    with TestClient(create_app(on, Assistant(on))) as c:
        page = c.get("/trainer")
        assert page.status_code == 200 and "培训师口令" in page.text
        assert "报名费" not in page.text  # the page holds no student data
        assert c.get("/api/trainer/gaps").status_code == 401
        wrong = c.get("/api/trainer/gaps", headers={"Authorization": "Bearer s3cret-trainer-tokeN"})
        assert wrong.status_code == 401 and "报名费" not in wrong.text
        right = c.get("/api/trainer/gaps", headers={"Authorization": "Bearer s3cret-trainer-token"})
        assert right.status_code == 200
        assert right.json()["unanswered"][0]["question"] == "考试报名费多少钱"
    assert "s3cret" not in repr(on)  # never printed with the settings


def test_a_short_trainer_token_is_refused() -> None:
    from csbot.errors import SettingsError
    from csbot.settings import load_settings

    with pytest.raises(SettingsError, match="CSBOT_TRAINER_TOKEN must be at least 12"):
        load_settings(env={"CSBOT_TRAINER_TOKEN": "1234"})


def test_coverage_check_scores_another_reader(
    fake_index: Settings, tmp_path: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    import sys

    from csbot.serve.cli import main

    def write(name: str, rows: list[tuple[int, str, bool]]) -> Path:
        path = tmp_path / name
        lines = [json.dumps({"point_no": n, "doc_id": d, "covers": c}) for n, d, c in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    b, l3 = "basics-notes", "l3-lecture-notes"
    gold = write("gold.jsonl", [(1, b, True), (1, l3, False), (2, b, False), (2, l3, False), (3, b, True)])
    reader = write(
        "reader.jsonl", [(1, b, True), (1, l3, True), (2, b, False), (2, l3, False), (3, b, False)]
    )

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["csbot", "coverage", "--out", str(tmp_path / "out"), *args])
        with pytest.raises(SystemExit) as done:
            main()
        out = capsys.readouterr()
        return int(done.value.code or 0), out.out, out.err

    code, out, _ = run("--check", str(gold))  # the report alone
    assert code == 0 and "all  against 5 labelled pairs" in out and "reader" not in out
    code, out, _ = run("--check", str(gold), "--reader", str(reader))
    assert code == 0
    # covered: the reader says 1/basics (right) and 1/l3 (wrong), misses 3/basics; the reader's
    # gaps are points 2 (right) and 3 (wrong)
    assert (
        "reader all  against 5 labelled pairs: covered precision 0.500 recall 0.500; "
        "over 3 points: gap precision 0.500 recall 1.000"
    ) in out
    short = write("short.jsonl", [(1, b, True)])
    code, _, err = run("--check", str(gold), "--reader", str(short))
    assert (
        code == 1 and "the reader's labels lack 4 of the 5 labelled pairs" in err and "Traceback" not in err
    )
    code, _, err = run("--reader", str(reader))
    assert code == 1 and "--reader needs --check" in err
