"""python3 merge.py NAME OUT.jsonl: the eval rows of the questions NAME's two readers agree on
(kit README, step 5); prints the disagreements, which are left out."""

import collections
import sys
from pathlib import Path

from common import WORK, load_jsonl, passages, squash, write_jsonl

KINDS = {"simplified": "student", "traditional": "student-traditional", "english": "student-english"}
ORDER = ("id", "kind", "question", "evidence", "topic", "group")


def agreed(row: dict, a: dict, b: dict, texts: dict[int, str]) -> tuple[dict | None, str]:
    """The eval row both readers' labels give, or None and why not."""
    answered = {a["label"] == "answered", b["label"] == "answered"}
    rec = {"id": row["id"], "question": row["question"], "topic": row["topic"]}
    if answered == {True}:
        common = set(a["passages"]) & set(b["passages"])
        evidence = list(dict.fromkeys(
            e for e in [*a["evidence"], *b["evidence"]] if any(squash(e) in texts[p] for p in common)
        ))
        if row["intent"] == "off-topic":
            return None, "writer off-topic, readers answered"
        if not common or not evidence:
            return None, "no common passage" if not common else "no evidence in the common passages"
        rec.update(kind=KINDS[row["lang"]], evidence=evidence)
    elif answered == {False}:
        if row["intent"] == "off-topic" and not a["label"] == b["label"] == "off-topic":
            return None, "writer off-topic, a reader on-topic"
        rec.update(kind="off-topic" if row["intent"] == "off-topic" else "not-covered", evidence=None)
    else:
        return None, "answered vs not"
    if row.get("group"):
        rec["group"] = row["group"]
    return {k: rec[k] for k in ORDER if k in rec}, ""


def main() -> None:
    name, out = sys.argv[1], Path(sys.argv[2])
    texts = passages()
    first = {r["qid"]: r for r in load_jsonl(WORK / f"reader_{name}1" / "labels.jsonl")}
    second = {r["qid"]: r for r in load_jsonl(WORK / f"reader_{name}2" / "labels.jsonl")}
    kept, left_out = [], []
    for row in load_jsonl(WORK / name / "map.jsonl"):
        a, b = first[row["qid"]], second[row["qid"]]
        rec, why = agreed(row, a, b, texts)
        if rec is None:
            left_out.append(f"  {row['id']} {why}: {row['question']} | A {a['label']} {a.get('passages')} | B {b['label']} {b.get('passages')}")
        else:
            kept.append(rec)
    write_jsonl(out, kept)
    print(dict(collections.Counter(r["kind"] for r in kept)), "kept", len(kept), "disagreements", len(left_out))
    print("\n".join(left_out))


if __name__ == "__main__":
    main()
