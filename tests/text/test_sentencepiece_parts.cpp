// The parts of the SentencePiece tokenizer, each on inputs built by hand:
// the protobuf reader, the precompiled charsmap (a double-array trie laid
// out here unit by unit), SentencePiece's whitespace rules, the unigram
// Viterbi in both flavours, and spiece.model files that are malformed or
// unsupported. tests/text/test_sentencepiece.cpp compares the whole against spm.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "nystrom/nystrom.h"
#include "text/precompiled_normalizer.h"
#include "text/protobuf.h"
#include "text/sentencepiece.h"
#include "text/unigram.h"
#include "test_tokenizer_support.h"

using nystrom::text::PrecompiledNormalizer;
using nystrom::text::ProtoReader;
using nystrom::text::SpmNormalizer;
using nystrom::text::SpmWhitespace;
using nystrom::text::UnigramModel;
using nystrom::text::WireType;

namespace {

// ------------------------------------------------ writing protobuf by hand

std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    out += static_cast<char>(v ? byte | 0x80 : byte);
  } while (v);
  return out;
}
std::string key(int field, int wire) { return varint(static_cast<uint64_t>(field) << 3 | wire); }
std::string field_varint(int field, uint64_t v) { return key(field, 0) + varint(v); }
std::string field_bytes(int field, const std::string& b) { return key(field, 2) + varint(b.size()) + b; }
std::string field_float(int field, float f) {
  char raw[4];
  std::memcpy(raw, &f, 4);
  return key(field, 5) + std::string(raw, 4);
}

// ModelProto.SentencePiece types.
enum { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6 };

std::string piece(const std::string& text, float score, int type = NORMAL) {
  std::string p = field_bytes(1, text) + field_float(2, score);
  if (type != NORMAL) p += field_varint(3, type);
  return field_bytes(1, p);
}

// A small ALBERT-like model: <pad> <unk> [CLS] [SEP] [MASK], then pieces.
std::string small_model(const std::string& normalizer_spec = "", int model_type = 1) {
  std::string m = piece("<pad>", 0, CONTROL) + piece("<unk>", 0, UNKNOWN) + piece("[CLS]", 0, CONTROL) +
                  piece("[SEP]", 0, CONTROL) + piece("[MASK]", 0, CONTROL) + piece("\xe2\x96\x81", -2) +
                  piece("a", -3) + piece("b", -3) + piece("\xe2\x96\x81" "ab", -1) + piece("c", -4);
  m += field_bytes(2, field_varint(3, model_type) + field_varint(40, 1));  // trainer_spec
  m += field_bytes(3, normalizer_spec);
  return m;
}

std::vector<int32_t> encode(std::string_view model, std::string_view text, bool special = false) {
  return nystrom::text::make_sentencepiece_tokenizer(model, {})->encode(text, special);
}

// ------------------------------------------- a double-array trie by hand

// Rules a->"x", ab->"y", c->"" laid out as Darts-clone would: the root's
// children at 256 ^ byte, 'a' with its leaf at 384 and child 'b' at
// 384 ^ 'b', "ab"'s leaf at 272, 'c' with its leaf at 416. Unused units get
// a label that never equals the byte that leads to them.
std::vector<uint32_t> small_trie() {
  std::vector<uint32_t> units(512);
  for (uint32_t i = 0; i < units.size(); ++i) units[i] = (i & 0xff) ^ 1;
  auto node = [](uint32_t label, bool leaf, uint32_t offset) { return label | (leaf ? 1u << 8 : 0) | offset << 10; };
  const uint32_t value = 0x80000000u;
  units[0] = node(0, false, 256);
  units[256 ^ 'a'] = node('a', true, (256 ^ 'a') ^ 384);
  units[384] = value | 0;  // "x"
  units[384 ^ 'b'] = node('b', true, (384 ^ 'b') ^ 272);
  units[272] = value | 2;  // "y"
  units[256 ^ 'c'] = node('c', true, (256 ^ 'c') ^ 416);
  units[416] = value | 4;  // ""
  return units;
}

std::string charsmap_blob(const std::vector<uint32_t>& units, const std::string& pool) {
  std::string blob;
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) blob += static_cast<char>(v >> (8 * i));
  };
  put32(static_cast<uint32_t>(units.size() * 4));
  for (uint32_t u : units) put32(u);
  return blob + pool;
}

const std::string kPool("x\0y\0\0", 5);

}  // namespace

// ------------------------------------------------------------------ protobuf

TEST_CASE("sentencepiece protobuf: reads varints, fixed fields and bytes, skipping unknown ones") {
  std::string msg = field_varint(1, 150) + field_varint(2, UINT64_MAX) + key(3, 1) + std::string("\x01\0\0\0\0\0\0\x80", 8) +
                    field_float(4, 1.5f) + field_bytes(5, "hello") + field_varint(9, 7) + field_bytes(6, "");
  ProtoReader r(msg, "test");
  REQUIRE(r.next());
  CHECK(r.field() == 1);
  CHECK(r.varint() == 150);
  REQUIRE(r.next());
  CHECK(r.varint() == UINT64_MAX);  // ten bytes
  REQUIRE(r.next());
  CHECK(r.wire_type() == WireType::Fixed64);
  CHECK(r.fixed64() == 0x8000000000000001ull);  // little-endian
  REQUIRE(r.next());
  CHECK(r.float32() == 1.5f);
  REQUIRE(r.next());
  CHECK(r.bytes() == "hello");
  REQUIRE(r.next());
  CHECK(r.field() == 9);  // not read: next() skips it
  REQUIRE(r.next());
  CHECK(r.field() == 6);
  CHECK(r.bytes().empty());
  CHECK_FALSE(r.next());
}

TEST_CASE("sentencepiece protobuf: negative int32 values are ten-byte varints, truncated to 32 bits") {
  std::string msg = field_varint(1, static_cast<uint64_t>(int64_t{-1}));
  ProtoReader r(msg, "test");
  REQUIRE(r.next());
  CHECK(r.int32() == -1);
}

TEST_CASE("sentencepiece protobuf: malformed input is a one-line error, never an over-read") {
  auto walk = [](const std::string& msg) {
    ProtoReader r(msg, "test.model");
    while (r.next()) r.skip();
  };
  CHECK_ERROR(walk("\x08"), "test.model: malformed protobuf at byte 1: truncated varint");
  CHECK_ERROR(walk("\x08\x80\x80"), "truncated varint");
  CHECK_ERROR(walk("\x08" + std::string(10, '\xff') + "\x01"), "varint longer than");
  CHECK_ERROR(walk("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"), "varint longer than 64 bits");
  CHECK_ERROR(walk("\x0a\x05" "abc"), "length runs past the end");
  CHECK_ERROR(walk("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), "length runs past the end");
  CHECK_ERROR(walk("\x09" "1234567"), "truncated 64-bit value");
  CHECK_ERROR(walk("\x0d" "123"), "truncated 32-bit value");
  CHECK_ERROR(walk("\x0b"), "groups are not supported");
  CHECK_ERROR(walk("\x0e"), "invalid wire type");
  CHECK_ERROR(walk(std::string("\x00\x01", 2)), "invalid field number");
  CHECK_ERROR(walk("\x80"), "truncated field key");

  std::string msg = field_varint(2, 5);
  ProtoReader r(msg, "test.model");
  REQUIRE(r.next());
  CHECK_ERROR(r.bytes(), "test.model: field 2 at byte 0 is varint, expected length-delimited");
}

// ------------------------------------------------------- precompiled charsmap

TEST_CASE("sentencepiece charsmap: the longest rule wins, else one UTF-8 character is copied") {
  PrecompiledNormalizer map(charsmap_blob(small_trie(), kPool));
  CHECK(map.normalize("abcab") == "yy");  // "ab" -> y, "c" -> nothing
  CHECK(map.normalize("aab") == "xy");
  CHECK(map.normalize("ba") == "bx");
  CHECK(map.normalize("\xc3\xa9" "a") == "\xc3\xa9" "x");  // é is copied whole
  CHECK(map.normalize("\xff" "a") == "\xef\xbf\xbd" "x");  // a malformed byte reads as U+FFFD
  CHECK(map.normalize("\xe2\x82") == "\xef\xbf\xbd\xef\xbf\xbd");  // one U+FFFD per byte of a truncated character
  CHECK(map.normalize("") == "");

  std::vector<PrecompiledNormalizer::Match> matches;
  map.prefix_matches("abz", matches);
  REQUIRE(matches.size() == 2);
  CHECK(matches[0].length == 1);
  CHECK(matches[0].replacement == "x");
  CHECK(matches[1].length == 2);
  CHECK(matches[1].replacement == "y");
  map.prefix_matches("za", matches);
  CHECK(matches.empty());
}

TEST_CASE("sentencepiece charsmap: an empty blob has no rules") {
  PrecompiledNormalizer map("");
  CHECK(map.empty());
  CHECK(map.normalize("ab\xff") == "ab\xef\xbf\xbd");
}

TEST_CASE("sentencepiece charsmap: a corrupt blob is refused when loaded") {
  CHECK_ERROR(PrecompiledNormalizer("abc"), "precompiled charsmap: blob of 3 bytes is too short");

  std::string blob = charsmap_blob(small_trie(), kPool);
  std::string big = blob;
  big[1] = '\x7f';  // trie size far beyond the blob
  CHECK_ERROR(PrecompiledNormalizer(big), "exceeds the blob");
  std::string odd = blob;
  odd[0] = '\xfe';  // 2046 bytes
  odd[1] = '\x07';
  CHECK_ERROR(PrecompiledNormalizer(odd), "not a positive multiple of 4");
  CHECK_ERROR(PrecompiledNormalizer(blob + "z"), "do not end with a null byte");

  auto units = small_trie();
  units[256 ^ 'a'] = (units[256 ^ 'a'] & 0x3ff) | ((256 ^ 'a') ^ 600) << 10;  // children at 600, beyond 512 units
  CHECK_ERROR(PrecompiledNormalizer(charsmap_blob(units, kPool)), "points outside the trie");
  units = small_trie();
  units[384] = 0x80000000u | 5;  // past the 5-byte pool
  CHECK_ERROR(PrecompiledNormalizer(charsmap_blob(units, kPool)), "replacement offset outside the blob");
  units = small_trie();
  units[384] = 0;  // a leaf that is not a value
  CHECK_ERROR(PrecompiledNormalizer(charsmap_blob(units, kPool)), "replacement offset outside the blob");
  units = small_trie();
  units[0] = 0x80000000u;
  CHECK_ERROR(PrecompiledNormalizer(charsmap_blob(units, kPool)), "root is a value");
}

// ------------------------------------------------------- whitespace rules

TEST_CASE("sentencepiece normalizer: whitespace as spm treats it") {
  auto norm = [](std::string_view text, SpmWhitespace ws) { return SpmNormalizer(std::nullopt, ws).normalize(text); };
  const std::string U = "\xe2\x96\x81";  // ▁
  SpmWhitespace defaults;
  CHECK(norm("  Hello   world  ", defaults) == U + "Hello" + U + "world");
  CHECK(norm("   ", defaults) == "");
  CHECK(norm("", defaults) == "");
  CHECK(norm("a\tb", defaults) == U + "a\tb");  // only ' ' is a space without a charsmap

  SpmWhitespace keep = defaults;
  keep.remove_extra_whitespaces = false;
  CHECK(norm("  a  b ", keep) == U + U + U + "a" + U + U + "b" + U);

  SpmWhitespace no_prefix = defaults;
  no_prefix.add_dummy_prefix = false;
  CHECK(norm(" a b", no_prefix) == "a" + U + "b");

  SpmWhitespace unescaped = defaults;
  unescaped.escape_whitespaces = false;
  CHECK(norm("a   b ", unescaped) == " a b");

  SpmWhitespace suffix = defaults;
  suffix.treat_whitespace_as_suffix = true;
  CHECK(norm(" a b ", suffix) == "a" + U + "b" + U);
}

TEST_CASE("sentencepiece normalizer: user-defined symbols are copied verbatim, before the charsmap") {
  PrecompiledNormalizer map(charsmap_blob(small_trie(), kPool));
  auto ab = [](std::string_view text) -> size_t { return text.substr(0, 2) == "ab" ? 2 : 0; };
  SpmNormalizer with(map, SpmWhitespace{}, ab);
  SpmNormalizer without(map, SpmWhitespace{});
  CHECK(with.normalize("abab a") == "\xe2\x96\x81" "abab\xe2\x96\x81x");
  CHECK(without.normalize("abab a") == "\xe2\x96\x81" "yy\xe2\x96\x81x");
}

// --------------------------------------------------------------- unigram

TEST_CASE("unigram: Viterbi picks the segmentation with the highest total score") {
  UnigramModel m({{"<unk>", 0}, {"a", -1}, {"b", -1}, {"ab", -1.5}, {"abc", -5}, {"c", -3}}, 0, false);
  std::vector<int32_t> ids;
  m.encode("ab", ids);
  CHECK(ids == std::vector<int32_t>{3});
  ids.clear();
  m.encode("abc", ids);
  CHECK(ids == std::vector<int32_t>{3, 5});  // -4.5 beats "abc" at -5
  ids.clear();
  m.encode("", ids);
  CHECK(ids.empty());
}

TEST_CASE("unigram: a run of unknown characters is one unknown token; byte fallback spells its bytes") {
  std::vector<std::pair<std::string, double>> vocab = {{"<unk>", 0}, {"a", -1}};
  UnigramModel plain(vocab, 0, false);
  std::vector<int32_t> ids;
  plain.encode("xy\xc3\xa9" "a" "z", ids);
  CHECK(ids == std::vector<int32_t>{0, 1, 0});

  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab.emplace_back(name, 0);
  }
  UnigramModel bytes(vocab, 0, true);
  ids.clear();
  bytes.encode("\xc3\xa9" "a", ids);
  CHECK(ids == std::vector<int32_t>{2 + 0xc3, 2 + 0xa9, 1});

  vocab[2 + 0xa9].first = "<0xA9?>";  // without <0xA9>, a run holding that byte is <unk>
  UnigramModel partial(vocab, 0, true);
  ids.clear();
  partial.encode("\xc3\xa9" "ab", ids);
  CHECK(ids == std::vector<int32_t>{0, 1, 2 + 'b'});
}

TEST_CASE("unigram: without an unk id, an unknown character is an error") {
  UnigramModel m({{"a", -1}}, -1, false);
  std::vector<int32_t> ids;
  m.encode("aa", ids);
  CHECK(ids == std::vector<int32_t>{0, 0});
  CHECK_ERROR(m.encode("ab", ids), "no unk id");
}

TEST_CASE("unigram (SentencePiece): user-defined pieces always win, unused and control pieces never match") {
  using P = UnigramModel::Piece;
  using T = UnigramModel::Type;
  auto m = UnigramModel::sentencepiece({P{"<unk>", 0, T::Unknown}, P{"<s>", 0, T::Control}, P{"a", -1, T::Normal},
                                        P{"b", -1, T::Normal}, P{"ab", -0.1, T::Unused}, P{"bb", 0, T::UserDefined},
                                        P{"<", -1, T::Normal}},
                                       0, false);
  std::vector<int32_t> ids;
  m.encode("abbab<s>", ids);
  // "bb" beats a+b+b scores; "ab" is unused; "<s>" is not matched as a whole.
  CHECK(ids == std::vector<int32_t>{2, 5, 2, 3, 6, 0});
}

TEST_CASE("unigram (SentencePiece): vocabularies spm refuses are refused") {
  using P = UnigramModel::Piece;
  using T = UnigramModel::Type;
  CHECK_ERROR(UnigramModel::sentencepiece({P{"<unk>", 0, T::Normal}}, 0, false), "is not the unknown piece");
  CHECK_ERROR(UnigramModel::sentencepiece({P{"<unk>", 0, T::Unknown}, P{"a", 0}, P{"a", -1}}, 0, false),
              "piece 'a' is defined twice");
  CHECK_ERROR(UnigramModel::sentencepiece({P{"<unk>", 0, T::Unknown}, P{"", 0}}, 0, false), "piece 1 is empty");
  CHECK_ERROR(UnigramModel::sentencepiece({P{"<unk>", 0, T::Unknown}}, 0, true), "piece <0x00> is missing");
  CHECK_ERROR(UnigramModel::sentencepiece({P{"<unk>", 0, T::Unknown}, P{"<0x41>", 0, T::Byte}}, 0, false),
              "without byte_fallback");
}

TEST_CASE("unigram: a long word costs time linear in its length") {
  std::vector<std::pair<std::string, double>> vocab = {{"<unk>", 0}};
  for (int n = 1; n <= 16; ++n) vocab.emplace_back(std::string(n, 'a'), -1.0 - 0.01 * n);
  UnigramModel m(vocab, 0, false);
  std::string text(200000, 'a');
  std::vector<int32_t> ids;
  auto t0 = std::chrono::steady_clock::now();
  m.encode(text, ids);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(ids.size() == 12500);  // 16-character pieces
  CHECK(seconds < 2.0);
}

// ------------------------------------------------------------ spiece.model

TEST_CASE("sentencepiece model: a hand-built model encodes with its [CLS]/[SEP] template and [MASK]") {
  std::string model = small_model();
  auto tok = nystrom::text::make_sentencepiece_tokenizer(model, {});
  CHECK(tok->encode("ab  ab", false) == std::vector<int32_t>{8, 8});
  CHECK(tok->encode(" ab c", true) == std::vector<int32_t>{2, 8, 5, 9, 3});
  CHECK(tok->encode("", true) == std::vector<int32_t>{2, 3});
  CHECK(tok->encode("abx", false) == std::vector<int32_t>{8, 1});
  CHECK(tok->num_special_tokens() == 2);
  CHECK(tok->mask_id() == 4);
  CHECK(tok->vocab_size() == 10);
  CHECK(std::string(tok->kind()) == "Unigram");
  CHECK(tok->token_to_id("\xe2\x96\x81" "ab") == 8);
  CHECK_FALSE(tok->token_to_id("zz").has_value());
  CHECK(tok->id_to_token(9) == "c");
  CHECK_ERROR(tok->id_to_token(10), "outside the vocabulary");
  CHECK(tok->decode({2, 8, 5, 9, 3}, true) == "ab c");
  CHECK(tok->decode({2, 8, 5, 9, 3}, false) == "[CLS] ab c [SEP]");

  nystrom::text::SentencePieceOptions options;
  options.prefix_ids = std::vector<int32_t>{};
  options.suffix_ids = std::vector<int32_t>{3, 0};
  options.lower_case = true;
  auto custom = nystrom::text::make_sentencepiece_tokenizer(model, options);
  CHECK(custom->encode("AB", true) == std::vector<int32_t>{8, 3, 0});
  options.suffix_ids = std::vector<int32_t>{10};
  CHECK_ERROR(nystrom::text::make_sentencepiece_tokenizer(model, options), "template id 10 is outside the vocabulary");
}

TEST_CASE("sentencepiece model: the normalizer spec's flags are honoured") {
  // remove_extra_whitespaces=false, add_dummy_prefix=false
  std::string model = small_model(field_varint(3, 0) + field_varint(4, 0));
  CHECK(encode(model, "ab ab") == std::vector<int32_t>{6, 7, 8});
  CHECK(encode(model, " ab") == std::vector<int32_t>{8});
  CHECK(encode(model, "  ab") == std::vector<int32_t>{5, 8});
}

TEST_CASE("sentencepiece model: malformed files are one-line errors") {
  CHECK_ERROR(encode("", ""), "spiece.model: the file is empty");
  CHECK_ERROR(encode("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", ""), "varint longer than");
  CHECK_ERROR(encode("\x0a\x80", ""), "spiece.model: malformed protobuf at byte 2: truncated length");
  CHECK_ERROR(encode(field_bytes(2, field_varint(3, 1)), ""), "the model has no pieces");
  CHECK_ERROR(encode(piece("a", -1) + piece("b", -1), ""), "no unknown piece");
  CHECK_ERROR(encode(piece("<unk>", 0, UNKNOWN) + piece("a", -1, 9), ""), "spiece.model: piece 1: unknown piece type 9");
  CHECK_ERROR(encode(piece("<unk>", 0, UNKNOWN) + field_bytes(1, field_float(2, -1)), ""), "piece 1 is empty");
  CHECK_ERROR(encode(field_bytes(1, field_varint(1, 5)), ""), "spiece.model: piece 0: field 1 at byte 0 is varint");
  CHECK_ERROR(encode(small_model(field_bytes(2, "\x10\x00\x00\x00" "abcd")), ""), "precompiled charsmap");

  // The hand-built charsmap with one offset sent out of range, inside a model.
  auto units = small_trie();
  units[256 ^ 'c'] = (units[256 ^ 'c'] & 0x3ff) | ((256 ^ 'c') ^ 4096) << 10;
  CHECK_ERROR(encode(small_model(field_bytes(2, charsmap_blob(units, kPool))), "a"), "points outside the trie");
  // ... and intact, it rewrites the text before the model sees it.
  CHECK(encode(small_model(field_bytes(2, charsmap_blob(small_trie(), kPool))), "ccb") == std::vector<int32_t>{5, 7});
}

TEST_CASE("sentencepiece model: every truncation of a model is an error or a smaller valid model") {
  std::string model = small_model(field_bytes(2, charsmap_blob(small_trie(), kPool)));
  int errors = 0;
  for (size_t n = 0; n < model.size(); ++n) {
    try {
      auto tok = nystrom::text::make_sentencepiece_tokenizer(std::string_view(model).substr(0, n), {});
      tok->encode("ab c", true);
    } catch (const nystrom::Error&) {
      ++errors;
    }
  }
  CHECK(errors > static_cast<int>(model.size()) / 2);
  CHECK_ERROR(encode(std::string_view(model).substr(0, model.size() - 1), ""), "spiece.model: malformed protobuf");
}

TEST_CASE("sentencepiece model: non-unigram model types are refused by name") {
  CHECK_ERROR(encode(small_model("", 2), ""), "BPE SentencePiece models are not supported (only UNIGRAM)");
  CHECK_ERROR(encode(small_model("", 3), ""), "WORD SentencePiece models are not supported");
  CHECK_ERROR(encode(small_model("", 4), ""), "CHAR SentencePiece models are not supported");
  CHECK_ERROR(encode(small_model("", 7), ""), "unknown model type 7");
}

TEST_CASE("sentencepiece model: randomly corrupted models load and encode, or fail with nystrom::Error") {
  const std::string model = small_model(field_bytes(2, charsmap_blob(small_trie(), kPool)));
  const std::vector<std::string> texts = {"ab c", " \xe2\x96\x81 abcab\xff", "", "c\xc3\xa9\xe2\x82"};
  std::mt19937 rng(5);
  int loaded = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bad = model;
    for (int k = 1 + static_cast<int>(rng() % 4); k > 0; --k) {
      size_t at = rng() % bad.size();
      switch (rng() % 3) {
        case 0: bad[at] = static_cast<char>(rng()); break;
        case 1: bad.erase(at, 1 + rng() % 8); break;
        default: bad[at] = static_cast<char>(bad[at] ^ (1 << (rng() % 8))); break;
      }
      if (bad.empty()) bad = "x";
    }
    try {
      auto tok = nystrom::text::make_sentencepiece_tokenizer(bad, {});
      for (const std::string& text : texts)
        for (int32_t id : tok->encode(text, true)) CHECK((id >= 0 && id < tok->vocab_size()));
      ++loaded;
    } catch (const nystrom::Error&) {
      ++refused;
    }
  }
  CHECK(loaded > 100);  // both outcomes happen: the corruptions are not all fatal
  CHECK(refused > 100);
}
