#!/usr/bin/env python3
"""Writes tests/data/spm/corpus.txt, the text the SentencePiece tests train on and
encode with both spm and the engine. Seeded, so a rerun gives the same file.

Each line mixes a few of: English, accented Latin (precomposed and, through
NFD, combining forms), Greek, Cyrillic, Chinese, Japanese kana, emoji
(ZWJ sequences, skin tones, flags, keycaps), numbers, very long words, odd
whitespace (tabs, runs of spaces, NBSP, ideographic and other Unicode
spaces, leading and trailing), forms NFKC rewrites (full-width, half-width
kana, ligatures, circled and super/subscript digits, compatibility units),
control and invisible characters, and (rarely) malformed UTF-8 bytes.

  python3 tests/data/spm/make_corpus.py > tests/data/spm/corpus.txt
"""
import random
import sys
import unicodedata

ENGLISH = """the of and to in is was for on that with as by at from his her it an were are which
this be or has had not but they their one all also first new two after who its been more
other when some into time only over most can would such years people than made then there
about while many between during these through where before world may could because however
language model token sentence piece unigram vocabulary encoder attention landmark matrix
approximation softmax kernel segment long sequence benchmark accuracy training inference
quick brown fox jumps lazy dog river mountain window kitchen garden library teacher winter
summer morning evening yesterday tomorrow beautiful wonderful terrible running swimming
don't can't isn't we'll they're I'm you've o'clock rock'n'roll e-mail well-known state-of-the-art
Hello World OpenAI Python JavaScript McDonald iPhone NASA UNESCO COVID-19 Mr. Dr. St. e.g. i.e.""".split()

LATIN_ACCENTED = """café naïve résumé façade déjà vu coöperate jalapeño piñata señor mañana
über Straße Mädchen Grüße schön Fußball Ärger Öl Äpfel Zürich München Köln
garçon français élève hôpital être où forêt Noël château crème brûlée
São Paulo coração ação não português informação João
Łódź Kraków źródło żółć gęś jaźń Gdańsk
český Dvořák příliš žluťoučký kůň úpěl ďábelské ódy
Tiếng Việt Nguyễn Hà Nội phở bánh mì cảm ơn
Ångström Ærø Øresund smørrebrød fjörður Þór Íslands
İstanbul ışık çocuk öğretmen şehir ğ""".split()

GREEK = """Καλημέρα κόσμε Ελλάδα Αθήνα φιλοσοφία λόγος ἀρχή θάλασσα ψυχή ευχαριστώ
αλφάβητο μαθηματικά δημοκρατία Ὅμηρος Ἰλιάς ΣΟΦΙΑ ΟΔΥΣΣΕΙΑ ς σ""".split()

CYRILLIC = """Привет мир Москва Россия язык модель токенизатор внимание длинная последовательность
Україна Київ їжак ґанок Беларусь ў Српски Ђорђе Љубљана Њујорк Македонија ѓ ќ
ЁЛКА ёжик щука съешь же ещё этих мягких французских булок""".split()

CHINESE = """我们 今天 天气 很好 北京 上海 中国 人工智能 自然语言处理 机器学习 注意力 机制
长序列 近似 模型 训练 推理 你好 世界 谢谢 再见 學習 語言 國家 電腦 龍 鬱""".split()

JAPANESE = """こんにちは ありがとう さようなら ひらがな カタカナ 東京 日本語 漢字 ラーメン
コンピューター トークナイザー おはようございます すし てんぷら ヴァイオリン ぱぴぷぺぽ
がぎぐげご ッ ー ゝ ヽ""".split()

KOREAN = "안녕하세요 한국어 서울 감사합니다 대한민국".split()

EMOJI = ["😀", "😂", "🥲", "❤️", "👍", "👍🏽", "🙏🏿", "🎉", "🚀", "🌍", "🇫🇷", "🇯🇵", "🏳️‍🌈",
         "👨‍👩‍👧‍👦", "👩‍💻", "🧑🏾‍🚀", "❤️‍🔥", "🐻‍❄️", "1️⃣", "#️⃣", "©", "™", "☕", "⚡", "🫠"]

# Characters NFKC changes (nmt_nfkc applies NFKC).
COMPAT = ["ﬁ", "ﬂ", "ﬀ", "Ⅻ", "ⅷ", "①", "⑳", "²", "³", "₂", "½", "¼", "㎏", "㎞", "℃", "№",
          "™", "…", "‥", "ｶﾀｶﾅ", "ﾊﾞﾅﾅ", "ｱｲｳ", "㍻", "㌔", "ℌ", "ℕ", "ﬃ", "µ", "Ω", "Å", "ǅ",
          "ſ", "ｰ", "ﾟ", "〜", "～"]

SPACES = [" ", "  ", "   ", "\t", " \t ", "\u00a0", "\u3000", "\u2002", "\u2003", "\u2009",
          "\u200a", "\u202f", "\u205f", "\u1680", "\u2028", "\u0085"]

CONTROLS = ["\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x9f", "\u200b",
            "\u200c", "\u200d", "\u200e", "\ufeff", "\u00ad", "\u2060", "\r"]

rng = random.Random(20240517)


def fullwidth(word):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)


def combining(word):
    return unicodedata.normalize("NFD", word)


def pick(weighted):
    """Calls one of the (weight, make) pairs, chosen by weight."""
    r = rng.random() * sum(w for w, _ in weighted)
    for w, make in weighted:
        if r < w:
            return make()
        r -= w
    return weighted[-1][1]()


def number():
    return pick([
        (1, lambda: str(rng.randrange(10 ** rng.randrange(1, 12)))),
        (1, lambda: f"{rng.uniform(-1000, 1000):.{rng.randrange(1, 6)}f}"),
        (1, lambda: f"{rng.randrange(1900, 2100)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"),
        (1, lambda: f"{rng.randrange(1, 1000000):,}".replace(",", rng.choice([",", ".", " ", "\u202f"]))),
        (1, lambda: f"+1 (555) {rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"),
        (1, lambda: rng.choice(["3.14159", "1e-9", "0x1F", "v2.0.1", "42%", "$19.99", "€5", "£3", "¥100", "٣٤٥", "१२३"])),
    ])


SYLLABLES = ["ka", "lo", "mi", "nu", "ter", "ion", "ab", "zy", "que", "str", "é", "ñ", "ß"]


def long_word():
    return pick([
        (1, lambda: "".join(rng.choice(SYLLABLES) for _ in range(rng.randrange(20, 120)))),
        (1, lambda: "https://example.com/" + "/".join(rng.choice(ENGLISH) for _ in range(rng.randrange(5, 25)))
         + "?q=" + str(rng.randrange(10 ** 9))),
        (1, lambda: rng.choice("abcxyz-_=*.") * rng.randrange(30, 200)),
        (1, lambda: "".join(rng.choice(CHINESE) for _ in range(rng.randrange(15, 60)))),
        (1, lambda: "Donaudampfschifffahrtsgesellschaftskapitän" * rng.randrange(1, 5)),
    ])


def english():
    w = rng.choice(ENGLISH)
    r = rng.random()
    return fullwidth(w) if r < 0.05 else w.upper() if r < 0.1 else w


def accented():
    w = rng.choice(LATIN_ACCENTED)
    return combining(w) if rng.random() < 0.4 else w


def word():
    return pick([
        (34, english),
        (14, accented),
        (5, lambda: rng.choice(GREEK)),
        (5, lambda: rng.choice(CYRILLIC)),
        (5, lambda: rng.choice(CHINESE)),
        (5, lambda: rng.choice(JAPANESE)),
        (2, lambda: rng.choice(KOREAN)),
        (6, lambda: rng.choice(EMOJI)),
        (8, number),
        (5, lambda: rng.choice(COMPAT)),
        (3, lambda: rng.choice(",.;:!?()[]{}\"'«»„“”‘’–—-/\\@&*#")),
        (2, long_word),
        (6, lambda: rng.choice(ENGLISH) + rng.choice(CONTROLS) + rng.choice(ENGLISH)),
    ])


def separator():
    return pick([(82, lambda: " "), (15, lambda: rng.choice(SPACES)), (3, lambda: "")])


def line(i):
    n = rng.randrange(1, 25) if rng.random() < 0.9 else rng.randrange(40, 120)
    parts = []
    for k in range(n):
        if k:
            parts.append(separator())
        parts.append(word())
    text = "".join(parts)
    r = rng.random()
    if r < 0.08:
        text = rng.choice(SPACES) + text
    elif r < 0.16:
        text = text + rng.choice(SPACES)
    elif r < 0.20:
        text = "   " + text + "\t\t "
    if "\r" in text and text.endswith("\r"):
        text += "."  # keep CR inside the line, never as a line ending
    return text


def main():
    out = sys.stdout.buffer
    lines = [line(i) for i in range(1200)]
    # Lines of only whitespace or invisible characters, and a few odd ones.
    lines += [" ", "\t", "\u3000\u3000", "\u00a0", "\u200b", "▁", "▁▁ ▁", "a", "A", "é", "e\u0301",
              "ﬁ", "Ⅻ", "😀", "👨‍👩‍👧‍👦", "1", " leading", "trailing ", "  both  "]
    for text in lines:
        assert "\n" not in text
        out.write(text.encode("utf-8") + b"\n")
    # Malformed UTF-8: each bad byte reads as U+FFFD in both spm and the engine.
    for bad in [b"abc\xffdef", b"\xc3(", b"\xe2\x82 euro", b"\xf0\x9f\x98", b"caf\xc3", b"\xed\xa0\x80 surrogate",
                b"\xc0\xaf overlong", b"\x80\x80 lone continuation"]:
        out.write(bad + b"\n")


if __name__ == "__main__":
    main()
