"""python3 prep.py WRITER_FOLDER NAME FIRST_ID: shuffle a writer's batch, give it ids
vFIRST_ID… (NAME/map.jsonl), and write the questions alone, as q001…, for its two readers
(reader_NAME1/, reader_NAME2/)."""

import random
import sys
from pathlib import Path

from common import WORK, load_jsonl, write_jsonl


def main() -> None:
    writer, name, first = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    rows = load_jsonl(writer / "questions.jsonl")
    random.Random(first).shuffle(rows)
    (WORK / name).mkdir(exist_ok=True)
    write_jsonl(WORK / name / "map.jsonl", [dict(r, qid=f"q{i + 1:03d}", id=f"v{first + i}") for i, r in enumerate(rows)])
    for reader in ("1", "2"):
        folder = WORK / f"reader_{name}{reader}"
        folder.mkdir(exist_ok=True)
        write_jsonl(folder / "questions.jsonl", [{"qid": f"q{i + 1:03d}", "question": r["question"]} for i, r in enumerate(rows)])
    print(len(rows), "questions ->", WORK / name)


if __name__ == "__main__":
    main()
