"""Building, loading and guarding the index (fake embedder, real corpus, all in tmp_path)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from csbot.embed.fake import HashEmbedder
from csbot.errors import IndexCorruptError, IndexMissingError, IndexStaleError, QuestionError
from csbot.index.build import build_index, unit_text
from csbot.index.store import load_index
from csbot.search.retriever import Retriever
from csbot.serve.assistant import Assistant
from csbot.settings import Settings, load_settings


def test_build_writes_a_manifest_and_all_files(fake_index: Settings) -> None:
    d = fake_index.index_dir
    assert {p.name for p in d.iterdir()} == {
        "manifest.json",
        "passages.jsonl",
        "bm25",
        "faiss.index",
        "units.npy",
        "hubness.npy",
        "glossary.json",
        "bm25_pairs",
    }
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["model"] == "fake" and manifest["dimension"] == 256
    assert manifest["passage_count"] == len((d / "passages.jsonl").read_text().splitlines())
    assert manifest["vector_count"] > 2 * manifest["passage_count"]  # passages and their sentences
    assert len(manifest["corpus_hash"]) == 64 and manifest["versions"]["bm25s"]
    glossary = json.loads((d / "glossary.json").read_text())
    english, chinese = glossary["english"], glossary["chinese"]
    assert manifest["glossary_entries"] == len(english) > 1000
    assert "客服" in english["customer service"] and "特点" in english["characteristic"]
    assert manifest["synonym_entries"] == len(chinese) > 1000
    assert manifest["common_entries"] == len(glossary["common"])
    assert not [p for p in d.parent.iterdir() if p.name.startswith(".index")]  # no temp dirs left


def test_missing_index(env: Settings) -> None:
    with pytest.raises(IndexMissingError, match="run `csbot build`"):
        load_index(env)


def test_changed_corpus_makes_the_index_stale(fake_index: Settings) -> None:
    raw = fake_index.corpus_dir / "cs-management-basics-notes.txt"
    raw.write_text(raw.read_text(encoding="utf-8") + "\n新增的一行。\n", encoding="utf-8")
    with pytest.raises(IndexStaleError, match="different corpus"):
        load_index(fake_index)


def test_other_model_makes_the_index_stale(fake_index: Settings) -> None:
    other = load_settings(model="multilingual-e5-small")
    with pytest.raises(IndexStaleError, match="built with model 'fake'"):
        load_index(other)


def test_damaged_files_are_reported(fake_index: Settings) -> None:
    (fake_index.index_dir / "faiss.index").write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match="run `csbot build`"):
        load_index(fake_index)


def test_flipped_bytes_that_still_load_are_caught_by_the_checksums(fake_index: Settings) -> None:
    path = fake_index.index_dir / "faiss.index"
    data = bytearray(path.read_bytes())
    middle = len(data) // 2  # inside the vectors: the file still reads, the answers change
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="checksums"):
        load_index(fake_index)


def test_a_missing_or_foreign_glossary_is_reported(fake_index: Settings) -> None:
    path = fake_index.index_dir / "glossary.json"
    path.write_text('{"customer": ["客户"]}', encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="glossary"):
        load_index(fake_index)
    path.unlink()
    with pytest.raises(IndexCorruptError, match="damaged"):
        load_index(fake_index)


def test_units_that_do_not_match_the_vectors_are_reported(fake_index: Settings) -> None:
    path = fake_index.index_dir / "units.npy"
    np.save(path, np.load(path)[:-5])
    with pytest.raises(IndexCorruptError, match="incomplete"):
        load_index(fake_index)
    path.write_bytes(b"not numpy")
    with pytest.raises(IndexCorruptError, match="damaged"):
        load_index(fake_index)


def test_every_unit_is_a_passage_or_a_sentence_window_of_it(fake_index: Settings) -> None:
    index = load_index(fake_index)
    n = len(index.passages)
    for row, (pid, start, end) in enumerate(index.units.tolist()):
        text = index.passages[pid].text
        if row < n:
            assert (pid, start, end) == (row, 0, len(text))
        else:
            assert 0 <= start < end < len(text) + 1 and (end - start) < len(text)
            assert len(text[start:end].strip()) >= 4


def test_dense_scores_a_passage_by_its_closest_sentence(fake_index: Settings) -> None:
    index = load_index(fake_index)
    retriever = Retriever(index, HashEmbedder())
    p = max(index.passages, key=lambda p: len(p.text))
    sentence = max(p.text.split("\n"), key=len)  # one line of a long passage, asked verbatim
    hit = retriever.search(retriever.analyse(sentence), k=1, mode="dense")[0]
    assert hit.passage.passage_id == p.passage_id
    start, end = hit.dense_span or (0, 0)
    assert sentence.strip() in p.text[start:end] or p.text[start:end] in sentence
    # the sentence's own vector (under its heading), not the diluted whole passage's
    whole = HashEmbedder().embed_batch([unit_text(p, 0, len(p.text))], kind="passage")[0]
    question = retriever.query_vector(retriever.analyse(sentence).retrieval)[0]
    assert hit.dense_score > float(whole @ question) + 0.05


def test_truncated_passages_are_reported(fake_index: Settings) -> None:
    path = fake_index.index_dir / "passages.jsonl"
    path.write_text("\n".join(path.read_text().splitlines()[:10]) + "\n")
    with pytest.raises(IndexCorruptError, match="incomplete"):
        load_index(fake_index)


def test_failed_build_leaves_the_old_index_usable(
    fake_index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faiss

    before = (fake_index.index_dir / "manifest.json").read_text()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", boom)
    with pytest.raises(OSError):
        build_index(fake_index, HashEmbedder())
    assert (fake_index.index_dir / "manifest.json").read_text() == before
    assert load_index(fake_index).passages
    assert not [p for p in fake_index.index_dir.parent.iterdir() if p.name.startswith(".index")]


def test_ask_returns_the_json_shape(fake_index: Settings) -> None:
    answer = Assistant(fake_index).ask("客户服务16大管理原则有哪些?", top_k=3, mode="bm25").to_dict()
    assert set(answer) == {
        "question",
        "answer",
        "confident",
        "citations",
        "answer_citation",
        "answer_lines",
        "highlights",
        "message",
        "off_topic",
        "confidence",
        "outcome",
    }
    assert len(answer["citations"]) == 3
    c = answer["citations"][0]
    assert set(c) == {"rank", "doc_id", "title", "section", "text", "line_start", "line_end", "score"}
    assert c["rank"] == 1 and c["doc_id"] == "basics-notes" and "内部客户至上原则" in c["text"]


def test_same_question_same_json(fake_index: Settings) -> None:
    a = Assistant(fake_index)
    q = "客戶服務的特性有哪些"
    assert json.dumps(a.ask(q).to_dict(), ensure_ascii=False) == json.dumps(
        Assistant(fake_index).ask(q).to_dict(), ensure_ascii=False
    )


def test_bad_questions_are_refused(fake_index: Settings) -> None:
    a = Assistant(fake_index)
    with pytest.raises(QuestionError, match="empty"):
        a.ask("   ")
    with pytest.raises(QuestionError, match="limit is 1000"):
        a.ask("客" * 1001)


def test_modes_rank_differently_but_all_answer(fake_index: Settings) -> None:
    a = Assistant(fake_index)
    for mode in ("bm25", "dense", "hybrid"):
        hits = a.ask("职业锚", top_k=5, mode=mode).citations  # type: ignore[arg-type]
        assert hits and "职业锚" in hits[0].text


def test_bm25_counts_as_much_as_its_best_passage_covers_the_question(fake_index: Settings) -> None:
    from csbot.search.fusion import TRUSTED_OVERLAP, lexical_trust

    retriever = Retriever(load_index(fake_index), HashEmbedder())

    def top_overlap(question: str) -> float:
        query = retriever.analyse(question)
        return retriever.overlap(query, retriever.index.passages[retriever.bm25(query).ids[0]].text)

    assert lexical_trust(top_overlap("客户服务16大管理原则有哪些?")) == 1.0
    in_own_words = top_overlap("考试多少分算及格?")  # 及格: the material says 合格
    assert lexical_trust(in_own_words) == min(1.0, in_own_words / TRUSTED_OVERLAP) < 1.0
    assert lexical_trust(top_overlap("What is a career anchor?")) < 1.0


def test_overlap_credits_a_word_jieba_split_differently_by_its_bigrams(fake_index: Settings) -> None:
    retriever = Assistant(fake_index).retriever
    text = "服务的不可分性:无形的服务其生产与销售却是同时发生的。"
    partly = retriever.overlap(
        retriever.analyse("服务不可分离性是什么意思?"), text
    )  # 可分离性 shares 可分 with 不可分性
    assert 0.2 < partly < retriever.overlap(retriever.analyse("服务的不可分性是什么意思?"), text) == 1.0
    assert (
        retriever.overlap(retriever.analyse("服务的可靠性是什么意思?"), text) < partly
    )  # 可靠性 shares no bigram


def test_a_phrase_outranks_the_same_words_scattered(fake_index: Settings) -> None:
    retriever = Assistant(fake_index).retriever
    q = "客户服务管理师需要什么文化程度?"
    top = retriever.index.passages[retriever.bm25(retriever.analyse(q)).ids[0]].text
    assert "文化程度" in top  # not the passage that says 文化 six times and 程度 once
