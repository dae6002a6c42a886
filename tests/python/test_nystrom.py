"""The Python module (python/nystrom.py) against the nystrom command: the
same ids, hidden states, logits, labels, fill-mask candidates and embeddings
for models/listops.nyf and for test checkpoints of tests/data/hf converted
with a tokenizer. Run by `make test` (test-native) with Debian's python3:
    NYSTROM_BUILD=build python3 tests/python/test_nystrom.py
The module's list results are checked always; its numpy results too when
numpy is installed.
"""

import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("NYSTROM_BUILD", "build"))
TESTDATA = os.path.join(ROOT, os.environ.get("NYSTROM_TESTDATA", "tests/data/hf"))
os.environ.setdefault("NYSTROM_LIBRARY", os.path.join(BUILD, "libnystrom.so"))
sys.path.insert(0, os.path.join(ROOT, "python"))

import nystrom  # noqa: E402  (after the path is set)

NUMPY = nystrom._np


def cli(*args):
    """stdout of `nystrom ARGS`, which must succeed."""
    r = subprocess.run([os.path.join(BUILD, "nystrom")] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("nystrom %s failed: %s" % (" ".join(args), r.stderr))
    return r.stdout


def read_npy(path):
    """A little-endian float32 or int64 .npy file as (shape, flat list)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    header_len = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + header_len].decode("latin1")
    descr = header.split("'descr':")[1].split("'")[1]
    shape = tuple(int(x) for x in header.split("'shape':")[1].split("(")[1].split(")")[0].split(",") if x.strip())
    count = 1
    for s in shape:
        count *= s
    code = {"<f4": "f", "<i8": "q", "<i4": "i"}[descr]
    body = data[10 + header_len:]
    return shape, list(struct.unpack("<%d%s" % (count, code), body[:count * struct.calcsize(code)]))


def flat(x):
    """A result (numpy array or nested lists) as one flat list of floats."""
    if NUMPY is not None and isinstance(x, NUMPY.ndarray):
        return [float(v) for v in x.reshape(-1)]
    if x and isinstance(x[0], list):
        return [float(v) for row in x for v in row]
    return [float(v) for v in x]


def json_scores(line):
    """[(token id or label, score)] per mask (fill-mask) or per label
    (classify) from one line of the command's --json output, in the
    command's order; accepts "probability" or "score" for the number."""
    obj = json.loads(line)

    def score(d):
        return d["score"] if "score" in d else d["probability"]

    if isinstance(obj, list):  # fill-mask: a list of candidates per mask
        return [[(c["token"], score(c)) for c in m] for m in obj]
    return (obj["label"], score(obj))


def same_float(a, b):
    """b is a as the command prints it (9 significant digits)."""
    return float("%.9g" % a) == b


def write_npy_ids(path, ids):
    header = "{'descr': '<i8', 'fortran_order': False, 'shape': (1, %d), }" % len(ids)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%dq" % len(ids), *ids))


WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "good", "bad", "movie", "was", "very", "not", "and",
         "it", ".", ","]


def wordlevel_tokenizer(vocab_size):
    """A tokenizer.json as Hugging Face tokenizers saves a WordLevel one:
    [PAD] [UNK] [CLS] [SEP] [MASK], the words above, then w<id> fillers."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {}
    for i in range(vocab_size):
        vocab[specials[i] if i < 5 else WORDS[i - 5] if i - 5 < len(WORDS) else "w%d" % i] = i
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in enumerate(specials)],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [i], "tokens": [t]} for t, i in (("[CLS]", 2), ("[SEP]", 3))},
        },
        "decoder": None,
        "model": {"type": "WordLevel", "unk_token": "[UNK]", "vocab": vocab},
    }


def convert(tmp, name, tokenizer_json, problem_type=None):
    """tests/data/hf/<name> with this tokenizer.json (and problem_type in
    its config.json when given), converted by nystrom-convert into
    tmp/<name>[-<problem_type>].nyf."""
    stem = name + ("-" + problem_type if problem_type else "")
    folder = os.path.join(tmp, stem)
    os.mkdir(folder)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(os.path.join(TESTDATA, name, f), folder)
    if problem_type:
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
        config["problem_type"] = problem_type
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f)
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        f.write(tokenizer_json)
    out = os.path.join(tmp, stem + ".nyf")
    subprocess.run([os.path.join(BUILD, "nystrom-convert"), "-q", folder, "-o", out], check=True)
    return out


class ModuleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nystrom-python-test-")
        cls.mlm_path = convert(cls.tmp, "tiny-mlm", json.dumps(wordlevel_tokenizer(512)))
        with open(os.path.join(ROOT, "tests/data/tokenizers/albert_precompiled/tokenizer.json")) as f:
            cls.cls_path = convert(cls.tmp, "small-cls", f.read())
        cls.listops_path = os.path.join(ROOT, "models/listops.nyf")
        cls.mlm = nystrom.Model(cls.mlm_path, threads=2)
        cls.cls = nystrom.Model(cls.cls_path)
        cls.listops = nystrom.Model(cls.listops_path, threads=1)

    @classmethod
    def tearDownClass(cls):
        for m in (cls.mlm, cls.cls, cls.listops):
            m.close()
        shutil.rmtree(cls.tmp)

    def each_result_kind(self):
        """Runs the body once with numpy results (when numpy is there) and
        once with lists."""
        kinds = [NUMPY, None] if NUMPY is not None else [None]
        for np in kinds:
            nystrom._np = np
            yield "numpy" if np is not None else "lists"
        nystrom._np = NUMPY

    def test_version_and_library(self):
        self.assertRegex(nystrom.version(), r"^\d+\.\d+\.\d+$")
        self.assertEqual(cli("--version").strip(), "nystrom " + nystrom.version())
        self.assertTrue(os.path.samefile(nystrom.library_path, os.environ["NYSTROM_LIBRARY"]))

    def test_config_is_the_checkpoints(self):
        with open(os.path.join(TESTDATA, "small-cls/config.json")) as f:
            hf = json.load(f)
        c = self.cls.config
        self.assertEqual(c["hidden_size"], hf["hidden_size"])
        self.assertEqual(c["num_layers"], hf["num_hidden_layers"])
        self.assertEqual(c["vocab_size"], hf["vocab_size"])
        self.assertEqual(c["max_positions"], hf["max_position_embeddings"])
        self.assertEqual(c["head"], "classifier")
        self.assertEqual(c["labels"], [hf["id2label"][str(i)] for i in range(len(hf["id2label"]))])
        self.assertEqual(self.mlm.config["head"], "masked_lm")
        self.assertEqual(self.mlm.config["labels"], [])
        self.assertEqual(self.listops.config["labels"], [str(i) for i in range(10)])
        self.assertTrue(self.listops.has_tokenizer)

    def test_tokenize_and_decode_as_the_cli(self):
        for model, path, text in ((self.mlm, self.mlm_path, "The cat sat on the mat ."),
                                  (self.cls, self.cls_path, "Hello world, this is a test."),
                                  (self.listops, self.listops_path, "[MAX 2 9 [MIN 4 7 ] 0 ]")):
            ids = model.tokenize(text)
            self.assertEqual(" ".join(map(str, ids)), cli("tokenize", "-m", path, text).strip())
            self.assertEqual(model.tokenize(text, add_special=False),
                             [int(x) for x in cli("tokenize", "-m", path, "--no-special", text).split()])
        self.assertEqual(self.mlm.decode(self.mlm.tokenize("The cat sat")), "the cat sat")
        self.assertEqual(self.mlm.decode(self.mlm.tokenize("The cat"), skip_special=False), "[CLS] the cat [SEP]")
        self.assertEqual(self.mlm.id_to_token(4), "[MASK]")
        self.assertEqual(self.mlm.mask_id(), 4)

    def test_run_gives_the_clis_outputs_bit_for_bit(self):
        for kind in self.each_result_kind():
            for model, path in ((self.mlm, self.mlm_path), (self.cls, self.cls_path)):
                ids = model.tokenize("the cat sat on the mat and the dog ran .")
                with tempfile.TemporaryDirectory() as d:
                    write_npy_ids(os.path.join(d, "ids.npy"), ids)
                    # run --out-dir refuses a folder holding other files (the ids)
                    out_dir = os.path.join(d, "out")
                    cli("run", "--model", path, "--ids-npy", os.path.join(d, "ids.npy"), "--out-dir", out_dir)
                    shape, hidden = read_npy(os.path.join(out_dir, "last_hidden_state.npy"))
                    _, logits = read_npy(os.path.join(out_dir, "logits.npy"))
                out = model.run(ids)
                with self.subTest(kind=kind, model=path):
                    self.assertEqual(flat(out["last_hidden_state"]), hidden)
                    self.assertEqual(flat(out["logits"]), logits)
                    if kind == "numpy":
                        self.assertEqual(out["last_hidden_state"].shape, (len(ids), model.config["hidden_size"]))
                    else:
                        self.assertEqual(len(out["last_hidden_state"]), len(ids))

    def test_attention_precision_reaches_the_engine_as_the_clis_flag(self):
        ids = self.cls.tokenize("the cat sat on the mat and the dog ran . " * 3)
        with tempfile.TemporaryDirectory() as d:
            write_npy_ids(os.path.join(d, "ids.npy"), ids)
            out_dir = os.path.join(d, "out")
            cli("run", "--model", self.cls_path, "--ids-npy", os.path.join(d, "ids.npy"), "--out-dir", out_dir,
                "--attention", "nystrom", "--attention-precision", "bf16")
            _, hidden = read_npy(os.path.join(out_dir, "last_hidden_state.npy"))
        model = nystrom.Model(self.cls_path, attention="nystrom", attention_precision="bf16")
        try:
            bf16 = flat(model.run(ids)["last_hidden_state"])
        finally:
            model.close()
        self.assertEqual(bf16, hidden)
        f32 = nystrom.Model(self.cls_path, attention="nystrom")
        try:
            self.assertNotEqual(flat(f32.run(ids)["last_hidden_state"]), hidden)
        finally:
            f32.close()
        with self.assertRaises(ValueError):
            nystrom.Model(self.cls_path, attention_precision="fp8")

    def test_fill_mask_as_the_cli(self):
        text = "the cat [MASK] on the [MASK] ."
        got = self.mlm.fill_mask(text, top_k=4)
        lines = [l.split("\t") for l in cli("fill-mask", "-m", self.mlm_path, "--top-k", "4", text).splitlines()]
        self.assertEqual(len(got), 2)
        want = {}
        for mask_no, token, prob in lines:
            want.setdefault(int(mask_no), []).append((token, prob))
        for m, candidates in enumerate(got):
            self.assertEqual([(self.mlm.id_to_token(c["token"]), "%.4f" % c["score"]) for c in candidates],
                             want[m + 1])
            for c in candidates:
                self.assertEqual(c["token_str"], self.mlm.decode([c["token"]]))
                if c["token_str"]:  # a special token decodes to nothing
                    self.assertIn(c["token_str"], c["sequence"].split())
            self.assertEqual([c["score"] for c in candidates], sorted((c["score"] for c in candidates), reverse=True))
        want = json_scores(cli("fill-mask", "-m", self.mlm_path, "--top-k", "4", "--json", text))
        for m, candidates in enumerate(got):
            self.assertEqual([c["token"] for c in candidates], [t for t, _ in want[m]])
            for c, (_, score) in zip(candidates, want[m]):
                self.assertTrue(same_float(c["score"], score), (c["score"], score))
        one = self.mlm.fill_mask("the [MASK] sat", top_k=2)  # one mask: one list of dicts
        self.assertEqual(len(one), 2)
        self.assertEqual(set(one[0]), {"score", "token", "token_str", "sequence"})

    def test_classify_as_the_cli(self):
        texts = ["Hello world, this is a test.", "Another sentence here."]
        want = cli("classify", "-m", self.cls_path, "-f", self.write_lines(texts)).splitlines()
        got = self.cls.classify(texts)
        self.assertEqual(["%s\t%.4f" % (g["label"], g["score"]) for g in got], want)
        lines = cli("classify", "-m", self.cls_path, "--json", "-f", self.write_lines(texts)).splitlines()
        for g, line in zip(got, lines):
            label, score = json_scores(line)
            self.assertEqual(g["label"], label)
            self.assertTrue(same_float(g["score"], score), (g["score"], score))
        for g in got:
            self.assertEqual(set(g["scores"]), set(self.cls.config["labels"]))
            self.assertAlmostEqual(sum(g["scores"].values()), 1.0, places=12)
            self.assertEqual(g["scores"][g["label"]], g["score"])
        with open(os.path.join(ROOT, "models/listops_demo.tsv")) as f:
            demo = [line.rstrip("\n").split("\t")[1] for line in f][:3]
        want = cli("classify", "-m", self.listops_path, "-f", self.write_lines(demo)).splitlines()
        self.assertEqual(["%s\t%.4f" % (g["label"], g["score"]) for g in self.listops.classify(demo)], want)

    def test_multi_label_and_regression_classify_as_the_cli(self):
        texts = ["the cat sat .", "a good movie and a bad dog"]
        for kind in ("multi_label_classification", "regression"):
            path = convert(self.tmp, "small-cls", json.dumps(wordlevel_tokenizer(1000)), kind)
            model = nystrom.Model(path)
            try:
                self.assertEqual(model.config["problem_type"], kind)
                lines = cli("classify", "-m", path, "--json", "-f", self.write_lines(texts)).splitlines()
                got = model.classify(texts)
                for g, line in zip(got, lines):
                    want = json.loads(line)
                    self.assertEqual(g["label"], want["label"])
                    self.assertEqual(set(g), set(want))
                    for label, score in g["scores"].items():
                        self.assertTrue(same_float(score, want["scores"][label]), (kind, score, want["scores"]))
                    logits = flat(model.run(model.tokenize(texts[got.index(g)]))["logits"])
                    if kind == "regression":
                        self.assertEqual(sorted(g["scores"].values()), sorted(logits))
                    else:
                        self.assertEqual(g["labels"], want["labels"])
                        self.assertTrue(all(0 < s < 1 for s in g["scores"].values()))
            finally:
                model.close()
        self.assertEqual(self.cls.config["problem_type"], "single_label_classification")

    def test_embed_as_the_cli(self):
        texts = ["the cat sat .", "a good movie and a bad dog", "it was not very good"]
        for kind in self.each_result_kind():
            for pool in ("cls", "mean"):
                out = os.path.join(self.tmp, "e.npy")
                cli("embed", "-m", self.mlm_path, "--pool", pool, "-f", self.write_lines(texts), "-o", out)
                shape, want = read_npy(out)
                got = self.mlm.embed(texts, pool=pool)
                with self.subTest(kind=kind, pool=pool):
                    self.assertEqual(flat(got), want)
                    unit = self.mlm.embed(texts, pool=pool, normalize=True)
                    D = shape[1]
                    for r in range(len(texts)):
                        row = flat(unit)[r * D:(r + 1) * D]
                        self.assertAlmostEqual(math.sqrt(sum(x * x for x in row)), 1.0, places=6)
                        norm = math.sqrt(sum(x * x for x in want[r * D:(r + 1) * D]))
                        for a, b in zip(row, want[r * D:(r + 1) * D]):
                            self.assertAlmostEqual(a, b / norm, places=6)
                    single = self.mlm.embed(texts[0], pool=pool)
                    self.assertEqual(flat(single), want[:D])

    def test_errors_raise_nystrom_error_with_the_message_and_code(self):
        with self.assertRaises(nystrom.Error) as e:
            nystrom.Model(os.path.join(self.tmp, "missing.nyf"))
        self.assertEqual(e.exception.code, 2)
        self.assertEqual(e.exception.status, "NYSTROM_ERROR_IO")
        self.assertIn("cannot open", str(e.exception))
        with self.assertRaises(nystrom.Error) as e:
            self.mlm.run([0, 512, 2])
        self.assertEqual(e.exception.code, 4)
        self.assertIn("512", str(e.exception))
        self.assertNotIn("\n", str(e.exception))
        with self.assertRaises(nystrom.Error) as e:
            self.cls.fill_mask("hello [MASK]")
        self.assertIn("no masked-LM head", str(e.exception))
        with self.assertRaises(nystrom.Error) as e:
            self.mlm.fill_mask("no mask here")
        self.assertEqual(e.exception.code, 4)
        with self.assertRaises(nystrom.Error) as e:
            self.mlm.decode([600])
        self.assertEqual(e.exception.code, 4)
        with self.assertRaises(nystrom.Error) as e:
            self.mlm.run([])
        self.assertEqual(e.exception.code, 4)
        with self.assertRaises(nystrom.Error) as e:
            nystrom.Model(self.mlm_path, threads=-1)
        self.assertEqual(e.exception.code, 1)

    def test_the_library_is_found_through_nystrom_library_or_not_at_all(self):
        code = "import nystrom; print(nystrom.library_path)"
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
        env["NYSTROM_LIBRARY"] = os.path.join(self.tmp, "no-such-lib.so")
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("NYSTROM_LIBRARY", r.stderr)
        # Beside the module: a copy of both in one folder, no variable.
        shutil.copy(os.path.join(ROOT, "python/nystrom.py"), self.tmp)
        shutil.copy(os.path.realpath(os.environ["NYSTROM_LIBRARY"]), os.path.join(self.tmp, "libnystrom.so.0"))
        del env["NYSTROM_LIBRARY"]
        env["PYTHONPATH"] = self.tmp
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), os.path.join(self.tmp, "libnystrom.so.0"))

    def write_lines(self, lines):
        path = os.path.join(self.tmp, "lines.txt")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path


if __name__ == "__main__":
    unittest.main(verbosity=2)
