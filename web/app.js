// csbot page: every text from the corpus or the user goes in through textContent, never HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const history = [];  // {role, content}, kept while the page is open

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Text with [start, end) ranges wrapped in <mark>, built from text nodes only.
function highlighted(text, spans) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const [start, end] of spans || []) {
    if (start < at || end <= start) continue;
    frag.append(document.createTextNode(text.slice(at, start)), el("mark", "", text.slice(start, end)));
    at = end;
  }
  frag.append(document.createTextNode(text.slice(at)));
  return frag;
}

function scrollDown() { const m = $("messages"); m.scrollTop = m.scrollHeight; }

function addMessage(role, text) {
  const li = el("li", `msg ${role}`, text);
  $("messages").append(li);
  scrollDown();
  return li;
}

function citeButton(c, label) {
  const b = el("button", "cite-link", label);
  b.type = "button";
  b.addEventListener("click", () => openSource(c.doc_id, c.title, c.line_start, c.line_end));
  return b;
}

function renderAnswer(li, data) {
  li.textContent = "";
  li.classList.remove("loading");
  if (data.resolved_question) li.append(el("p", "resolved", `（按上下文理解为：${data.resolved_question}）`));
  if (data.choice) {
    const ul = el("ul", "options");
    ul.setAttribute("aria-label", "选项");
    for (const [letter, text] of Object.entries(data.choice.options)) {
      const item = el("li", data.choice.suggested.includes(letter) ? "suggested" : "", `${letter}. ${text}`);
      ul.append(item);
    }
    li.append(ul);
  }
  const outcome = data.outcome || (data.confident ? "confident" : data.answer ? "likely" : "not-covered");
  li.dataset.outcome = outcome;
  if (data.answer !== null && data.answer !== undefined) {
    if (outcome === "likely") {
      // shown, but marked: the student's words are not the material's, so it may be off
      li.append(el("p", "likely-note", data.message || "这可能是答案，但不确定，请核对出处。"));
    }
    li.append(el("div", outcome === "likely" ? "answer likely" : "answer", data.answer));
    const c = data.citations[(data.answer_citation || 1) - 1];
    const lines = data.answer_lines || [c.line_start, c.line_end];
    const p = el("p", "source-ref", "—— ");
    p.append(citeButton({ ...c, line_start: lines[0], line_end: lines[1] },
      `${c.title} › ${c.section.split(" › ").slice(1).join(" › ") || c.section}（第 ${lines[0]}–${lines[1]} 行）`));
    li.append(p);
  } else {
    li.append(el("div", "notfound", data.message || "没有找到有把握的答案。"));
  }
  if (data.citations.length) {
    const cards = el("div", "cards");
    // an off-topic question's nearest passages are said to be what they are: likely unrelated
    const heading = data.off_topic ? "资料中最接近的段落（可能与问题无关）" : data.answer === null ? "相关段落" : "出处";
    cards.append(el("h3", "", heading));
    data.citations.forEach((c, i) => {
      const card = el("button", "card");
      card.type = "button";
      card.append(el("span", "meta", `[${c.rank}] ${c.title} · ${c.section.split(" › ").slice(1).join(" › ") || "正文"} · 第 ${c.line_start}–${c.line_end} 行`));
      const excerpt = el("span", "excerpt");
      excerpt.append(highlighted(c.text, (data.highlights || [])[i]));
      card.append(excerpt);
      card.addEventListener("click", () => openSource(c.doc_id, c.title, c.line_start, c.line_end));
      cards.append(card);
    });
    li.append(cards);
  }
  if (data.question_id) li.append(feedbackRow(data.question_id));
  scrollDown();
}

function feedbackRow(questionId) {
  const row = el("div", "feedback");
  const send = async (helpful, comment) => {
    row.textContent = "";
    try {
      const res = await fetch("/api/feedback", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question_id: questionId, helpful, comment: comment || "" }),
      });
      row.append(el("span", "thanks", res.ok ? "谢谢反馈！" : "反馈未能保存"));
    } catch { row.append(el("span", "thanks", "反馈未能保存")); }
  };
  const yes = el("button", "fb", "有帮助");
  const no = el("button", "fb", "没帮助");
  yes.type = no.type = "button";
  yes.addEventListener("click", () => send(true));
  no.addEventListener("click", () => {
    row.textContent = "";
    const input = el("input", "fb-comment");
    input.maxLength = 500;
    input.placeholder = "可选：哪里不对？（回车提交）";
    input.setAttribute("aria-label", "反馈说明");
    const ok = el("button", "fb", "提交");
    ok.type = "button";
    ok.addEventListener("click", () => send(false, input.value));
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); send(false, input.value); } });
    row.append(input, ok);
    input.focus();
  });
  row.append(yes, no);
  return row;
}

async function showSources(point) {
  addMessage("user", `查出处：${point}`);
  const li = addMessage("bot loading", "正在查找讲到这一点的资料…");
  try {
    const res = await fetch(`/api/sources?q=${encodeURIComponent(point)}`);
    const data = await res.json();
    if (!res.ok) throw new Error(typeof data.detail === "string" ? data.detail : `HTTP ${res.status}`);
    li.textContent = "";
    li.classList.remove("loading");
    if (!data.documents.length) li.append(el("div", "notfound", `没有资料讲到“${point}”。`));
    for (const doc of data.documents) {
      const group = el("div", "cards");
      const named = doc.teaches ? "" : "，提及：要求文件只列出、不讲解";
      group.append(el("h3", "", `${doc.title}（强度 ${doc.strength.toFixed(2)}，${doc.sections.length} 处${named}）`));
      for (const s of doc.sections) {
        const card = el("button", "card");
        card.type = "button";
        card.append(el("span", "meta", `${s.section.split(" › ").slice(1).join(" › ") || "正文"} · 第 ${s.line_start}–${s.line_end} 行`),
          el("span", "excerpt", s.text));
        card.addEventListener("click", () => openSource(doc.doc_id, doc.title, s.line_start, s.line_end));
        group.append(card);
      }
      li.append(group);
    }
  } catch (err) {
    li.classList.remove("loading");
    li.textContent = `出错了：${err.message}`;
  }
  scrollDown();
}

async function ask(question) {
  addMessage("user", question);
  const pending = addMessage("bot loading", "正在资料中查找…");
  $("send").disabled = true;
  history.push({ role: "user", content: question });
  try {
    const res = await fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ messages: history, top_k: 3 }),
    });
    const data = await res.json();
    if (!res.ok) {
      const detail = typeof data.detail === "string" ? data.detail
        : (data.detail || []).map((d) => d.msg).join("; ");
      throw new Error(detail || `HTTP ${res.status}`);
    }
    renderAnswer(pending, data);
    history.push({ role: "assistant", content: data.answer || data.message || "" });
  } catch (err) {
    history.pop();
    pending.classList.remove("loading");
    pending.textContent = `出错了：${err.message}`;
  } finally {
    $("send").disabled = false;
    $("question").focus();
  }
}

async function openSource(docId, title, start, end) {
  const panel = $("source");
  panel.hidden = false;
  $("source-title").textContent = title;
  $("source-meta").textContent = `第 ${start}–${end} 行（原始文件）`;
  const list = $("source-lines");
  list.textContent = "加载中…";
  const from = Math.max(1, start - 5), to = end + 5;
  try {
    const res = await fetch(`/api/documents/${encodeURIComponent(docId)}?start=${from}&end=${to}`);
    const data = await res.json();
    if (!res.ok) throw new Error(data.detail || `HTTP ${res.status}`);
    list.textContent = "";
    for (const line of data.lines) {
      const li = el("li", line.number >= start && line.number <= end ? "cited" : "");
      li.append(el("span", "n", String(line.number)), el("span", "t", line.text));
      list.append(li);
    }
    const first = list.querySelector(".cited");
    if (first) first.scrollIntoView({ block: "center" });
  } catch (err) {
    list.textContent = `无法打开原文：${err.message}`;
  }
  panel.focus();
}

$("ask").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = $("question").value.trim();
  if (!q || $("send").disabled) return;
  $("question").value = "";
  ask(q);
});
$("question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $("ask").requestSubmit();
  }
});
$("sources-btn").addEventListener("click", () => {
  const q = $("question").value.trim();
  if (!q) { $("question").focus(); return; }
  $("question").value = "";
  showSources(q);
});
$("close-source").addEventListener("click", () => { $("source").hidden = true; $("question").focus(); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape") $("source").hidden = true; });
for (const b of document.querySelectorAll(".example")) {
  b.addEventListener("click", () => { $("question").value = b.textContent; $("ask").requestSubmit(); });
}
$("question").focus();
