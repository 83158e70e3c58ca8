"""python3 dupcheck.py drafts.jsonl [threshold]: every draft whose character-bigram Jaccard
with an existing question (existing_questions.txt) or an earlier draft is >= threshold (0.6)."""

import re
import sys
from pathlib import Path

from common import WORK, load_jsonl


def bigrams(text: str) -> set[str]:
    text = re.sub(r"[\s\W_]+", "", text.lower())
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def main() -> None:
    threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 0.6
    with (WORK / "existing_questions.txt").open(encoding="utf-8") as f:
        existing = [(q, bigrams(q)) for q in (line.strip() for line in f) if q]
    index: dict[str, list[int]] = {}
    for i, (_, grams) in enumerate(existing):
        for g in grams:
            index.setdefault(g, []).append(i)
    drafts = load_jsonl(Path(sys.argv[1]))
    seen: list[tuple[str, set[str]]] = []
    close = 0
    for draft in drafts:
        grams = bigrams(draft["question"])
        shared: dict[int, int] = {}
        for g in grams:
            for i in index.get(g, ()):
                shared[i] = shared.get(i, 0) + 1
        hits = [(n / len(grams | existing[i][1]), existing[i][0]) for i, n in shared.items()]
        hits += [(len(grams & other) / len(grams | other), "[draft] " + q) for q, other in seen]
        hits = sorted((h for h in hits if h[0] >= threshold), reverse=True)
        if hits:
            close += 1
            print(f"TOO CLOSE {hits[0][0]:.2f}: {draft['question']}\n    existing: {hits[0][1]}")
        seen.append((draft["question"], grams))
    print(f"{close} of {len(drafts)} drafts too close (threshold {threshold})")


if __name__ == "__main__":
    main()
