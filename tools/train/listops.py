"""ListOps expressions as the Long Range Arena benchmark generates them
(docs/SPEC.md section 6): random trees over the digits 0-9 and the
operators [MAX [MIN [MED [SM, each closed by ], written as space-separated
tokens and labelled with their value.

Seeded and deterministic: the same seed gives the same expressions on every
machine (Python's random.Random is specified to be reproducible).

    python3 tools/train/listops.py --seed 7 --count 2000 -o heldout.tsv

writes one `label<TAB>expression` line per expression.
"""
import argparse
import os
import random
import sys

OPERATORS = ["[MAX", "[MIN", "[MED", "[SM"]
MAX_DEPTH = 10
MAX_ARGS = 10
OPERATOR_P = 0.25
MIN_TOKENS = 500   # kept: strictly more than this ...
MAX_TOKENS = 2000  # ... and strictly fewer than this


class TooLong(Exception):
    pass


def apply(op, args):
    if op == "[MAX":
        return max(args)
    if op == "[MIN":
        return min(args)
    if op == "[SM":
        return sum(args) % 10
    ordered = sorted(args)
    half = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[half]
    # Even count: the mean of the two middle values, truncated.
    return (ordered[half - 1] + ordered[half]) // 2


def _node(rng, depth, tokens, limit):
    """Appends one node's tokens; returns its value. Raises TooLong once the
    expression can no longer be kept, so huge trees cost nothing more."""
    if depth < MAX_DEPTH and rng.random() < OPERATOR_P:
        arg_count = rng.randint(2, MAX_ARGS)
        op = rng.choice(OPERATORS)
        tokens.append(op)
        args = [_node(rng, depth + 1, tokens, limit) for _ in range(arg_count)]
        tokens.append("]")
        if len(tokens) >= limit:
            raise TooLong()
        return apply(op, args)
    tokens.append(str(rng.randrange(10)))
    if len(tokens) >= limit:
        raise TooLong()
    return int(tokens[-1])


def expression(rng, min_tokens=MIN_TOKENS, max_tokens=MAX_TOKENS):
    """One expression with min_tokens < length < max_tokens: (tokens, value).
    Trees are drawn from the benchmark's distribution and rejected by length,
    so the kept ones follow that distribution restricted to the range."""
    while True:
        tokens = []
        try:
            value = _node(rng, 1, tokens, max_tokens)
        except TooLong:
            continue
        if len(tokens) > min_tokens:
            return tokens, value


def evaluate(tokens):
    """Value of a space-split expression (an independent check of the
    generator's labels: a stack machine over the tokens)."""
    stack = [[None, []]]
    for tok in tokens:
        if tok in OPERATORS:
            stack.append([tok, []])
        elif tok == "]":
            op, args = stack.pop()
            stack[-1][1].append(apply(op, args))
        else:
            stack[-1][1].append(int(tok))
    (_, top), = stack
    if len(top) != 1:
        raise ValueError("not one expression")
    return top[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--min-tokens", type=int, default=MIN_TOKENS)
    ap.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = args.output + ".tmp"
    with open(tmp, "w") as f:
        for _ in range(args.count):
            tokens, value = expression(rng, args.min_tokens, args.max_tokens)
            assert evaluate(tokens) == value
            f.write("%d\t%s\n" % (value, " ".join(tokens)))
    os.replace(tmp, args.output)


if __name__ == "__main__":
    sys.exit(main())
