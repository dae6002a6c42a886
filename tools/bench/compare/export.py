"""Builds the base-size Nystromformer with random weights from the project's
PyTorch model (tools/train/nystromformer.py) and writes, into OUT:

    hf/                  a Hugging Face checkpoint folder (config.json, model.safetensors)
    base-f32.nyf         nystrom-convert of that folder, and
    base-q8_0.nyf        the same weights as q8_0
    base-q8_c.nyf        and as q8_c (int8, one scale per output row)
    base-fp32.onnx       an ONNX export of the same encoder (dynamic sequence length)
    base-int8.onnx       its dynamic int8 variant: every MatMul with a constant weight becomes
                         DynamicQuantizeLinear -> MatMulInteger (uint8 activations, int8
                         per-tensor symmetric weights) -> Cast -> Mul by the product of the
                         scales, as onnxruntime's quantize_dynamic does by default
    check/               one input per --check-n length (ids_N.i64, raw int64) with the
                         last hidden states of PyTorch and of the engine (f32, q8_0, q8_c)

    /usr/bin/python3 tools/bench/compare/export.py [--out build/compare] [--build build]

Needs Debian 12's python3-torch (1.13), python3-onnx (1.12) and python3-numpy.
The ONNX graphs take input_ids [1, n] (int64) for n > 64 (the Nystrom path;
the engine's exact attention for n <= 64 is not in the graph) and give
last_hidden_state [1, n, 768].
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    import torch
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:
    sys.exit("export.py: %s; it needs Debian's python3-torch python3-onnx python3-numpy "
             "(apt-get install python3-torch python3-onnx python3-numpy) run with /usr/bin/python3" % e)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "train"))
from nystromformer import Config, Encoder, pinv  # noqa: E402
from train_listops import write_safetensors  # noqa: E402


def base_config(positions):
    return Config(vocab_size=30000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                  intermediate_size=3072, max_position_embeddings=positions, num_landmarks=64,
                  conv_kernel_size=33, hidden_act="gelu_new", type_vocab_size=2)


def random_encoder(cfg, seed):
    """Weights ~ N(0, 0.02) as the project initializes them; biases and
    LayerNorm parameters random too, so that the checks below see them."""
    torch.manual_seed(seed)
    model = Encoder(cfg)
    for name, p in model.named_parameters():
        with torch.no_grad():
            if "LayerNorm.weight" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.normal_(0.0, 0.02)
    return model.eval()


def same_ids(n, vocab):
    """The ids nystrom-bench -m runs on: std::mt19937(11)() % vocab. numpy's
    legacy generator seeded with an int is the same MT19937 stream."""
    raw = np.random.RandomState(11).randint(0, 2 ** 32, size=n, dtype=np.uint32)
    return (raw % vocab).astype(np.int64)


class OnnxEncoder(torch.nn.Module):
    """The encoder's forward for one unpadded sequence, written so that the
    trace keeps the sequence length symbolic: the landmarks are means of two
    reshaped runs of segments (the first r of s tokens, the rest of s + 1, as
    SPEC says) instead of the training model's padded segment matrix, so ONNX
    Runtime gets the cheapest graph for the same numbers."""

    def __init__(self, encoder):
        super().__init__()
        self.enc = encoder
        self.m = encoder.cfg.num_landmarks
        # SelfAttention.depthwise_conv's per-column kernels, made once: a
        # weight computed in the graph has a shape the exporter cannot see.
        for i, L in enumerate(encoder.encoder.layer):
            sa = L.attention.self
            w = sa.conv.weight.detach().view(sa.H, 1, -1).repeat_interleave(sa.d, dim=0)
            self.register_buffer("conv%d" % i, w.contiguous())

    def act(self, x):
        # gelu_new spelled as Hugging Face's NewGELUActivation spells it, which
        # ONNX Runtime's optimizer fuses into one FastGelu (torch's own export
        # of F.gelu(approximate="tanh") stays seven element-wise nodes).
        if self.enc.cfg.hidden_act != "gelu_new":
            return self.enc.encoder.layer[0].act(x)
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    def landmarks(self, X, n):
        B, H, _, d = X.shape
        m = self.m
        s = n // m
        r = (s + 1) * m - n
        short = X[:, :, :r * s].reshape(B, H, r, s, d).mean(dim=3)
        long = X[:, :, r * s:].reshape(B, H, m - r, s + 1, d).mean(dim=3)
        return torch.cat([short, long], dim=2)

    def attention(self, i, sa, x, n):
        scale = sa.d ** -0.25
        Q = sa.heads(sa.query(x)) * scale
        K = sa.heads(sa.key(x)) * scale
        V = sa.heads(sa.value(x))
        Ql, Kl = self.landmarks(Q, n), self.landmarks(K, n)
        Fk = torch.softmax(Q @ Kl.transpose(-1, -2), dim=-1)
        A = torch.softmax(Ql @ Kl.transpose(-1, -2), dim=-1)
        Bq = torch.softmax(Ql @ K.transpose(-1, -2), dim=-1)
        ctx = (Fk @ pinv(A)) @ (Bq @ V) + self.depthwise_conv(sa, getattr(self, "conv%d" % i), V)
        return ctx.transpose(1, 2).reshape(x.shape)

    @staticmethod
    def depthwise_conv(sa, w, V):
        # SelfAttention.depthwise_conv with the sizes as constants (traced
        # shapes are tensors, which conv1d's groups and padding cannot take).
        H, d, K = sa.H, sa.d, sa.conv.kernel_size[0]
        x = V.permute(0, 1, 3, 2).reshape(1, H * d, -1)
        y = torch.nn.functional.conv1d(x, w, padding=K // 2, groups=H * d)
        return y.view(1, H, d, -1).permute(0, 1, 3, 2)

    def forward(self, ids):
        n = ids.shape[1]
        e = self.enc.embeddings
        pos = torch.arange(n, device=ids.device) + 2
        x = e.word_embeddings(ids) + e.position_embeddings(pos)[None] + e.token_type_embeddings.weight[0]
        x = e.LayerNorm(x)
        for i, L in enumerate(self.enc.encoder.layer):
            a = L.attention.output.LayerNorm(L.attention.output.dense(self.attention(i, L.attention.self, x, n)) + x)
            x = L.output.LayerNorm(L.output.dense(self.act(L.intermediate.dense(a))) + a)
        return x


def write_checkpoint(model, cfg, folder):
    os.makedirs(folder, exist_ok=True)
    config = {
        "architectures": ["NystromformerModel"], "model_type": "nystromformer",
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size,
        "num_hidden_layers": cfg.num_hidden_layers, "num_attention_heads": cfg.num_attention_heads,
        "intermediate_size": cfg.intermediate_size, "hidden_act": cfg.hidden_act,
        "max_position_embeddings": cfg.max_position_embeddings, "type_vocab_size": cfg.type_vocab_size,
        "num_landmarks": cfg.num_landmarks, "segment_means_seq_len": cfg.max_position_embeddings,
        "conv_kernel_size": cfg.conv_kernel_size, "layer_norm_eps": cfg.layer_norm_eps,
    }
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_safetensors(os.path.join(folder, "model.safetensors"), model.state_dict())


def quantize_matmuls(model):
    """Rewrites every MatMul whose second input is a constant 2-D f32 weight
    the way onnxruntime.quantization.quantize_dynamic does by default
    (per-tensor, symmetric int8 weights with zero point 0, scale max|W| / 127;
    uint8 activations quantized at run time). ONNX Runtime's optimizer then
    fuses each chain into one DynamicQuantizeMatMul. Conv and Gather stay f32."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    uses = {}
    for node in g.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    nodes, dropped, count = [], set(), 0
    for node in g.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" else None
        if w is None or w.data_type != TensorProto.FLOAT or len(w.dims) != 2:
            nodes.append(node)
            continue
        W = numpy_helper.to_array(w)
        scale = np.float32(np.abs(W).max() / 127.0)
        Wq = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
        p = "%s_q%d" % (node.name or "MatMul", count)
        count += 1
        g.initializer.extend([numpy_helper.from_array(Wq, p + "_W"),
                              numpy_helper.from_array(np.array(scale, np.float32), p + "_W_scale"),
                              numpy_helper.from_array(np.array(0, np.int8), p + "_W_zero_point")])
        a = node.input[0]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [a], [p + "_a", p + "_a_scale", p + "_a_zero_point"],
                             p + "_quantize"),
            helper.make_node("MatMulInteger", [p + "_a", p + "_W", p + "_a_zero_point", p + "_W_zero_point"],
                             [p + "_i32"], p + "_matmul"),
            helper.make_node("Cast", [p + "_i32"], [p + "_f32"], p + "_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [p + "_a_scale", p + "_W_scale"], [p + "_scale"], p + "_scales"),
            helper.make_node("Mul", [p + "_f32", p + "_scale"], [node.output[0]], p + "_rescale"),
        ]
        uses[w.name] -= 1
        if uses[w.name] == 0:
            dropped.add(w.name)
    del g.node[:]
    g.node.extend(nodes)
    kept = [t for t in g.initializer if t.name not in dropped]
    del g.initializer[:]
    g.initializer.extend(kept)
    return count


def engine_hidden(build, nyf, ids):
    # `nystrom run --out-dir` writes only into a new or empty folder.
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "ids.npy"), ids)
        out = os.path.join(tmp, "out")
        r = subprocess.run([os.path.join(build, "nystrom"), "run", "-m", nyf, "--threads", "2",
                            "--ids-npy", os.path.join(tmp, "ids.npy"), "--out-dir", out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("export.py: nystrom run failed: " + r.stderr.strip())
        return np.load(os.path.join(out, "last_hidden_state.npy"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="build/compare")
    ap.add_argument("--build", default="build", help="folder with nystrom and nystrom-convert")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--positions", type=int, default=4096)
    ap.add_argument("--check-n", default="512,1000", help="lengths of the check inputs (> 64)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    check_ns = [int(v) for v in args.check_n.split(",")]
    cfg = base_config(args.positions)
    model = random_encoder(cfg, args.seed)
    out = args.out
    os.makedirs(os.path.join(out, "check"), exist_ok=True)

    hf = os.path.join(out, "hf")
    write_checkpoint(model, cfg, hf)
    for t in ("f32", "q8_0", "q8_c"):
        subprocess.run([os.path.join(args.build, "nystrom-convert"), hf, "-o",
                        os.path.join(out, "base-%s.nyf" % t), "--type", t], check=True, capture_output=True)
    print("wrote %s and base-f32.nyf, base-q8_0.nyf, base-q8_c.nyf (nystrom-convert)" % hf, flush=True)

    wrapper = OnnxEncoder(model).eval()
    fp32 = os.path.join(out, "base-fp32.onnx")
    example = torch.from_numpy(same_ids(check_ns[0], cfg.vocab_size))[None]
    with torch.no_grad():
        torch.onnx.export(wrapper, (example,), fp32, input_names=["input_ids"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": {1: "n"}, "last_hidden_state": {1: "n"}},
                          opset_version=17, do_constant_folding=True)
    m = onnx.load(fp32)
    onnx.checker.check_model(m)
    count = quantize_matmuls(m)
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "base-int8.onnx"))
    print("wrote base-fp32.onnx and base-int8.onnx (%d MatMuls quantized)" % count, flush=True)

    worst = 0.0
    for n in check_ns:
        ids = same_ids(n, cfg.vocab_size)
        ids.tofile(os.path.join(out, "check", "ids_%d.i64" % n))
        with torch.no_grad():
            want = model(torch.from_numpy(ids)[None], [n])[0].numpy()
            traced = wrapper(torch.from_numpy(ids)[None])[0].numpy()
        want.astype(np.float32).tofile(os.path.join(out, "check", "torch_%d.f32" % n))
        limit = 1e-3 * float(np.abs(want).max())
        d = float(np.abs(traced - want).max())
        worst = max(worst, d / limit)
        line = "n=%d  max|export formulation - torch| = %.3g" % (n, d)
        for t in ("f32", "q8_0", "q8_c"):
            got = engine_hidden(args.build, os.path.join(out, "base-%s.nyf" % t), ids)
            got.astype(np.float32).tofile(os.path.join(out, "check", "engine_%s_%d.f32" % (t, n)))
            d = float(np.abs(got - want).max())
            if t == "f32":
                worst = max(worst, d / limit)
            line += "  max|engine %s - torch| = %.3g" % (t, d)
        print(line + "  (f32 limit %.3g)" % limit, flush=True)
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
