"""The command line: output, JSON lines from stdin, one-line errors without tracebacks."""

from __future__ import annotations

import io
import json
import sys

import pytest

from csbot.serve.cli import main
from csbot.settings import Settings


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["csbot", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_prints_answer_and_citations(fake_index: Settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "ask", "客户服务16大管理原则", "--top-k", "2", "--mode", "bm25")
    assert code == 0
    assert "[1] basics-notes | 客服管理基础知识 › 第三章 › 5.客户服务16大管理原则 | lines 74-77" in out
    assert "[3]" not in out


def test_ask_reads_questions_from_stdin_as_json_lines(fake_index: Settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "ask", "--json", stdin="职业锚\n\n客我关系\n")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in rows] == ["职业锚", "客我关系"]
    assert all(r["citations"] for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", ""], "the question is empty"),
        (["ask", "客" * 1200], "the limit is 1000"),
        (["clean", "no-such-doc"], "unknown document 'no-such-doc'"),
        (["ask", "x", "--mode", "magic"], "--mode must be one of"),
    ],
)
def test_errors_are_one_clean_line(fake_index: Settings, monkeypatch, capsys, args, message) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(monkeypatch, capsys, *args)
    assert code == 1
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_index_says_to_build(env: Settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(monkeypatch, capsys, "ask", "职业锚")
    assert code == 1 and "run `csbot build`" in err and "Traceback" not in err


def test_clean_removed_lists_reasons(env: Settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "clean", "occupational-standard", "--removed")
    assert code == 0
    assert "gambling spam" in out and "mojibake" in out and "缃戠珯鍏充簬" in out


def test_build_with_fake_model(env: Settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(monkeypatch, capsys, "build")
    assert code == 0 and "passages from 5 documents, model fake" in out


def test_build_if_stale_builds_only_when_needed(env: Settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(monkeypatch, capsys, "build", "--if-stale")
    assert code == 0 and "no index" in err and "passages from 5 documents" in out
    code, out, _ = run(monkeypatch, capsys, "build", "--if-stale")
    assert code == 0 and "is up to date" in out
    (env.index_dir / "units.npy").write_bytes(b"damaged")
    code, out, err = run(monkeypatch, capsys, "build", "--if-stale")
    assert code == 0 and "damaged" in err and "passages from 5 documents" in out


def test_a_bad_line_in_a_batch_is_reported_and_the_rest_answered(
    fake_index: Settings, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(
        monkeypatch, capsys, "ask", "--json", stdin="职业锚\n" + "客" * 1500 + "\n客我关系\n"
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert [("error" in r) for r in rows] == [False, True, False]
    assert "limit is 1000" in rows[1]["error"] and "limit is 1000" in err
    assert code == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CSBOT_TOP_K", "abc", "error: CSBOT_TOP_K must be an integer, got 'abc'"),
        ("CSBOT_FUSION", "magic", "error: CSBOT_FUSION must be 'convex' or 'rrf', got 'magic'"),
        ("CSBOT_LOG", "loud", "error: CSBOT_LOG must be DEBUG, INFO, WARNING or ERROR, got 'loud'"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_1(
    env: Settings, monkeypatch, capsys, variable, value, message
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(variable, value)
    code, out, err = run(monkeypatch, capsys, "documents")
    assert code == 1 and out == ""
    assert err == message + "\n"


def test_a_broken_query_adapter_file_is_one_line_naming_the_remedy(
    fake_index: Settings, monkeypatch, capsys, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import csbot.serve.assistant as assistant_module
    from csbot.search.adapter import read_adapter

    broken = tmp_path / "adapter-fake.npz"
    broken.write_bytes(b"PK\x03\x04 not a whole zip")
    monkeypatch.setattr(assistant_module, "adapter_for", lambda model: read_adapter(broken))
    code, out, err = run(monkeypatch, capsys, "ask", "什么是客户服务?")
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "cannot be read" in err and "csbot calibrate" in err and "CSBOT_QUERY_ADAPTER=0" in err
    monkeypatch.setenv("CSBOT_QUERY_ADAPTER", "0")  # the way around it the message names
    code, out, _ = run(monkeypatch, capsys, "ask", "什么是客户服务?")
    assert code == 0 and "客户服务" in out
