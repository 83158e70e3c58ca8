"""What the kit's tools share: the work folder, the passages dump, JSONL files."""

import json
import re
from pathlib import Path

WORK = Path(__file__).resolve().parent.parent  # the copy of the kit the materials are in


def load_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def squash(text: str) -> str:
    """Spaces and line breaks dropped: how evidence is looked for in a passage."""
    return re.sub(r"\s+", "", text)


def passages() -> dict[int, str]:
    """Passage id -> its text, squashed, from passages_dump.txt."""
    texts: dict[int, list[str]] = {}
    current = None
    with (WORK / "passages_dump.txt").open(encoding="utf-8") as f:
        for line in f:
            head = re.match(r"=== passage (\d+) \|", line)
            if head:
                current = int(head.group(1))
                texts[current] = []
            elif current is not None:
                texts[current].append(line)
    return {pid: squash("".join(lines)) for pid, lines in texts.items()}
