"""python3 check_labels.py questions.jsonl labels.jsonl: every question labelled once, with
answered / not-covered / off-topic; an answered one names passages that exist and evidence
strings each found (spaces and line breaks aside) in one of them."""

import sys
from pathlib import Path

from common import load_jsonl, passages, squash

LABELS = ("answered", "not-covered", "off-topic")


def problems_of(row: dict, texts: dict[int, str]) -> list[str]:
    qid = row.get("qid")
    if row.get("label") not in LABELS:
        return [f"{qid}: bad label {row.get('label')!r}"]
    if row["label"] != "answered":
        return []
    pids, evidence = row.get("passages") or [], row.get("evidence") or []
    if not pids or not evidence:
        return [f"{qid}: answered needs passages and evidence"]
    out = [f"{qid}: no passage {p}" for p in pids if p not in texts]
    for e in evidence:
        if len(squash(e)) < 6:
            out.append(f"{qid}: evidence too short: {e!r}")
        if not any(squash(e) in texts.get(p, "") for p in pids):
            out.append(f"{qid}: evidence not found in its passages: {e!r}")
    return out


def main() -> None:
    texts = passages()
    questions = load_jsonl(Path(sys.argv[1]))
    labels: dict[str, dict] = {}
    problems: list[str] = []
    for row in load_jsonl(Path(sys.argv[2])):
        if row.get("qid") in labels:
            problems.append(f"{row.get('qid')}: labelled twice")
        labels[row.get("qid")] = row
        problems += problems_of(row, texts)
    missing = [q["qid"] for q in questions if q["qid"] not in labels]
    if missing:
        print(f"missing labels: {missing}")
    for problem in problems:
        print(problem)
    print(f"{len(labels)} labels, {len(problems) + len(missing)} problems")


if __name__ == "__main__":
    main()
