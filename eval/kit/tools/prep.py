"""python3 prep.py WRITER_FOLDER NAME FIRST_ID [LETTER]: shuffle a writer's batch, give it ids
vFIRST_ID… (NAME/map.jsonl), and write the questions alone, as q001…, for its two readers
(reader_NAME1/, reader_NAME2/). With LETTER other than v (a batch for dev alone: the split
rule sends every id not starting with v to dev) the ids are LETTER and four digits, w0001…"""

import random
import sys
from pathlib import Path

from common import WORK, load_jsonl, write_jsonl


def main() -> None:
    writer, name, first = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    letter = sys.argv[4] if len(sys.argv) > 4 else "v"
    width = 0 if letter == "v" else 4
    rows = load_jsonl(writer / "questions.jsonl")
    random.Random(first).shuffle(rows)
    (WORK / name).mkdir(exist_ok=True)
    write_jsonl(WORK / name / "map.jsonl", [dict(r, qid=f"q{i + 1:03d}", id=f"{letter}{first + i:0{width}d}") for i, r in enumerate(rows)])
    for reader in ("1", "2"):
        folder = WORK / f"reader_{name}{reader}"
        folder.mkdir(exist_ok=True)
        write_jsonl(folder / "questions.jsonl", [{"qid": f"q{i + 1:03d}", "question": r["question"]} for i, r in enumerate(rows)])
    print(len(rows), "questions ->", WORK / name)


if __name__ == "__main__":
    main()
