"""Trains the ListOps Nystromformer classifier on this machine's CPU and
exports it as a Hugging Face checkpoint folder (config.json,
model.safetensors, tokenizer.json) that nystrom-convert reads.

    python3 tools/train/train_listops.py --out build/listops-hf

Resumable: every --save-every steps the whole training state (weights,
optimizer, step, the epoch's batch order and position, random states, best
validation so far) is written atomically to --state (default OUT.state.pt);
rerunning the same command continues from it, so a run can be stopped at
any time (or cut by --max-minutes) and taken up again later. Arguments that
change the training must match the saved ones.

Offline tool: the engine never needs Python. Everything is seeded; the data
comes from tools/train/listops.py.
"""
import argparse
import json
import math
import os
import random
import struct
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import listops  # noqa: E402
from nystromformer import Classifier, Config  # noqa: E402

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
VOCAB = SPECIALS + [str(d) for d in range(10)] + listops.OPERATORS + ["]"]
TOKEN_ID = {t: i for i, t in enumerate(VOCAB)}
CLS = TOKEN_ID["[CLS]"]


def make_data(seed, count):
    rng = random.Random(seed)
    data = []
    for _ in range(count):
        tokens, value = listops.expression(rng)
        data.append(([CLS] + [TOKEN_ID[t] for t in tokens], value))
    return data


def batches(data, max_tokens, rng):
    """Length-sorted batches of about max_tokens padded tokens each, in random
    order: little padding, every length seen every epoch."""
    order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
    out, cur = [], []
    for i in order:
        longest = max(len(data[i][0]), max((len(data[j][0]) for j in cur), default=0))
        if cur and longest * (len(cur) + 1) > max_tokens:
            out.append(cur)
            cur = []
        cur.append(i)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def count_batches(data, size, rng):
    """Length-sorted groups of `size` expressions (the paper's fixed batch
    size, with little padding), in random order."""
    order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
    out = [order[i:i + size] for i in range(0, len(order), size)]
    rng.shuffle(out)
    return out


def collate(data, idx):
    lengths = [len(data[i][0]) for i in idx]
    ids = torch.zeros(len(idx), max(lengths), dtype=torch.long)
    for row, i in enumerate(idx):
        ids[row, :lengths[row]] = torch.tensor(data[i][0])
    labels = torch.tensor([data[i][1] for i in idx])
    return ids, lengths, labels


@torch.no_grad()
def accuracy(model, data, max_tokens):
    model.eval()
    right = 0
    for idx in batches(data, max_tokens, random.Random(0)):
        ids, lengths, labels = collate(data, idx)
        right += (model(ids, lengths).argmax(-1) == labels).sum().item()
    model.train()
    return right / len(data)


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().float().numpy().tobytes()  # little-endian on every host we train on
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def export(model, cfg, out):
    os.makedirs(out, exist_ok=True)
    config = {
        "architectures": ["NystromformerForSequenceClassification"],
        "model_type": "nystromformer",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.hidden_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "intermediate_size": cfg.intermediate_size,
        "hidden_act": cfg.hidden_act,
        "max_position_embeddings": cfg.max_position_embeddings,
        "type_vocab_size": cfg.type_vocab_size,
        "num_landmarks": cfg.num_landmarks,
        "segment_means_seq_len": cfg.max_position_embeddings,
        "conv_kernel_size": cfg.conv_kernel_size,
        "layer_norm_eps": cfg.layer_norm_eps,
        "pad_token_id": TOKEN_ID["[PAD]"],
        "id2label": {str(i): str(i) for i in range(10)},
        "label2id": {str(i): i for i in range(10)},
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tensors = {k: v for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)
    added = [{"id": TOKEN_ID[t], "content": t, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True} for t in SPECIALS]
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [CLS], "tokens": ["[CLS]"]}},
        },
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": TOKEN_ID, "unk_token": "[UNK]"},
    }
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, indent=1)


# Arguments that may differ between a run and its resumption.
RESUMABLE_FREELY = {"max_minutes", "state", "threads", "eval_every", "save_every"}


def save_state(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="checkpoint folder to write")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train", type=int, default=60000, help="training expressions")
    ap.add_argument("--val", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch-tokens", type=int, default=24000)
    ap.add_argument("--batch-size", type=int, default=0,
                    help="expressions per batch (the paper: 32); 0 = batches of about --batch-tokens")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--schedule", choices=["cosine", "linear"], default="cosine",
                    help="after warm-up: cosine to 5%% of lr, or linear to 0 (the paper)")
    ap.add_argument("--dropout", type=float, default=0.0, help="hidden dropout while training (the paper: 0.1)")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--save-every", type=int, default=25, help="steps between saves of the training state")
    ap.add_argument("--state", help="training state file (default OUT.state.pt)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--landmarks", type=int, default=64)
    ap.add_argument("--conv", type=int, default=35)
    ap.add_argument("--max-minutes", type=float, default=0, help="stop (resumably) after this wall time")
    ap.add_argument("--init", help="start from this exported checkpoint folder (a second, low-lr phase)")
    args = ap.parse_args()
    state_path = args.state or args.out.rstrip("/") + ".state.pt"

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    t0 = time.time()
    train = make_data(args.seed * 1000 + 1, args.train)
    val = make_data(args.seed * 1000 + 2, args.val)
    print("data: %d train, %d val in %.0f s" % (len(train), len(val), time.time() - t0), flush=True)

    cfg = Config(vocab_size=len(VOCAB), hidden_size=args.hidden, num_hidden_layers=args.layers,
                 num_attention_heads=args.heads, intermediate_size=2 * args.hidden,
                 num_landmarks=args.landmarks, conv_kernel_size=args.conv, hidden_dropout=args.dropout)
    model = Classifier(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embeddings" not in n]
    other = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embeddings" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": other, "weight_decay": 0.0}], lr=args.lr)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        frac = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
        if args.schedule == "linear":
            return args.lr * (1.0 - frac)
        return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))

    def epoch_batches():
        if args.batch_size:
            return count_batches(train, args.batch_size, rng)
        return batches(train, args.batch_tokens, rng)

    step, best, elapsed_before = 0, -1.0, 0.0
    epoch, pos = epoch_batches(), 0
    if os.path.exists(state_path):
        st = torch.load(state_path)
        saved = {k: v for k, v in st["args"].items() if k not in RESUMABLE_FREELY}
        now = {k: v for k, v in vars(args).items() if k not in RESUMABLE_FREELY}
        if saved != now:
            diff = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
            sys.exit("%s was saved with other arguments (%s); use another --state or remove it"
                     % (state_path, ", ".join(diff)))
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, best, elapsed_before = st["step"], st["best"], st["elapsed"]
        epoch, pos = st["epoch"], st["pos"]
        rng.setstate(st["rng"])
        torch.set_rng_state(st["torch_rng"])
        print("resumed from %s at step %d (best val acc %.3f, %.1f min so far)"
              % (state_path, step, best, elapsed_before / 60), flush=True)
    elif args.init:
        from check_export import read_safetensors
        model.load_state_dict(read_safetensors(os.path.join(args.init, "model.safetensors")))
        print("initialized from " + args.init, flush=True)

    def save():
        save_state(state_path, {
            "args": vars(args), "model": model.state_dict(), "opt": opt.state_dict(), "step": step,
            "best": best, "elapsed": elapsed_before + time.time() - t_start, "epoch": epoch, "pos": pos,
            "rng": rng.getstate(), "torch_rng": torch.get_rng_state()})

    t_start = time.time()
    losses, rights, seen = [], 0, 0
    model.train()
    while step < args.steps:
        if pos == len(epoch):
            epoch, pos = epoch_batches(), 0
        idx = epoch[pos]
        pos += 1
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        ids, lengths, labels = collate(train, idx)
        logits = model(ids, lengths)
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        rights += (logits.argmax(-1) == labels).sum().item()
        seen += len(idx)
        step += 1
        elapsed = time.time() - t_start
        if step % args.eval_every == 0 or step == args.steps:
            acc = accuracy(model, val, args.batch_tokens)
            print("step %d  %.1f min  lr %.2e  loss %.3f  train acc %.3f  val acc %.3f"
                  % (step, (elapsed_before + elapsed) / 60, lr_at(step), sum(losses) / len(losses),
                     rights / seen, acc), flush=True)
            losses, rights, seen = [], 0, 0
            if acc > best:
                best = acc
                export(model, cfg, args.out)
                print("  exported (best so far)", flush=True)
        if step % args.save_every == 0 or step == args.steps:
            save()
        if args.max_minutes and elapsed > args.max_minutes * 60:
            save()
            print("time limit reached at step %d; rerun the same command to continue" % step, flush=True)
            return
    print("done: best val acc %.3f, %.1f min" % (best, (elapsed_before + time.time() - t_start) / 60),
          flush=True)


if __name__ == "__main__":
    main()
