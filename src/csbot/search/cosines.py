"""A question's cosines with the labelled questions: estimated in 8 bits, exact where read.

The bank of asked questions (:mod:`csbot.search.asked`) holds some 14,500 vectors of 384
floats, 22 MB. Reading all of it for every question cost about 1.5 ms of a warm ``ask`` —
the networks before it have pushed it out of the caches — and every figure read from it
needs only a few of its cosines: the nearest ten, the nearest answered and unanswered one,
the nearest question each candidate passage answers. So the bank is also kept in 8 bits
(4.5 MB), one product in ONNX Runtime's integer kernel estimates every cosine, and each
figure is then computed exactly from the few rows its estimate cannot rule out.

The estimate comes with a bound that always holds. With ``b`` a bank row, ``s_b · B`` its
8-bit code and ``q`` the question's vector coded as ``s_q · Q``::

    q·b − s_q s_b (Q·B) = (q − s_q Q)·b + s_q Q·(b − s_b B)
    |q·b − estimate| ≤ ‖q − s_q Q‖ + ‖s_q Q‖ · ‖b − s_b B‖      (‖b‖ = 1, Cauchy–Schwarz)

plus :data:`SLACK` for float rounding. The ``k`` highest cosines among some rows are then
among the rows whose upper bound reaches the ``k``-th highest lower bound: only those are
computed exactly, by the same product as the full one (the same bits), and every figure is
the one the full product gives, ties included (a test compares them on random banks).
Both codes are unsigned (zero point 128), the form ONNX Runtime multiplies without the
16-bit saturation some CPUs' signed-by-unsigned kernels have.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

LEVELS = 127  # codes −127 … 127, stored as 1 … 255
SLACK = 1e-4  # float rounding of the estimate and of the exact product, far above either
QUANTISE_FROM = 1024  # smaller banks are read whole: the estimate would save nothing
POOL = 30  # the rows computed exactly at once: the most any figure reads (asked.WIDE)


# The integer product as an ONNX model (``MatMulInteger`` of the question's 1 × d code and the
# bank's d × n codes, both with zero point 128), serialised by ``onnx.helper`` without its
# bank: importing ``onnx`` takes 0.6 s of a cold ``csbot ask``, so the bank is appended as
# the graph's initializer by :func:`model_bytes` (two serialised protobuf messages in a row
# are their merge). tests/search/test_cosines.py builds the whole model with ``onnx.helper``
# and checks both.
MODEL_WITHOUT_BANK = (
    b'\x08\x08:\x85\x01\n3\n\x08question\n\x04bank\n\x05point\n\x05point\x12\x04dots"\rMatMulInteger'
    b"\x12\nasked_bank*\x0c\x10\x02B\x05pointJ\x01\x80Z\x1b\n\x08question\x12\x0f\n\r\x08\x02\x12\t\n"
    b"\x02\x08\x01\n\x03\x12\x01db\x17\n\x04dots\x12\x0f\n\r\x08\x06\x12\t\n\x02\x08\x01\n\x03\x12\x01nB\x04\n\x00\x10\r"
)
UINT8 = 2  # onnx.TensorProto.UINT8


def model_bytes(codes: np.ndarray) -> bytes:
    """:data:`MODEL_WITHOUT_BANK` with ``codes`` (d × n, uint8) as its initializer ``bank``:
    ModelProto field 7 (graph) holding GraphProto field 5 (initializer), a TensorProto of
    dims (1), data type (2), name (8) and raw data (9)."""
    tensor = b"".join(_key(1, 0) + _varint(size) for size in codes.shape)
    tensor += (
        _key(2, 0) + _varint(UINT8) + _bytes(8, b"bank") + _bytes(9, np.ascontiguousarray(codes).tobytes())
    )
    return MODEL_WITHOUT_BANK + _bytes(7, _bytes(5, tensor))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _bytes(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def exact_product(vectors: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """The cosines of ``vector`` (d, unit length) with ``vectors`` (n × d, unit length), float32.

    einsum, not BLAS: a matrix–vector product on BLAS threads fights the model's threads
    (warm ask p50 +5 ms in make bench). It gives every row the same bits whichever rows are
    passed with it, so rows computed alone agree with the whole product."""
    return np.einsum("ij,j->i", vectors, vector)


class Quantised:
    """The bank in 8 bits: each row's code, scale and the length of what the code misses,
    with the ONNX Runtime session that multiplies a question's code by all of them."""

    def __init__(self, vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        peak = np.abs(vectors).max(axis=1)
        self.scale = np.where(peak > 0, peak / np.float32(LEVELS), np.float32(1))
        codes = np.rint(vectors / self.scale[:, None])  # (within ±LEVELS: the peak maps to it)
        missed = codes * self.scale[:, None]
        np.subtract(vectors, missed, out=missed)
        self.missed = np.linalg.norm(missed, axis=1)  # what each code misses (SLACK covers its rounding)
        self.rows, self.dim = vectors.shape
        codes += 128
        self._codes = np.ascontiguousarray(codes.T.astype(np.uint8))  # d × n

    @cached_property
    def session(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one core, as the einsum it replaces
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(model_bytes(self._codes), options, providers=["CPUExecutionProvider"])
        del self._codes  # ONNX Runtime holds its own copy
        return session

    def estimate(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every row's estimated cosine with ``vector`` and the bound on its error (float32)."""
        q = vector.astype(np.float64)  # (the code's step in float64; the estimate in float32)
        peak = float(np.abs(q).max())
        step = peak / LEVELS if peak > 0 else 1.0
        code = np.rint(q / step)
        dots = self.session.run(None, {"question": (code + 128).astype(np.uint8)[None]})[0][0]
        estimate = dots.astype(np.float32) * (self.scale * np.float32(step))  # (|dots| < 2**24: exact)
        bound = (
            np.float32(np.linalg.norm(q - code * step) + SLACK)
            + np.float32(np.linalg.norm(code * step)) * self.missed
        )
        return estimate, bound


class Cosines:
    """A question's cosines with every labelled question, read through :meth:`top` and
    :meth:`group_max`, which give exactly what the whole product would.

    Estimated, it computes at once the exact cosines of a pool: every row that may be among
    the :data:`POOL` highest. A top-``k`` among any rows is read from the pool alone when
    its ``k``-th value there reaches the pool's floor (every row outside lies below it);
    otherwise, rarely, from the rows its own bound cannot rule out."""

    def __init__(self, vectors: np.ndarray, vector: np.ndarray, quantised: Quantised | None = None) -> None:
        self.vectors = vectors
        self.vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        n = len(vectors)
        if quantised is None or n <= POOL:
            self._whole: np.ndarray | None = exact_product(vectors, self.vector)
            return
        self._whole = None
        estimate, bound = quantised.estimate(self.vector)
        self.low, self.high = estimate - bound, estimate + bound
        self._floor = np.partition(self.low, n - POOL)[n - POOL]
        self._pool = np.flatnonzero(self.high >= self._floor)  # ascending: ties stay by row
        self._pool_cos = exact_product(vectors[self._pool], self.vector)

    def __len__(self) -> int:
        return len(self.vectors)

    def exact(self, rows: np.ndarray) -> np.ndarray:
        """The cosines of these rows, as the whole product gives them."""
        if self._whole is not None:
            return self._whole[rows]
        return exact_product(self.vectors[rows], self.vector)

    def whole(self) -> np.ndarray:
        """Every cosine, exact (the product the estimate spares; for reports and tests)."""
        return self.exact(np.arange(len(self)))

    def top(self, among: np.ndarray | None = None, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` rows of highest cosine among those ``among`` marks (a boolean mask; all
        when None), best first, ties by row, and their cosines."""
        if self._whole is None and k <= POOL:
            inside = np.ones(len(self._pool), dtype=np.bool_) if among is None else among[self._pool]
            if inside.sum() >= k:
                cos = self._pool_cos[inside]
                order = best(cos, k)
                if cos[order[-1]] >= self._floor:
                    return self._pool[inside][order], cos[order]
        rows = np.arange(len(self)) if among is None else np.flatnonzero(among)
        k = min(k, len(rows))
        if not k:
            return rows[:0], np.zeros(0, dtype=np.float32)
        if self._whole is None and len(rows) > k:
            floor = np.partition(self.low[rows], len(rows) - k)[len(rows) - k]
            rows = rows[self.high[rows] >= floor]
        cos = self.exact(rows)
        order = best(cos, k)
        return rows[order], cos[order]

    def group_max(self, rows: np.ndarray, group: np.ndarray, groups: int) -> np.ndarray:
        """The highest cosine among the ``rows`` of each group (``group[j]`` is ``rows[j]``'s,
        0 … ``groups`` − 1), −inf for a group with none."""
        out = np.full(groups, -np.inf)
        if not len(rows):
            return out
        if self._whole is None:
            floor = np.full(groups, -np.inf)
            np.maximum.at(floor, group, self.low[rows])
            keep = self.high[rows] >= floor[group]
            rows, group = rows[keep], group[keep]
        np.maximum.at(out, group, self.exact(rows).astype(np.float64))
        return out


def best(cos: np.ndarray, k: int) -> np.ndarray:
    """The positions of the ``k`` highest of ``cos``, best first (ties by position)."""
    k = min(k, len(cos))
    top = np.flatnonzero(cos >= np.partition(cos, len(cos) - k)[len(cos) - k])
    return top[np.lexsort((top, -cos[top]))][:k]
