#!/usr/bin/env python3
"""Writes tests/data/tokenizers/corpus.txt: the text the reference tokenizers are
built from and encoded on (tools/text/make_tokenizer_cases.mjs).

Seeded, so the file is reproducible. Each line mixes what tokenizers get
wrong: accents (precomposed and combining), other scripts (Greek, Cyrillic,
Arabic, Hebrew, Devanagari, Thai, CJK, kana, Hangul), emoji (with skin tones
and zero-width joiners), digits and numbers in several scripts, long words,
contractions, punctuation of many kinds, compatibility characters
(ligatures, full-width, superscripts), special-token look-alikes and odd
whitespace and control characters (tabs, runs of spaces, NBSP, ideographic
space, zero-width characters, C0/C1 controls). Lines never contain '\\n' or
'\\r'.

Usage: python3 tools/text/make_tokenizer_corpus.py > tests/data/tokenizers/corpus.txt
"""
import random
import sys

WORDS = """the of and to in is was for on that with as by at from his her they their this be are
were it an or had not but have one all which you she we can will would there been has more when
who no so if out up about into than them some could time only new these two may first then do any
like my now over such our man me even most made after also did many before must through back years
where much your way well down should because each just those people how too little state good very
make world still own see men work long get here between both life being under never day same another
know while last might us great old year off come since against go came right used take three
language model token tokenizer vocabulary encoder attention landmark matrix kernel sequence segment
running jumped quickly happiness unbelievable internationalization antidisestablishmentarianism
preprocessing subword merges byte level unicode normalization accent stripping lowercase uppercase
""".split()

ACCENTED = """café naïve résumé façade déjà vu coöperate Ångström Straße Müller Zürich São Paulo
Kraków Łódź Dvořák Škoda Ærø Øresund İstanbul ıslak crème brûlée piñata jalapeño Việt Nam Nguyễn
Ōsaka Māori élève ÉCOLE Île-de-France Ça ŒUVRE œuvre fiancée""".split()

SCRIPTS = [
    "Καλημέρα κόσμε", "ΑΘΗΝΑ Ελλάδα", "σοφός ΣΟΦΟΣ", "Привет мир", "Москва ЁЛКА ёлка",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "你好世界", "我爱自然语言处理",
    "東京は日本の首都です", "ひらがな カタカナ ｶﾀｶﾅ", "안녕하세요 세계", "한국어 텍스트", "𠀀𠀁 𪚥 𡃁",
    "中文，标点。符号！", "「引用」『二重』", "Ⅻ Ⅷ ⅰⅱⅲ", "①②③ ⑴⑵",
]

EMOJI = ["😀", "🎉", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🇫🇷", "❤️", "🤖", "✨", "🧪", "☕", "🏳️‍🌈", "1️⃣"]

PUNCT = [".", ",", "!", "?", ";", ":", "...", "…", "—", "–", "-", "(", ")", "[", "]", "{", "}",
         "\"", "'", "«", "»", "¿", "¡", "“", "”", "‘", "’", "/", "\\", "@", "#", "$", "%", "^", "&",
         "*", "+", "=", "<", ">", "|", "~", "`", "``", "''", "§", "¶", "†", "€", "£", "¥", "©", "®", "™"]

COMPAT = ["ﬁnance", "ﬂow", "ＡＢＣ", "ｆｕｌｌ", "x²", "H₂O", "½", "¼", "㎏", "℃", "№", "ǅ", "Å", "ﾊﾝｶｸ",
          "e\u0301te\u0301", "n\u0303", "A\u030a", "\u1e9b\u0323", "ｱｲｳ", "㍿", "ⓐⓑ", "🄰"]

SPACES = ["\t", "  ", "   ", "\u00a0", "\u3000", "\u2003", "\u200b", "\u200c", "\u200d", "\ufeff",
          "\u2028", "\x0b", "\x0c", "\u0085", "\u202f", " \t "]

CONTROLS = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\u009f", "\u00ad", "\ufffd", "\u2060", "\ue000"]

SPECIALS = ["[MASK]", "[CLS]", "[SEP]", "[UNK]", "[PAD]", "<mask>", "<s>", "</s>", "<unk>", "<pad>",
            "[mask]", "[MASK", "MASK]"]

CONTRACTIONS = ["don't", "I'm", "we'll", "they've", "she'd", "it's", "can't", "you're", "O'Neill",
                "rock'n'roll", "'quoted'", "DON'T", "I'M"]


def number(rng):
    kind = rng.randrange(7)
    if kind == 0:
        return str(rng.randrange(10 ** rng.randrange(1, 12)))
    if kind == 1:
        return f"{rng.uniform(-1000, 1000):.{rng.randrange(1, 5)}f}"
    if kind == 2:
        return f"{rng.randrange(1, 32)}/{rng.randrange(1, 13)}/{rng.randrange(1900, 2100)}"
    if kind == 3:
        return "".join(rng.choice("٠١٢٣٤٥٦٧٨٩") for _ in range(rng.randrange(1, 5)))
    if kind == 4:
        return "".join(rng.choice("०१२३४५६७८९") for _ in range(rng.randrange(1, 4)))
    if kind == 5:
        return f"{rng.randrange(1000):,}".replace(",", rng.choice([",", ".", " "])) + rng.choice(["%", "€", "km", "$"])
    return "v" + ".".join(str(rng.randrange(20)) for _ in range(3))


def long_word(rng):
    parts = [rng.choice(WORDS) for _ in range(rng.randrange(3, 9))]
    return rng.choice(["", "-", "_"]).join(parts)


def common_word(rng):
    w = rng.choice(WORDS)
    return w.capitalize() if rng.random() < 0.2 else (w.upper() if rng.random() < 0.05 else w)


# (weight, maker) of each kind of word.
WORD_KINDS = [
    (45, common_word), (10, lambda rng: rng.choice(ACCENTED)), (7, lambda rng: rng.choice(SCRIPTS)),
    (5, lambda rng: rng.choice(EMOJI)), (8, number), (4, lambda rng: rng.choice(COMPAT)),
    (5, lambda rng: rng.choice(CONTRACTIONS)), (3, lambda rng: rng.choice(SPECIALS)), (3, long_word),
    (3, lambda rng: rng.choice(WORDS) + rng.choice(CONTROLS) + rng.choice(WORDS)),
    (7, lambda rng: rng.choice(PUNCT)),
]


def word(rng):
    r = rng.random() * 100
    for weight, make in WORD_KINDS:
        if r < weight:
            return make(rng)
        r -= weight
    return rng.choice(PUNCT)


def line(rng):
    out = []
    for _ in range(rng.randrange(1, 18)):
        if out:
            out.append(rng.choice(SPACES) if rng.random() < 0.15 else " ")
        w = word(rng)
        if rng.random() < 0.15:
            w += rng.choice(PUNCT)
        out.append(w)
    text = "".join(out)
    if rng.random() < 0.08:
        text = rng.choice(SPACES) + text
    if rng.random() < 0.08:
        text += rng.choice(SPACES)
    return text


def main():
    rng = random.Random(20240605)
    lines = [
        # Fixed edge cases first.
        "Hello, world!",
        "HELLO hello HeLLo",
        "a",
        " ",
        "   leading and trailing   ",
        "\ttab\tseparated\twords\t",
        "no\u00a0break\u00a0space and\u3000ideographic",
        "zero\u200bwidth\u200cjoin\u200dners\ufeff",
        "[MASK]",
        "[CLS] [SEP] [MASK] [PAD] [UNK]",
        "The capital of France is [MASK].",
        "<s> hello <mask> world </s>",
        "e\u0301 vs \u00e9 vs E\u0301",
        "a" * 150,
        "x" * 40 + "y" * 40 + "z" * 40,
        "1234567890 0.5 -3 +4 1e10",
        "don't stop believin' y'all",
        "mixed中文English日本語한국어text",
        "emoji😀in👍🏽the👩‍💻middle",
        "\u00ad\u2060soft\u00adhyphen",
        "control\x01\x02\x03chars\x7f\u0080\u009f",
        "ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ",
        "...!!!???,,,;;;",
        "İstanbul ΣΟΦΟΣ straße ǅemal",
    ]
    while len(lines) < 1200:
        lines.append(line(rng))
    for text in lines:
        assert "\n" not in text and "\r" not in text
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
