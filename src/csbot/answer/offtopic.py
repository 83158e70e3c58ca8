"""Off-topic questions: a detector of its own, so that no span is shown for them.

The answer's confidence model (:mod:`csbot.answer.confidence`) sets its ``likely`` cut-off
just above the most confident off-topic question it has seen — an extreme value, which a new
off-topic question can exceed (2 of 15 unseen ones did). This detector reads the question
alone: a logistic regression over the model's vector of the question (as the dense search
embeds it, before the query adapter), fitted by ``csbot calibrate`` on the ``dev`` questions
(on topic: answerable or not; off topic: the off-topic ones) and on general chatbot questions
that have nothing to do with customer service (``data/offtopic_general.txt``: weather,
cooking, code, tax, other exams…; :mod:`csbot.reports.calibrate`), and on the unlabelled
students' questions of ``eval/unlabelled.jsonl`` as on topic (learnt from, not judged). Its cut-off flags at most
1 % of the on-topic ``dev`` questions, cross-validated. A question above
it gets no span, whatever the answer's confidence (``data/offtopic.json``); a model without a
fitted detector (the tests' hashing embedder) has none.
"""

from __future__ import annotations

from collections.abc import Sequence

from csbot.answer.confidence import FittedLogistic, shipped_models
from csbot.lazy import load_once

OFFTOPIC_FILE = "offtopic.json"
FEATURES = ("query_vector",)  # the coefficients are one per dimension of the model's vector


class OffTopicModel(FittedLogistic):
    """The detector: a logistic regression over a question's standardised vector (one
    coefficient per dimension), and its cut-off."""

    def off_topic(self, vector: Sequence[float]) -> bool:
        return len(vector) == len(self.coef) and self.probability(vector) >= self.threshold


@load_once
def _detectors() -> dict[str, OffTopicModel]:
    return {row["model"]: OffTopicModel(**row) for row in shipped_models(OFFTOPIC_FILE, FEATURES)}


def detector_for(model: str) -> OffTopicModel | None:
    """The shipped off-topic detector of the embedding ``model``, or None."""
    return _detectors().get(model)
