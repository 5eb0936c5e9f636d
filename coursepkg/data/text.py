"""Text data for character-level language models: Tiny Shakespeare and a character vocabulary."""

from __future__ import annotations

import numpy as np

from .download import fetch

_texts: dict[str, str] = {}


def load_tiny_shakespeare(progress: bool = True) -> str:
    """The Tiny Shakespeare corpus (1,115,394 characters, 65 distinct) as one string.

    Used by the recurrent-network chapters to train character-level language models. The
    file is found or downloaded with :func:`.download.fetch` and read once per process.
    """
    if "tinyshakespeare" not in _texts:
        _texts["tinyshakespeare"] = fetch("tinyshakespeare.txt", progress=progress).read_text("utf-8")
    return _texts["tinyshakespeare"]


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


class CharVocab:
    """A character vocabulary: the sorted distinct characters of a text, numbered 0..V-1.

    ``encode`` maps a string to an int64 array of indices, ``decode`` maps indices back;
    ``len(vocab)`` is the vocabulary size V (the number of inputs/outputs of a character model).

    >>> vocab = CharVocab("hello")
    >>> vocab.chars, vocab.encode("hole").tolist(), vocab.decode([3, 1])
    ('ehlo', [1, 3, 2, 0], 'oh')
    """

    def __init__(self, text: str):
        if not isinstance(text, str) or not text:
            raise ValueError(f"CharVocab: expected a non-empty string, received {text!r:.60}.")
        self._codes = np.unique(_codepoints(text))  # sorted code points; index = token id
        self.chars = "".join(map(chr, self._codes))

    def __len__(self) -> int:
        return len(self._codes)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters: {self.chars!r:.80})"

    def encode(self, text: str) -> np.ndarray:
        """The index of every character of ``text`` (int64 array of shape ``(len(text),)``)."""
        codes = _codepoints(text)
        ids = np.searchsorted(self._codes, codes)
        ids_ok = np.minimum(ids, len(self._codes) - 1)
        unknown = self._codes[ids_ok] != codes
        if unknown.any():
            chars = "".join(map(chr, np.unique(codes[unknown])))
            raise ValueError(
                f"CharVocab.encode: {unknown.sum()} character(s) not in the vocabulary: "
                f"{chars!r:.80}. Build the vocabulary from a text that contains them, or remove "
                "them from the input."
            )
        return ids.astype(np.int64)

    def decode(self, ids) -> str:
        """The string whose characters have indices ``ids`` (a sequence of integers)."""
        ids = np.asarray(ids)
        if ids.size == 0:  # np.asarray([]) is float64
            return ""
        if ids.dtype.kind not in "iu" or ids.ndim > 1:
            raise ValueError(
                f"CharVocab.decode: expected a 1-D sequence of integer indices, received "
                f"shape {ids.shape}, {ids.dtype}. Decode one sequence at a time."
            )
        ids = ids.reshape(-1)
        if ids.min() < 0 or ids.max() >= len(self):
            raise ValueError(
                f"CharVocab.decode: indices must lie in [0, {len(self) - 1}], received values "
                f"from {ids.min()} to {ids.max()}."
            )
        return self._codes[ids].astype("<u4").tobytes().decode("utf-32-le")
