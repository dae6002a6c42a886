"""Checks that the C++ engine computes what the PyTorch training model
computes on an exported checkpoint: converts the folder, runs both on a few
fresh ListOps expressions (batched and padded in PyTorch, one by one in the
engine) and prints the largest logit difference.

    python3 tools/train/check_export.py CHECKPOINT_DIR [--build build]

Exits non-zero when a difference exceeds 1e-4 * max|logit| + 1e-5.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_listops as T  # noqa: E402
from nystromformer import Classifier, Config  # noqa: E402


def read_safetensors(path):
    raw = open(path, "rb").read()
    size = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + size])
    base = 8 + size
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        assert info["dtype"] == "F32"
        out[name] = torch.from_numpy(np.frombuffer(raw[base + a:base + b], dtype=np.float32)
                                     .reshape(info["shape"]).copy())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--build", default="build")
    ap.add_argument("--count", type=int, default=4)
    args = ap.parse_args()
    c = json.load(open(os.path.join(args.checkpoint, "config.json")))
    cfg = Config(vocab_size=c["vocab_size"], hidden_size=c["hidden_size"],
                 num_hidden_layers=c["num_hidden_layers"], num_attention_heads=c["num_attention_heads"],
                 intermediate_size=c["intermediate_size"], max_position_embeddings=c["max_position_embeddings"],
                 num_landmarks=c["num_landmarks"], conv_kernel_size=c["conv_kernel_size"],
                 num_labels=len(c["id2label"]), layer_norm_eps=c["layer_norm_eps"], hidden_act=c["hidden_act"],
                 type_vocab_size=c["type_vocab_size"])
    model = Classifier(cfg)
    model.load_state_dict(read_safetensors(os.path.join(args.checkpoint, "model.safetensors")))
    model.eval()
    data = T.make_data(4242, args.count)
    ids, lengths, _ = T.collate(data, list(range(len(data))))
    with torch.no_grad():
        want = model(ids, lengths).numpy()
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        nyf = os.path.join(tmp, "m.nyf")
        out = os.path.join(tmp, "out")  # run's --out-dir holds only its outputs
        subprocess.run([os.path.join(args.build, "nystrom-convert"), args.checkpoint, "-o", nyf],
                       check=True, capture_output=True)
        for b, (seq, _) in enumerate(data):
            np.save(os.path.join(tmp, "ids.npy"), np.array(seq, dtype=np.int64))
            subprocess.run([os.path.join(args.build, "nystrom"), "run", "-m", nyf,
                            "--ids-npy", os.path.join(tmp, "ids.npy"), "--out-dir", out],
                           check=True, capture_output=True)
            got = np.load(os.path.join(out, "logits.npy"))
            diff = float(np.abs(got - want[b]).max())
            limit = 1e-4 * float(np.abs(want[b]).max()) + 1e-5
            worst = max(worst, diff / limit)
            print("n=%d  max|engine - torch| = %.3g  (limit %.3g)" % (lengths[b], diff, limit))
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
