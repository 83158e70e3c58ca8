// The trainer page: asks for the token, fetches /api/trainer/gaps with it, and shows the
// tables. Everything from the server is set as text, never as markup.
"use strict";

const $ = (id) => document.getElementById(id);

function row(cells) {
  const tr = document.createElement("tr");
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
  }
  return tr;
}

async function load(token) {
  $("status").textContent = "读取中…";
  const res = await fetch("/api/trainer/gaps", { headers: { Authorization: "Bearer " + token } });
  if (res.status === 401) {
    $("status").textContent = "口令不对。";
    sessionStorage.removeItem("csbot-trainer");
    return;
  }
  if (!res.ok) {
    $("status").textContent = "读取失败（" + res.status + "）。";
    return;
  }
  const data = await res.json();
  sessionStorage.setItem("csbot-trainer", token);
  $("status").textContent = "";
  $("summary").textContent =
    "问答记录里共有 " + data.logged + " 个问题。" +
    (data.off_topic ? "其中 " + data.off_topic + " 个看起来与课程无关（如天气、编程），不算资料的缺口，没有列在下面。" : "");
  $("unanswered").replaceChildren(
    ...data.unanswered.map((g) => row([String(g.count), g.question, g.variants.filter((v) => v !== g.question).join(" / ")]))
  );
  $("unhelpful").replaceChildren(
    ...data.not_helpful.map((m) => row([m.marked_at, m.question, m.top_doc || "", m.comment]))
  );
  if (!data.unanswered.length) $("unanswered").replaceChildren(row(["", "（暂无）", ""]));
  if (!data.not_helpful.length) $("unhelpful").replaceChildren(row(["", "（暂无）", "", ""]));
  $("result").hidden = false;
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  load($("token").value.trim());
});

const saved = sessionStorage.getItem("csbot-trainer");
if (saved) load(saved);
