"""The page in a real headless Chromium against the real server on a loopback port.

Slow: it uses the real model and index. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from csbot.settings import Settings

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
XSS = "<img src=x onerror=alert(1)>"
TRAINER_TOKEN = "e2e-trainer-token-0123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(real: Settings) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "CSBOT_HOME": str(real.home),
        "CSBOT_CORPUS": str(real.corpus_dir),
        "CSBOT_INDEX": str(real.index_dir),
        "CSBOT_MODEL": real.model,
        "CSBOT_DATA": str(real.data_dir),
        "CSBOT_TRAINER_TOKEN": TRAINER_TOKEN,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "csbot", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode() if proc.stdout else "server exited")
            time.sleep(0.25)
        else:
            raise RuntimeError("server did not start in 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}; `make test` installs it (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def _ask(page, question: str):  # type: ignore[no-untyped-def]
    count = page.locator("li.msg.bot").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    reply = page.locator("li.msg.bot").nth(count)
    reply.locator(".answer, .notfound").first.wait_for(timeout=30_000)
    return reply


def test_student_session(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server)

    reply = _ask(page, "投诉处理的六步法是什么?")
    assert "跟踪服务" in reply.locator(".answer").inner_text()
    first_card = reply.locator(".card").first
    assert "第 34–38 行" in first_card.inner_text()
    assert reply.locator(".card mark").count() > 0  # matched terms highlighted
    page.screenshot(path=str(SHOTS / "answer.png"), full_page=True)

    first_card.click()
    panel = page.locator("#source")
    panel.wait_for(state="visible")
    cited = panel.locator("li.cited")
    cited.first.wait_for(timeout=10_000)  # the panel opens first, its lines arrive by fetch
    assert cited.count() == 5 and "鼓励客户发泄" in cited.nth(1).inner_text()
    page.screenshot(path=str(SHOTS / "source-panel.png"))
    page.click("#close-source")

    exam = _ask(page, "所谓的以貌取人正是生活中所指的( )。A.晕轮效应 B.近因效应 C.刻板印象 D.首因效应")
    assert exam.locator(".options li.suggested").inner_text().strip() == "D. 首因效应"
    page.screenshot(path=str(SHOTS / "exam.png"), full_page=True)

    unknown = _ask(page, "明天北京的天气怎么样?")
    assert unknown.locator(".notfound").is_visible()
    assert unknown.locator(".card").count() >= 1  # related reading offered
    page.screenshot(path=str(SHOTS / "not-found.png"), full_page=True)
    assert not dialogs


# Questions in a student's words; at least one of them gets a confident answer from the
# calibrated model and one a "likely" one (the test asks the API which, so it does not hang
# on one question's score: a refit moves them).
CANDIDATES = [
    "服务有哪些特点",
    "投诉处理有几个步骤",
    "客户服务标准怎么制定",
    "服务员和顾客是什么关系",
    "投诉处理的六步法是什么?",
    "客服中心要怎么管人",
    "客户档案里要写啥",
    "老板让我做客户调查怎么做",
]


def test_three_outcomes_look_different(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    outcomes = {
        q: httpx.post(f"{server}/api/ask", json={"question": q}, timeout=30).json()["outcome"]
        for q in CANDIDATES
    }
    confident = next((q for q, o in outcomes.items() if o == "confident"), None)
    likely = next((q for q, o in outcomes.items() if o == "likely"), None)
    assert confident is not None and likely is not None, outcomes
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server)
    sure = _ask(page, confident)
    assert sure.get_attribute("data-outcome") == "confident"
    assert sure.locator(".likely-note").count() == 0 and sure.locator(".notfound").count() == 0
    maybe = _ask(page, likely)
    assert maybe.get_attribute("data-outcome") == "likely"
    assert maybe.locator(".answer.likely").is_visible() and maybe.locator(".likely-note").is_visible()
    assert maybe.locator(".notfound").count() == 0  # never "not covered" above a likely answer
    assert "出处" in maybe.locator(".cards h3").inner_text()
    none = _ask(page, "Python 的列表推导式怎么写?")
    assert none.get_attribute("data-outcome") == "not-covered"
    assert none.locator(".notfound").is_visible() and none.locator(".answer").count() == 0
    assert "不在客户服务管理师学习资料的范围内" in none.locator(".notfound").inner_text()
    assert "可能与问题无关" in none.locator(".cards h3").inner_text()  # off topic: said so
    page.screenshot(path=str(SHOTS / "outcomes.png"), full_page=True)
    page.close()


def test_sources_view_and_feedback(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server)
    reply = _ask(page, "什么是客我关系?")
    reply.locator(".feedback button", has_text="有帮助").click()
    reply.locator(".feedback .thanks").wait_for(timeout=10_000)
    assert reply.locator(".feedback .thanks").inner_text() == "谢谢反馈！"

    page.fill("#question", "职业锚")
    page.click("#sources-btn")
    result = page.locator("li.msg.bot").last
    result.locator(".cards h3").first.wait_for(timeout=30_000)
    assert "客服管理基础知识" in result.locator(".cards h3").first.inner_text()
    page.screenshot(path=str(SHOTS / "sources.png"), full_page=True)


def test_phone_width_sheet_and_keyboard(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(server)
    page.keyboard.type("什么是客我关系?")  # the input has focus on load
    page.keyboard.press("Shift+Enter")
    assert page.input_value("#question").endswith("\n")  # Shift+Enter is a newline
    page.keyboard.press("Enter")
    reply = page.locator("li.msg.bot").nth(1)
    reply.locator(".answer").wait_for(timeout=30_000)
    reply.locator(".card").first.focus()
    page.keyboard.press("Enter")
    sheet = page.locator("#source")
    sheet.wait_for(state="visible")
    box = sheet.bounding_box()
    assert box is not None and box["width"] == 390 and box["y"] > 200  # a bottom sheet
    page.screenshot(path=str(SHOTS / "phone.png"))
    page.keyboard.press("Escape")
    assert sheet.is_hidden()


def test_markup_from_corpus_or_user_is_shown_as_text(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    crafted = {
        "question": XSS,
        "answer": f"答案 {XSS}",
        "confident": True,
        "answer_citation": 1,
        "answer_lines": [1, 1],
        "citations": [
            {
                "rank": 1,
                "doc_id": "basics-notes",
                "title": f"标题{XSS}",
                "section": f"节 › {XSS}",
                "text": f"段落 {XSS} 结束",
                "line_start": 1,
                "line_end": 1,
                "score": 1.0,
            }
        ],
        "highlights": [[[3, 8]]],
        "message": None,
        "choice": {
            "options": {"A": XSS, "B": "普通"},
            "suggested": ["A"],
            "evidence_rank": 1,
            "source": "evidence",
        },
    }
    page.route(
        "**/api/chat",
        lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(crafted)),
    )
    page.goto(server)
    reply = _ask(page, XSS)
    page.wait_for_timeout(500)
    assert page.locator("li.msg.user").last.inner_text() == XSS
    assert XSS in reply.locator(".answer").inner_text()
    assert XSS in reply.locator(".card .excerpt").inner_text()
    assert page.locator(".messages img").count() == 0
    assert not dialogs


def test_coverage_report_is_there_in_chinese_and_the_trainer_page(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    """A fresh server shows the report at /coverage with no other step (issue 15)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server)
    with page.expect_popup() as opened:
        page.click("nav a:has-text('大纲覆盖')")
    report = opened.value
    report.wait_for_load_state()
    assert report.locator("h1").inner_text() == "大纲覆盖报告"
    assert (
        report.locator("tr.chapter").count() >= 5
        and report.locator("tfoot th").inner_text() == "覆盖的知识点数"
    )
    gap = report.locator("td.gap").first
    assert gap.inner_text() == "缺口"
    assert (
        gap.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(253, 226, 225)"
    )  # its stylesheet loaded
    report.screenshot(path=str(SHOTS / "coverage.png"))

    httpx.post(f"{server}/api/ask", json={"question": "考试报名费多少钱?"}, timeout=30)
    httpx.post(f"{server}/api/ask", json={"question": "Python 的列表推导式怎么写?"}, timeout=30)
    trainer = browser.new_page(viewport={"width": 1280, "height": 800})
    trainer.goto(f"{server}/trainer")
    assert not trainer.locator("#result").is_visible()
    trainer.fill("#token", "not-the-token-at-all")
    trainer.click("#login button")
    trainer.locator("#status", has_text="口令不对").wait_for(timeout=10_000)
    trainer.fill("#token", TRAINER_TOKEN)
    trainer.click("#login button")
    trainer.locator("#result").wait_for(state="visible", timeout=10_000)
    assert "考试报名费多少钱" in trainer.locator("#unanswered").inner_text()
    assert "Python" not in trainer.locator("#unanswered").inner_text()  # off topic: counted, not a gap
    # the tests before asked it too (one server for the module): counted, however many times
    trainer.locator("#summary", has_text=re.compile(r"其中 \d+ 个看起来与课程无关")).wait_for(timeout=10_000)
    trainer.screenshot(path=str(SHOTS / "trainer.png"), full_page=True)
