"""Write the writers' and readers' materials beside this script (in a copy of the kit):
syllabus.txt, headings.txt (each level cut to 11 characters, so no answer text leaks),
passages_dump.txt (the passages csbot cites, with their ids) and existing_questions.txt
(every question of eval/questions.jsonl, eval/unlabelled.jsonl and eval/unseen/).

    python3 materials.py /path/to/csbot   # after `make index` there
"""
import json
import sys
import tomllib
from pathlib import Path

repo = Path(sys.argv[1])
out = Path(__file__).resolve().parent
points = tomllib.loads((repo / "corpus/syllabus.toml").read_text(encoding="utf-8"))["points"]
(out / "syllabus.txt").write_text(
    "".join(f"{p['group']} | {p.get('level', '')} | {p['point']}\n" for p in points), encoding="utf-8"
)
passages = [json.loads(line) for line in (repo / "index/passages.jsonl").open(encoding="utf-8")]
headings: list[str] = []
for p in passages:
    h = " › ".join(part.strip()[:11] for part in p["section"].split("›"))
    if h not in headings:
        headings.append(h)
(out / "headings.txt").write_text("\n".join(headings) + "\n", encoding="utf-8")
with (out / "passages_dump.txt").open("w", encoding="utf-8") as f:
    for p in passages:
        f.write(f"=== passage {p['passage_id']} | {p['doc_id']} | {p['section']}\n{p['text']}\n\n")
files = [repo / "eval/questions.jsonl", repo / "eval/unlabelled.jsonl", *sorted((repo / "eval/unseen").glob("*.jsonl"))]
questions = [json.loads(line)["question"].replace("\n", " ") for f in files for line in f.open(encoding="utf-8")]
(out / "existing_questions.txt").write_text("\n".join(questions) + "\n", encoding="utf-8")
print(f"{len(points)} points, {len(headings)} headings, {len(passages)} passages, {len(questions)} questions -> {out}")
