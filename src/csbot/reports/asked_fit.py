"""Keep the labelled development questions for :mod:`csbot.search.asked`.

Each non-exam development question gives the model's vector of it (exactly what the
dense search embeds, before any query adapter), whether the material answers it (it has
evidence), the passages of the index that answer it (those holding its evidence) and its
cross-validation fold (:func:`csbot.search.adapter.fold_of`).

The three signals were chosen on the development split (4877 questions, the confidence
model's 5-fold cross-validated probabilities, neighbours from the other wording-group folds
only): with the nine signals and the re-ranker's probability alone, 573 right spans rank
above the 300th most probable unanswered question; with the answered share of the 5, 10 or
20 nearest added, 831–841; with the nearest answered and unanswered cosines, 845; with the
share of the 10 nearest and both cosines, 870 (Brier 0.132 → 0.104). The cosines and the
share of the 10 nearest are read.

The passages' votes (:meth:`csbot.search.asked.AskedQuestions.votes`) were chosen on the
development split too (1669 answerable questions, the re-ranker's trees refitted with and
without them, right first passages out of fold): without them 1230, with them from the 5,
10 or 20 nearest 1372, 1369, 1362. The 10 nearest are read, as for the signals above.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from csbot.errors import CsbotError
from csbot.reports.evaluation import EvalQuestion
from csbot.search.adapter import fold_of
from csbot.search.asked import NEAREST, AskedQuestions, passage_key
from csbot.text.normalise import squash

if TYPE_CHECKING:
    from csbot.serve.assistant import Assistant


def fit_asked(assistant: Assistant, questions: Sequence[EvalQuestion], model: str) -> AskedQuestions:
    """The asked questions for ``model`` from the development ``questions``."""
    retriever = assistant.retriever
    passages = retriever.index.passages
    flat = [squash(p.text) for p in passages]
    keys: dict[str, int] = {}
    vectors: list[np.ndarray] = []
    answered: list[bool] = []
    folds: list[int] = []
    pairs: list[tuple[int, int]] = []
    for q in questions:
        if q.choice is not None:
            continue
        query = retriever.analyse(assistant.check_question(q.question))
        if not query.retrieval:
            continue
        if q.evidence is not None:
            evidence = [squash(e) for e in q.evidence]
            holding = {
                keys.setdefault(passage_key(passages[row]), len(keys))
                for row, text in enumerate(flat)
                if any(e in text for e in evidence)
            }
            pairs.extend((len(vectors), key) for key in sorted(holding))
        vectors.append(retriever.query_vector(query.retrieval)[0])
        answered.append(q.evidence is not None)
        folds.append(fold_of(q.qid, q.group))
    if not any(answered) or all(answered):
        raise CsbotError("the asked questions need both answered and unanswered labelled questions")
    report = {
        "questions": len(vectors),
        "answered": int(sum(answered)),
        "nearest": NEAREST,
        "passages": len(keys),
        "pairs": len(pairs),
    }
    pair = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return AskedQuestions(
        model,
        np.array(vectors, dtype=np.float32),
        np.array(answered),
        np.array(folds, dtype=np.int64),
        report,
        np.array(list(keys), dtype=str),
        pair[:, 0],
        pair[:, 1],
    )
