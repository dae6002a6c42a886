"""A Nystromformer sequence classifier in PyTorch that computes exactly what
the engine computes (docs/SPEC.md section 2), with Hugging Face tensor
names, so a trained model exports to a checkpoint the converter reads.

Batches are padded, but every sequence is computed on its own, as the engine
does it: landmarks are the means of the sequence's own uneven segments, the
pseudo-inverse scale is a max over that sequence's heads only, padded keys
get no attention and padded values feed no convolution.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Config:
    def __init__(self, vocab_size, hidden_size=64, num_hidden_layers=2,
                 num_attention_heads=2, intermediate_size=128,
                 max_position_embeddings=2048, num_landmarks=64,
                 conv_kernel_size=35, num_labels=10, layer_norm_eps=1e-5,
                 hidden_act="gelu_new", type_vocab_size=2, hidden_dropout=0.0):
        self.__dict__.update(locals())
        del self.__dict__["self"]


def activation(name):
    if name == "gelu_new":
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "gelu":
        return F.gelu
    if name == "relu":
        return F.relu
    raise ValueError("unknown activation " + name)


def segment_matrix(lengths, m, n_max, device=None):
    """[B, m, n_max] weights whose row j averages segment j of each sequence
    (SPEC: with s = n // m and r = (s + 1) m - n, the first r segments hold s
    tokens, the others s + 1)."""
    S = torch.zeros(len(lengths), m, n_max, device=device)
    for b, n in enumerate(lengths):
        s = n // m
        r = (s + 1) * m - n
        start = 0
        for j in range(m):
            size = s if j < r else s + 1
            S[b, j, start:start + size] = 1.0 / size
            start += size
        assert start == n
    return S


def pinv(A, iterations=6):
    """Iterative pseudo-inverse of A [B, H, m, m]; the starting scale is the
    largest column sum over all heads of each sequence."""
    col_max = A.sum(dim=-2).amax(dim=(-1, -2))  # [B]
    Z = A.transpose(-1, -2) / col_max[:, None, None, None]
    I = torch.eye(A.shape[-1], device=A.device, dtype=A.dtype)
    for _ in range(iterations):
        AZ = A @ Z
        Z = 0.25 * Z @ (13 * I - AZ @ (15 * I - AZ @ (7 * I - AZ)))
    return Z


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, H = cfg.hidden_size, cfg.num_attention_heads
        self.H, self.d, self.m = H, D // H, cfg.num_landmarks
        self.query = nn.Linear(D, D)
        self.key = nn.Linear(D, D)
        self.value = nn.Linear(D, D)
        self.conv = None
        if cfg.conv_kernel_size:
            k = cfg.conv_kernel_size
            self.conv = nn.Conv2d(H, H, (k, 1), padding=(k // 2, 0), bias=False, groups=H)

    def heads(self, x):
        B, n, _ = x.shape
        return x.view(B, n, self.H, self.d).transpose(1, 2)  # [B, H, n, d]

    def depthwise_conv(self, V):
        # The same numbers as self.conv(V) (a Conv2d over [n, d] with a K x 1
        # kernel per head), as a 1-D depthwise conv per feature column: about
        # 3x faster to train on CPU. The weight keeps the Hugging Face shape.
        B, H, n, d = V.shape
        K = self.conv.weight.shape[2]
        w = self.conv.weight.view(H, 1, K).repeat_interleave(d, dim=0)
        x = V.permute(0, 1, 3, 2).reshape(B, H * d, n)
        y = F.conv1d(x, w, padding=K // 2, groups=H * d)
        return y.view(B, H, d, n).permute(0, 1, 3, 2)

    def forward(self, x, valid, S, nystrom):
        scale = self.d ** -0.25
        Q = self.heads(self.query(x)) * scale
        K = self.heads(self.key(x)) * scale
        V = self.heads(self.value(x)) * valid[:, None, :, None]
        key_mask = (~valid.bool())[:, None, None, :]  # True where padded
        if nystrom:
            Ql = S[:, None] @ Q  # [B, H, m, d]
            Kl = S[:, None] @ K
            Fk = torch.softmax(Q @ Kl.transpose(-1, -2), dim=-1)
            A = torch.softmax(Ql @ Kl.transpose(-1, -2), dim=-1)
            Bq = torch.softmax((Ql @ K.transpose(-1, -2)).masked_fill(key_mask, float("-inf")), dim=-1)
            ctx = (Fk @ pinv(A)) @ (Bq @ V)
        else:
            scores = (Q @ K.transpose(-1, -2)).masked_fill(key_mask, float("-inf"))
            ctx = torch.softmax(scores, dim=-1) @ V
        if self.conv is not None:
            ctx = ctx + self.depthwise_conv(V)
        B, H, n, d = ctx.shape
        return ctx.transpose(1, 2).reshape(B, n, H * d)


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, I, eps = cfg.hidden_size, cfg.intermediate_size, cfg.layer_norm_eps
        self.attention = nn.Module()
        self.attention.self = SelfAttention(cfg)
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(D, D)
        self.attention.output.LayerNorm = nn.LayerNorm(D, eps=eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(D, I)
        self.output = nn.Module()
        self.output.dense = nn.Linear(I, D)
        self.output.LayerNorm = nn.LayerNorm(D, eps=eps)
        self.act = activation(cfg.hidden_act)
        # Training only (HF's hidden_dropout_prob); eval() and the engine
        # compute without it.
        self.drop = nn.Dropout(cfg.hidden_dropout)

    def forward(self, x, valid, S, nystrom):
        c = self.attention.self(x, valid, S, nystrom)
        a = self.attention.output.LayerNorm(self.drop(self.attention.output.dense(c)) + x)
        h = self.act(self.intermediate.dense(a))
        return self.output.LayerNorm(self.drop(self.output.dense(h)) + a)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D = cfg.hidden_size
        self.cfg = cfg
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(cfg.vocab_size, D)
        self.embeddings.position_embeddings = nn.Embedding(cfg.max_position_embeddings + 2, D)
        self.embeddings.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, D)
        self.embeddings.LayerNorm = nn.LayerNorm(D, eps=cfg.layer_norm_eps)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList([Layer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.drop = nn.Dropout(cfg.hidden_dropout)

    def forward(self, ids, lengths):
        B, n = ids.shape
        pos = torch.arange(n, device=ids.device) + 2
        e = self.embeddings
        x = e.word_embeddings(ids) + e.position_embeddings(pos)[None] + e.token_type_embeddings.weight[0]
        x = self.drop(e.LayerNorm(x))
        valid = (torch.arange(n)[None, :] < torch.tensor(lengths)[:, None]).float()
        m = self.cfg.num_landmarks
        # n <= m runs exact attention, as in the engine; a batch is bucketed
        # so that it never mixes the two.
        nystrom = min(lengths) > m
        assert nystrom or max(lengths) <= m
        S = segment_matrix(lengths, m, n) if nystrom else None
        for layer in self.encoder.layer:
            x = layer(x, valid, S, nystrom)
        return x


class Classifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D = cfg.hidden_size
        self.nystromformer = Encoder(cfg)
        self.classifier = nn.Module()
        self.classifier.dense = nn.Linear(D, D)
        self.classifier.out_proj = nn.Linear(D, cfg.num_labels)
        self.act = activation(cfg.hidden_act)
        self.apply(self._init)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding, nn.Conv2d)):
            nn.init.normal_(module.weight, std=0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)

    def forward(self, ids, lengths):
        x = self.nystromformer(ids, lengths)
        return self.classifier.out_proj(self.act(self.classifier.dense(x[:, 0])))
