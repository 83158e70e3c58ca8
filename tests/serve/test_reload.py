"""The running service follows the index (issue 14, item 7): after a build, add or remove it
answers from the new index without a restart; a new index that fails its checks is not
switched in; a service started without an index starts answering once one is built."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from conftest import rebuild_and_hash
from csbot.embed.fake import HashEmbedder
from csbot.index.build import build_index
from csbot.index.manifest import MANIFEST
from csbot.ingest.documents import add_documents, remove_document
from csbot.serve.api.app import create_app
from csbot.settings import Settings

NOTES = "客户服务礼仪要点\n接听电话应在铃响三声之内，并主动问候客户，报出单位名称。\n"


def _doc_ids(client: TestClient) -> list[str]:
    return [d["doc_id"] for d in client.get("/api/documents").json()]


def test_add_and_remove_are_served_without_a_restart(fake_index: Settings, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text(NOTES, encoding="utf-8")
    with TestClient(create_app(fake_index)) as client:
        assert "notes" not in _doc_ids(client)
        add_documents(fake_index.corpus_dir, [notes], *rebuild_and_hash(fake_index))
        assert "notes" in _doc_ids(client)
        body = client.post("/api/ask", json={"question": "接听电话应在铃响几声之内?"}).json()
        assert "notes" in [c["doc_id"] for c in body["citations"]]
        assert client.get("/api/documents/notes", params={"start": 1, "end": 2}).status_code == 200

        remove_document(fake_index.corpus_dir, "notes", *rebuild_and_hash(fake_index))
        assert "notes" not in _doc_ids(client)
        assert client.get("/api/documents/notes").status_code == 404  # was a 503 from the old index
        body = client.post("/api/ask", json={"question": "接听电话应在铃响几声之内?"}).json()
        assert body["citations"] and all(c["doc_id"] != "notes" for c in body["citations"])
        assert client.get("/api/health").json()["reload"]["reloads"] == 2


def test_a_damaged_new_index_is_not_switched_in(fake_index: Settings) -> None:
    with TestClient(create_app(fake_index)) as client:
        before = client.get("/api/health").json()
        path = fake_index.index_dir / MANIFEST
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["checksums"]["faiss.index"] = "0" * 64  # as if faiss.index were damaged
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest), encoding="utf-8")
        tmp.replace(path)  # a new manifest: the service notices and tries the index
        health = client.get("/api/health").json()
        assert health["corpus_hash"] == before["corpus_hash"] and health["built_at"] == before["built_at"]
        assert "checksums" in health["reload"]["error"] and health["reload"]["reloads"] == 0
        assert client.post("/api/ask", json={"question": "什么是客我关系?"}).status_code == 200
        build_index(fake_index, HashEmbedder())  # fixed by a build: switched in, error cleared
        health = client.get("/api/health").json()
        assert health["reload"] == {
            "reloads": 1,
            "last_reload": health["reload"]["last_reload"],
            "error": None,
        }


def test_a_service_started_without_an_index_answers_once_it_is_built(env: Settings) -> None:
    with TestClient(create_app(env)) as client:
        refused = client.post("/api/ask", json={"question": "什么是客我关系?"})
        assert refused.status_code == 503 and "csbot build" in refused.json()["detail"]
        build_index(env, HashEmbedder())
        assert client.post("/api/ask", json={"question": "什么是客我关系?"}).status_code == 200
