"""The web service: routes, validation, no 500s (fuzzed against the OpenAPI schema)."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import replace

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from csbot.embed.fake import HashEmbedder
from csbot.index.build import build_index
from csbot.serve.api.app import create_app
from csbot.serve.assistant import Assistant
from csbot.settings import Settings


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from conftest import settings_in

    s = settings_in(tmp_path_factory.mktemp("api"), "fake")
    build_index(s, HashEmbedder())
    return s


@pytest.fixture(scope="module")
def app(built: Settings):  # type: ignore[no-untyped-def]
    return create_app(built, Assistant(built))


def client_with(settings: Settings) -> TestClient:
    return TestClient(create_app(settings, Assistant(settings)))


@pytest.fixture(scope="module")
def client(app):  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


def test_ask_returns_the_cli_json(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "客户服务16大管理原则有哪些?", "top_k": 2})
    assert r.status_code == 200
    body = r.json()
    assert {"question", "answer", "confident", "citations", "answer_citation", "highlights"} <= set(body)
    assert len(body["citations"]) == 2 and body["citations"][0]["line_start"] >= 1


def test_ask_with_explain(client: TestClient) -> None:
    body = client.post("/api/ask", json={"question": "什么是客我关系?", "explain": True}).json()
    assert "timings_ms" in body["explain"]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"question": ""}, "the question is empty"),
        ({"question": "   \n"}, "the question is empty"),
        ({"question": "客" * 1001}, "the question is 1001 characters long; the limit is 1000"),
        ({"question": "x", "top_k": 0}, "greater than or equal to 1"),
        ({"question": "x", "extra": 1}, "Extra inputs"),
        ({}, "Field required"),
    ],
)
def test_bad_questions_are_422(client: TestClient, payload: dict, fragment: str) -> None:  # type: ignore[type-arg]
    r = client.post("/api/ask", json=payload)
    assert r.status_code == 422 and fragment in r.text


def test_malformed_json_is_422(client: TestClient) -> None:
    r = client.post("/api/ask", content=b"{bad", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_chat_resolves_a_follow_up(client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "客户服务16大管理原则有哪些"},
        {"role": "assistant", "content": "…"},
        {"role": "user", "content": "还有呢?"},
    ]
    body = client.post("/api/chat", json={"messages": messages, "top_k": 1}).json()
    assert body["question"] == "还有呢?"
    assert body["resolved_question"] == "客户服务16大管理原则有哪些 还有呢?"


def test_the_configured_question_limit_is_enforced(built: Settings) -> None:
    with client_with(replace(built, max_question_chars=20)) as c:
        r = c.post("/api/ask", json={"question": "客" * 21})
        assert r.status_code == 422
        assert r.json() == {"detail": "the question is 21 characters long; the limit is 20"}
        assert c.post("/api/ask", json={"question": "客" * 20}).status_code == 200
        chat = c.post("/api/chat", json={"messages": [{"role": "user", "content": "客" * 21}]})
        assert chat.status_code == 422 and chat.json()["detail"].endswith("the limit is 20")
        sources = c.get("/api/sources", params={"q": "客" * 21})
        assert sources.status_code == 422 and sources.json()["detail"].endswith("the limit is 20")


def test_a_limit_above_1000_lets_longer_questions_through(built: Settings) -> None:
    with client_with(replace(built, max_question_chars=1500)) as c:
        assert c.post("/api/ask", json={"question": "客户投诉" * 300}).status_code == 200


def test_a_short_follow_up_to_a_long_question_is_answered(built: Settings) -> None:
    first = "客户服务16大管理原则包括哪些内容和要求"  # 20 characters, the limit: resolved, 25
    messages = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": "…"},
        {"role": "user", "content": "还有呢?"},
    ]
    with client_with(replace(built, max_question_chars=20)) as c:
        r = c.post("/api/chat", json={"messages": messages})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["question"] == "还有呢?"
    assert body["resolved_question"] == first + " 还有呢?"  # the whole earlier question, over the limit


def test_the_version_is_the_package_s(monkeypatch: pytest.MonkeyPatch, built: Settings) -> None:
    import csbot

    assert create_app(built).version == csbot.__version__
    monkeypatch.setattr(csbot, "__version__", "9.8.7")
    schema = TestClient(create_app(built)).get("/openapi.json").json()
    assert schema["info"]["version"] == "9.8.7"


def test_chat_needs_a_final_user_question(client: TestClient) -> None:
    r = client.post("/api/chat", json={"messages": [{"role": "assistant", "content": "hi"}]})
    assert r.status_code == 422 and "last message must be the user's" in r.text


def test_documents_and_sources(client: TestClient) -> None:
    docs = client.get("/api/documents").json()
    assert {d["doc_id"] for d in docs} >= {"basics-notes", "gd-selfstudy-syllabus"}
    src = client.get("/api/documents/basics-notes", params={"start": 74, "end": 77}).json()
    assert [line["number"] for line in src["lines"]] == [74, 75, 76, 77]
    assert src["lines"][0]["text"].startswith("5.客户服务16大管理原则")


def test_source_ranges_are_clamped(client: TestClient) -> None:
    src = client.get("/api/documents/basics-notes", params={"start": -5, "end": 10**6}).json()
    assert src["start"] == 1 and src["end"] == src["total_lines"] == 79
    tail = client.get("/api/documents/basics-notes", params={"start": 500}).json()
    assert tail["start"] == tail["end"] == 79


@pytest.mark.parametrize("doc_id", ["nope", "..", "corpus.toml", "cs-management-basics-notes.txt"])
def test_only_corpus_ids_reach_the_disk(client: TestClient, doc_id: str) -> None:
    assert client.get(f"/api/documents/{doc_id}").status_code == 404


def test_health_reports_the_manifest(client: TestClient) -> None:
    h = client.get("/api/health").json()
    assert h["status"] == "ok" and h["model"] == "fake" and h["passage_count"] > 150


def test_page_is_served(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "csbot" in r.text
    assert client.get("/static/app.js").status_code == 200


def test_missing_index_gives_503_not_500(env: Settings) -> None:
    with TestClient(create_app(env)) as c:
        r = c.post("/api/ask", json={"question": "职业锚"})
        assert r.status_code == 503 and "csbot build" in r.json()["detail"]
        assert c.get("/api/health").status_code == 503


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_no_input_makes_a_server_error(app, mode) -> None:  # type: ignore[no-untyped-def]
    """Every operation of the OpenAPI schema, fed schema-valid and schema-violating input."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/ask", "/api/chat", "/api/documents/{doc_id}"}
    for op in operations:

        @given(op.as_strategy(generation_mode=mode))
        @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, case.body, response.text[:200])

        try:
            check()
        except Unsatisfiable:
            # no input to violate: a GET without parameters (/api/documents, /api/health)
            assert (
                mode == schemathesis.GenerationMode.NEGATIVE
                and op.method.upper() == "GET"
                and "{" not in op.path
            )


# What JSON parsers accept but many servers choke on: non-finite numbers (sent as the tokens
# NaN / Infinity, as Python's json writes them) and halves of a UTF-16 surrogate pair.
HOSTILE = st.sampled_from([float("nan"), float("inf"), float("-inf"), "\ud800", "问\udfff题", 1e308])


def _spoil(value: object, draw) -> object:  # type: ignore[no-untyped-def]
    """``value`` with one field, anywhere in it, replaced by a hostile value."""
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        return {**value, key: _spoil(value[key], draw) if draw(st.booleans()) else draw(HOSTILE)}
    if isinstance(value, list) and value:
        at = draw(st.integers(0, len(value) - 1))
        return [*value[:at], _spoil(value[at], draw), *value[at + 1 :]]
    return draw(HOSTILE)


def _quoted(value: object) -> str:
    return urllib.parse.quote(str(value).encode("utf-8", "surrogatepass"))


def test_schema_fuzzing_with_non_finite_numbers_and_lone_surrogates(app) -> None:  # type: ignore[no-untyped-def]
    """schemathesis' valid requests, each with one field spoilt: never a 5xx (issue 14)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    client = TestClient(app)
    spoilt = 0
    for op in operations:
        if op.method.upper() != "POST" and "{" not in op.path:
            continue

        @given(op.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE), st.data())
        @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case, data) -> None:  # type: ignore[no-untyped-def]
            nonlocal spoilt
            url, body = case.formatted_path, None
            if isinstance(case.body, dict):  # NaN / Infinity written as JSON tokens, as Python's json does
                body = json.dumps(_spoil(case.body, data.draw))
            else:  # in a URL a surrogate travels as its (invalid UTF-8) bytes, %ED%A0%80
                query = _spoil(case.query or {"start": 1}, data.draw)
                url += "?" + "&".join(f"{k}={_quoted(v)}" for k, v in query.items())  # type: ignore[union-attr]
            spoilt += 1
            response = client.request(case.method, url, content=body, headers=RAW)
            assert response.status_code < 500, (case.method, case.path, case.body, response.text[:200])

        check()
    assert spoilt >= 100


RAW = {"content-type": "application/json"}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/ask", '{"question": "什么是客我关系?", "top_k": NaN}'),
        ("/api/ask", '{"question": "什么是客我关系?", "top_k": Infinity}'),
        ("/api/ask", '{"question": "什么是客我关系?", "top_k": 1e400}'),
        ("/api/ask", '{"question": "\\ud800"}'),
        ("/api/ask", '{"question": "客我关系", "\\ud800": 1}'),
        ("/api/chat", '{"messages": [{"role": "user", "content": "\\udfff还有呢"}]}'),
        ("/api/chat", '{"messages": [{"role": "user", "content": "好"}], "top_k": -Infinity}'),
        ("/api/feedback", '{"question_id": 1, "helpful": true, "comment": "\\ud800"}'),
        ("/api/feedback", '{"question_id": NaN, "helpful": true}'),
    ],
)
def test_non_finite_numbers_and_lone_surrogates_are_a_short_422(
    client: TestClient, path: str, body: str
) -> None:
    r = client.post(path, content=body.encode(), headers=RAW)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, list) and all("input" not in e for e in detail)  # nothing echoed back


def test_a_question_of_invisible_characters_is_empty(client: TestClient) -> None:
    for question in ("\u200b\u200b", "\x00", "\ufeff \u200d"):
        r = client.post("/api/ask", json={"question": question})
        assert r.status_code == 422 and "empty" in r.text


def test_a_large_invalid_body_is_not_echoed(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "问" * 30_000})
    assert r.status_code == 422 and len(r.content) < 2_000


def test_a_body_over_the_limit_is_refused_before_parsing(client: TestClient) -> None:
    from csbot.serve.api.app import MAX_BODY_BYTES

    big = b'{"question": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}'
    r = client.post("/api/ask", content=big, headers=RAW)
    assert r.status_code == 413 and len(r.content) < 200

    def chunks():  # no Content-Length: counted as it streams in
        yield b'{"question": "'
        for _ in range(40):
            yield b"a" * 10_000
        yield b'"}'

    r = client.post("/api/ask", content=chunks(), headers=RAW)
    assert r.status_code == 413

    def small():
        yield '{"question": "什么是客我关系?"}'.encode()

    r = client.post("/api/ask", content=small(), headers=RAW)
    assert r.status_code == 200 and r.json()["citations"]


def test_pages_carry_security_headers(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["x-frame-options"] == "DENY"
    api = client.get("/api/health")
    assert api.headers["x-content-type-options"] == "nosniff"


def test_a_locked_question_log_never_holds_up_an_answer(built: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3
    import time

    settings = replace(built, data_dir=tmp_path / "data")
    with client_with(settings) as c:
        assert c.post("/api/ask", json={"question": "什么是客我关系?"}).status_code == 200  # creates the file
        assert c.app.state.log.flush(10)
        other = sqlite3.connect(settings.data_dir / "questions.sqlite3", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another process holds the log
        try:
            started = time.perf_counter()
            r = c.post("/api/ask", json={"question": "投诉处理的六步法是什么?"})
            assert r.status_code == 200 and r.json()["citations"]
            assert time.perf_counter() - started < 1.5  # not the 30-40 s a busy wait took
            assert c.get("/api/health").status_code == 200
            c.app.state.log.flush(10)
            log = c.get("/api/health").json()["question_log"]
            assert log["failed"] >= 1 and log["status"] == "failing" and "locked" in log["last_error"]
        finally:
            other.execute("ROLLBACK")
            other.close()


def test_an_unwritable_log_loses_no_answer(built: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be", encoding="utf-8")
    with client_with(replace(built, data_dir=blocker)) as c:
        r = c.post("/api/ask", json={"question": "什么是客我关系?"})
        assert r.status_code == 200 and r.json()["citations"]
        c.app.state.log.flush(10)
        assert c.get("/api/health").json()["question_log"]["failed"] == 1
