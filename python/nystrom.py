"""nystrom: Nystromformer encoder inference from Python, over libnystrom.so.

One file, the standard library only (ctypes); results are numpy arrays when
numpy can be imported, lists otherwise.

    import nystrom
    model = nystrom.Model("model.nyf", threads=4)
    model.config["hidden_size"]
    ids = model.tokenize("The cat sat on the [MASK].")
    out = model.run(ids)                  # {"last_hidden_state": ..., "logits": ...}
    model.fill_mask("The cat sat on the [MASK].", top_k=5)
    model.classify("a good movie")        # {"label": ..., "score": ..., "scores": {...}}
    model.embed(["one text", "another"], pool="mean", normalize=True)

The library is found through NYSTROM_LIBRARY (a path to libnystrom.so),
beside this file, in the lib folder of the prefix it was installed into, or
by the system's loader. Every failure raises nystrom.Error, whose message is
the library's one line and whose code is its nystrom_status.

A Model may be used from several threads: its runs take turns (a lock), each
on the model's threads. For runs in parallel, open one Model per thread with
threads=1.
"""

import ctypes
import math
import os
import threading

try:
    import numpy as _np
except ImportError:  # lists instead
    _np = None

__all__ = ["Error", "Model", "version", "library_path"]

# `make install` writes the installed library folder here.
_INSTALLED_LIBDIR = "@LIBDIR@"

_STATUS_NAMES = {
    1: "NYSTROM_ERROR_INVALID_ARGUMENT",
    2: "NYSTROM_ERROR_IO",
    3: "NYSTROM_ERROR_FORMAT",
    4: "NYSTROM_ERROR_INPUT",
    5: "NYSTROM_ERROR_OUT_OF_MEMORY",
    6: "NYSTROM_ERROR_CANCELLED",
    7: "NYSTROM_ERROR_INTERNAL",
    8: "NYSTROM_ERROR_BUFFER_TOO_SMALL",
}
_ATTENTION = {"auto": 0, "nystrom": 1, "exact": 2}
_PRECISION = {"f32": 0, "int8": 1, "bf16": 2}
_POOLING = {"cls": 0, "first": 0, "mean": 1}
_HEADS = {0: "none", 1: "masked_lm", 2: "classifier"}
_PROBLEMS = {0: "single_label_classification", 1: "multi_label_classification", 2: "regression"}
_ACTIVATIONS = {0: "gelu_tanh", 1: "gelu_erf", 2: "relu"}


class Error(Exception):
    """A failed library call: str(e) is its message, e.code its status
    (nystrom_status, an int) and e.status the status's name."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code
        self.status = _STATUS_NAMES.get(code, "unknown")


class _Config(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in (
        "vocab_size", "hidden_size", "num_layers", "num_heads", "intermediate_size", "max_positions",
        "type_vocab_size", "num_landmarks", "segment_means_len", "conv_kernel")] + [
        ("activation", ctypes.c_int32), ("head", ctypes.c_int32), ("num_labels", ctypes.c_uint32),
        ("layer_norm_eps", ctypes.c_float), ("problem_type", ctypes.c_int32)]


class _SessionOptions(ctypes.Structure):
    _fields_ = [("attention", ctypes.c_int32), ("landmarks", ctypes.c_uint32), ("threads", ctypes.c_int32),
                ("attention_precision", ctypes.c_int32), ("outputs", ctypes.c_int32)]


class _OpenOptions(ctypes.Structure):
    _fields_ = [("threads", ctypes.c_int32), ("skip_checksum", ctypes.c_int32)]


def _candidates():
    env = os.environ.get("NYSTROM_LIBRARY")
    if env:
        return [env]  # asked for: nothing else
    here = os.path.dirname(os.path.abspath(__file__))
    folders = [here]
    if not _INSTALLED_LIBDIR.startswith("@"):
        folders.append(_INSTALLED_LIBDIR)
    # PREFIX/lib/python3/dist-packages/nystrom.py -> PREFIX/lib
    folders.append(os.path.normpath(os.path.join(here, "..", "..")))
    paths = [os.path.join(f, name) for f in folders for name in ("libnystrom.so.0", "libnystrom.so")]
    return [p for p in paths if os.path.exists(p)] + ["libnystrom.so.0"]


def _load():
    tried = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(str(e))
    raise ImportError("nystrom: cannot load libnystrom.so (set NYSTROM_LIBRARY to its path): " + "; ".join(tried))


_lib, library_path = _load()

_c_size_p = ctypes.POINTER(ctypes.c_size_t)
_c_float_pp = ctypes.POINTER(ctypes.POINTER(ctypes.c_float))
_c_int32_p = ctypes.POINTER(ctypes.c_int32)


def _declare(name, *argtypes, restype=ctypes.c_int):
    fn = getattr(_lib, name)
    fn.argtypes = list(argtypes)
    fn.restype = restype
    return fn


_last_error = _declare("nystrom_last_error", restype=ctypes.c_char_p)
_version = _declare("nystrom_version", restype=ctypes.c_char_p)
_open = _declare("nystrom_model_open_with", ctypes.c_char_p, ctypes.POINTER(_OpenOptions),
                 ctypes.POINTER(ctypes.c_void_p))
_model_free = _declare("nystrom_model_free", ctypes.c_void_p, restype=None)
_model_config = _declare("nystrom_model_config", ctypes.c_void_p, ctypes.POINTER(_Config))
_model_label = _declare("nystrom_model_label", ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p))
_has_tokenizer = _declare("nystrom_model_has_tokenizer", ctypes.c_void_p, ctypes.POINTER(ctypes.c_int))
_tokenize = _declare("nystrom_tokenize", ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, _c_int32_p,
                     ctypes.c_size_t, _c_size_p)
_token_string = _declare("nystrom_token_string", ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_size_t,
                         _c_size_p)
_decode = _declare("nystrom_decode", ctypes.c_void_p, _c_int32_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p,
                   ctypes.c_size_t, _c_size_p)
_tok_vocab_size = _declare("nystrom_tokenizer_vocab_size", ctypes.c_void_p, _c_int32_p)
_mask_id = _declare("nystrom_tokenizer_mask_id", ctypes.c_void_p, _c_int32_p)
_session_create = _declare("nystrom_session_create", ctypes.c_void_p, ctypes.POINTER(_SessionOptions),
                           ctypes.POINTER(ctypes.c_void_p))
_session_free = _declare("nystrom_session_free", ctypes.c_void_p, restype=None)
_session_run = _declare("nystrom_session_run", ctypes.c_void_p, _c_int32_p, ctypes.c_size_t)
_session_run_positions = _declare("nystrom_session_run_positions", ctypes.c_void_p, _c_int32_p, ctypes.c_size_t,
                                  _c_size_p, ctypes.c_size_t)
_session_hidden = _declare("nystrom_session_hidden", ctypes.c_void_p, _c_float_pp, _c_size_p, _c_size_p)
_session_logits = _declare("nystrom_session_logits", ctypes.c_void_p, _c_float_pp, _c_size_p)
_session_pooled = _declare("nystrom_session_pooled", ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float),
                           ctypes.c_size_t)


def _check(status):
    if status != 0:
        raise Error(_last_error().decode("utf-8", "replace"), status)


def version():
    """The library's version, "X.Y.Z"."""
    return _version().decode()


def _ids_array(ids):
    ids = [int(i) for i in ids]
    return (ctypes.c_int32 * len(ids))(*ids), len(ids)


def _floats(pointer, count):
    """count floats at pointer, copied: a numpy float32 array or a list."""
    if count == 0:
        return _np.zeros(0, dtype=_np.float32) if _np is not None else []
    if _np is not None:
        return _np.ctypeslib.as_array(pointer, shape=(count,)).copy()
    return pointer[:count]


def _rows(flat, rows, cols):
    if _np is not None:
        return flat.reshape(rows, cols)
    return [flat[r * cols:(r + 1) * cols] for r in range(rows)]


def _sigmoid(x):
    """1 / (1 + e^-x) in double, without overflow: as the nystrom command
    computes it for a multi-label classifier."""
    x = float(x)
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softmax(logits):
    """Probabilities in double precision, summed in order: the same numbers
    the nystrom command prints."""
    values = [float(x) for x in logits]
    top = max(values)
    exps = [math.exp(x - top) for x in values]
    total = 0.0
    for e in exps:
        total += e
    return [e / total for e in exps]


class Model:
    """A .nyf model file, opened with its tokenizer (when it has one) and
    run through sessions of `threads` threads (0: the CPUs this process may
    use). attention is "auto", "nystrom" or "exact"; landmarks 0 is the
    model's own count; attention_precision "f32", "int8" or "bf16" (the
    arithmetic of the Nystrom products: RunOptions in nystrom.h)."""

    def __init__(self, path, threads=0, attention="auto", landmarks=0, verify_checksum=True,
                 attention_precision="f32"):
        if attention not in _ATTENTION:
            raise ValueError("attention must be auto, nystrom or exact, not %r" % (attention,))
        if attention_precision not in _PRECISION:
            raise ValueError("attention_precision must be f32, int8 or bf16, not %r" % (attention_precision,))
        self._model = None
        self._sessions = {}
        self._lock = threading.Lock()
        handle = ctypes.c_void_p()
        options = _OpenOptions(int(threads), 0 if verify_checksum else 1)
        _check(_open(os.fsencode(path), ctypes.byref(options), ctypes.byref(handle)))
        self._model = handle
        self._session_options = (_ATTENTION[attention], int(landmarks), int(threads), _PRECISION[attention_precision])
        c = _Config()
        _check(_model_config(self._model, ctypes.byref(c)))
        labels = []
        for i in range(c.num_labels):
            label = ctypes.c_char_p()
            _check(_model_label(self._model, i, ctypes.byref(label)))
            labels.append(label.value.decode("utf-8", "replace"))
        self.config = {name: getattr(c, name) for name, _ in _Config._fields_}
        self.config["activation"] = _ACTIVATIONS.get(c.activation, c.activation)
        self.config["head"] = _HEADS.get(c.head, c.head)
        self.config["problem_type"] = _PROBLEMS.get(c.problem_type, c.problem_type)
        self.config["labels"] = labels
        has = ctypes.c_int()
        _check(_has_tokenizer(self._model, ctypes.byref(has)))
        self.has_tokenizer = bool(has.value)

    def close(self):
        """Frees the model and its sessions now (else when collected)."""
        for session in self._sessions.values():
            _session_free(session)
        self._sessions = {}
        if self._model:
            _model_free(self._model)
            self._model = None

    def __del__(self):
        try:
            if getattr(self, "_model", None) is not None:
                self.close()
        except Exception:  # at interpreter exit the module's globals may be gone
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _session(self, hidden_only):
        session = self._sessions.get(hidden_only)
        if session is None:
            if not self._model:
                raise Error("the model is closed", 1)
            attention, landmarks, threads, precision = self._session_options
            options = _SessionOptions(attention, landmarks, threads, precision, 1 if hidden_only else 0)
            session = ctypes.c_void_p()
            _check(_session_create(self._model, ctypes.byref(options), ctypes.byref(session)))
            self._sessions[hidden_only] = session
        return session

    # ------------------------------------------------------------ tokenizer

    def tokenize(self, text, add_special=True):
        """The token ids of text (a list of ints)."""
        data = text.encode("utf-8")
        count = ctypes.c_size_t()
        status = _tokenize(self._model, data, int(add_special), None, 0, ctypes.byref(count))
        if status not in (0, 8):  # 8: too small a buffer, which gave the count
            _check(status)
        ids = (ctypes.c_int32 * count.value)()
        _check(_tokenize(self._model, data, int(add_special), ids, count.value, ctypes.byref(count)))
        return list(ids)

    def _string_call(self, fn, *args):
        length = ctypes.c_size_t()
        status = fn(self._model, *args, None, 0, ctypes.byref(length))
        if status not in (0, 8):
            _check(status)
        buf = ctypes.create_string_buffer(length.value + 1)
        _check(fn(self._model, *args, buf, len(buf), ctypes.byref(length)))
        return buf.raw[:length.value].decode("utf-8", "replace")

    def decode(self, ids, skip_special=True):
        """Readable text for ids."""
        array, n = _ids_array(ids)
        return self._string_call(_decode, array, n, int(skip_special))

    def id_to_token(self, token_id):
        """The vocabulary's string for an id ("##ing", "▁the")."""
        return self._string_call(_token_string, int(token_id))

    def mask_id(self):
        """The mask token's id, or None when the vocabulary has none."""
        mask = ctypes.c_int32()
        _check(_mask_id(self._model, ctypes.byref(mask)))
        return None if mask.value < 0 else mask.value

    def _tokenizer_vocab_size(self):
        size = ctypes.c_int32()
        _check(_tok_vocab_size(self._model, ctypes.byref(size)))
        return size.value

    # ----------------------------------------------------------------- runs

    def _results(self, session):
        data = ctypes.POINTER(ctypes.c_float)()
        n, hidden, count = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
        _check(_session_hidden(session, ctypes.byref(data), ctypes.byref(n), ctypes.byref(hidden)))
        state = _rows(_floats(data, n.value * hidden.value), n.value, hidden.value)
        _check(_session_logits(session, ctypes.byref(data), ctypes.byref(count)))
        logits = _floats(data, count.value)
        return state, logits

    def run(self, ids):
        """Runs one sequence of token ids. Returns {"last_hidden_state": n x
        hidden, "logits": n x vocab (masked LM), num_labels (classifier) or
        None (no head)}."""
        array, n = _ids_array(ids)
        with self._lock:
            session = self._session(False)
            _check(_session_run(session, array, n))
            state, logits = self._results(session)
        head = self.config["head"]
        if head == "masked_lm":
            logits = _rows(logits, n, self.config["vocab_size"])
        elif head == "none":
            logits = None
        return {"last_hidden_state": state, "logits": logits}

    def _logit_rows(self, ids, positions):
        """The masked-LM logits of the given positions only, one list each."""
        array, n = _ids_array(ids)
        where = (ctypes.c_size_t * len(positions))(*positions)
        with self._lock:
            session = self._session(False)
            _check(_session_run_positions(session, array, n, where, len(positions)))
            _, logits = self._results(session)
        V = self.config["vocab_size"]
        return [logits[r * V:(r + 1) * V] for r in range(len(positions))]

    def fill_mask(self, text, top_k=5):
        """The top_k predictions for each mask token of text, best first, as
        Hugging Face's fill-mask pipeline gives them: dicts of score, token
        (id), token_str and sequence (the text with the mask filled in). One
        list of dicts for a text with one mask, a list of such lists for
        several."""
        if self.config["head"] != "masked_lm":
            raise Error("fill_mask: the model has no masked-LM head (it is %s)" % self.config["head"], 1)
        mask = self.mask_id()
        if mask is None:
            raise Error("fill_mask: the tokenizer has no mask token", 1)
        ids = self.tokenize(text)
        positions = [t for t, i in enumerate(ids) if i == mask]
        if not positions:
            raise Error("fill_mask: no mask token %s in the text" % self.id_to_token(mask), 4)
        # Candidates are the tokenizer's ids: rows past it belong to no text.
        vocab = self._tokenizer_vocab_size()
        results = []
        for position, row in zip(positions, self._logit_rows(ids, positions)):
            p = _softmax(row[:self.config["vocab_size"]])
            best = sorted(range(vocab), key=lambda i: (-p[i], i))[:top_k]
            found = []
            for token in best:
                filled = list(ids)
                filled[position] = token
                found.append({"score": p[token], "token": token, "token_str": self.decode([token]),
                              "sequence": self.decode(filled)})
            results.append(found)
        return results[0] if len(results) == 1 else results

    def classify(self, text):
        """{"label": the best label, "score": its probability, "scores":
        {label: probability} for every label}; a list of them for a list of
        texts. As config["problem_type"] says: probabilities are a softmax
        over the labels (single-label), a sigmoid per label (multi-label,
        which adds "labels": those scoring at least 0.5, best first), or the
        raw outputs (regression)."""
        if not isinstance(text, str):
            return [self.classify(t) for t in text]
        if self.config["head"] != "classifier":
            raise Error("classify: the model has no classifier head (it is %s)" % self.config["head"], 1)
        logits = self.run(self.tokenize(text))["logits"]
        kind = self.config["problem_type"]
        if kind == "multi_label_classification":
            p = [_sigmoid(x) for x in logits]
        elif kind == "regression":
            p = [float(x) for x in logits]
        else:
            p = _softmax(logits)
        best = max(range(len(p)), key=lambda i: (p[i], -i))
        labels = self.config["labels"]
        result = {"label": labels[best], "score": p[best], "scores": dict(zip(labels, p))}
        if kind == "multi_label_classification":
            order = sorted(range(len(p)), key=lambda i: (-p[i], i))
            result["labels"] = [labels[i] for i in order if p[i] >= 0.5]
        return result

    def embed(self, texts, pool="cls", normalize=False):
        """One embedding per text (a str is one text): rows of hidden_size
        floats pooled from the last hidden state, the first token's row
        ("cls") or the mean of all rows ("mean"); with normalize, scaled to
        unit length. The model's head does not run."""
        if pool not in _POOLING:
            raise ValueError("pool must be cls or mean, not %r" % (pool,))
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        D = self.config["hidden_size"]
        out = (ctypes.c_float * D)()
        rows = []
        with self._lock:
            session = self._session(True)
            for text in texts:
                array, n = _ids_array(self.tokenize(text))
                _check(_session_run(session, array, n))
                _check(_session_pooled(session, _POOLING[pool], out, D))
                row = list(out)
                if normalize:
                    norm = math.sqrt(sum(x * x for x in row))
                    if norm > 0:
                        row = [x / norm for x in row]
                rows.append(row)
        if _np is not None:
            rows = _np.array(rows, dtype=_np.float32).reshape(len(texts), D)
        elif normalize:  # float32 values, as numpy would hold them
            rows = [list((ctypes.c_float * D)(*r)) for r in rows]
        return rows[0] if single else rows
