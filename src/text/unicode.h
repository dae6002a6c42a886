// The Unicode character data the tokenizers need, from tables generated
// offline (tools/text/gen_unicode_tables.py -> unicode_tables.inc): general
// categories, the properties Hugging Face's Rust code tests (White_Space,
// Alphabetic, regex \w), normalization forms and lower-casing.
#pragma once
#include <string>
#include <string_view>

namespace nystrom::text::unicode {

// In the order of the generator's CATEGORIES list.
enum class Category : unsigned char {
  Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po,
  Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co, Cn
};

Category category(char32_t c);

bool is_letter(char32_t c);       // L*
bool is_mark(char32_t c);         // M*
bool is_number(char32_t c);       // N* (Rust's char::is_numeric)
bool is_punctuation(char32_t c);  // P*
bool is_other(char32_t c);        // C* (Cc, Cf, Cs, Co, Cn)
bool is_white_space(char32_t c);  // the White_Space property (char::is_whitespace)
bool is_alphabetic(char32_t c);   // the Alphabetic property
bool is_alphanumeric(char32_t c); // char::is_alphanumeric: Alphabetic or N*
bool is_word_char(char32_t c);    // regex \w: Alphabetic, M*, Nd, Pc, Join_Control

int combining_class(char32_t c);

// The normalization forms of UAX #15 (Hangul syllables included).
std::u32string nfd(std::u32string_view s);
std::u32string nfkd(std::u32string_view s);
std::u32string nfc(std::u32string_view s);
std::u32string nfkc(std::u32string_view s);

// The end of the grapheme cluster that starts at i < s.size(), by the rules
// of UAX #29 that keep short sequences together: CR LF; controls alone;
// marks, joiners and spacing marks with what precedes them; Prepend
// characters with what follows (GB3-GB5, GB9-GB9b). The Hangul, emoji and
// regional-indicator rules (GB6-GB8, GB11-GB13) are left out: they only ever
// join characters into clusters of six or more UTF-8 bytes, and clusters
// that long are taken one character at a time by the one user (Hugging
// Face's Precompiled normalizer).
size_t grapheme_end(std::u32string_view s, size_t i);

// Appends the full lower-case mapping of c (one or more code points).
void append_lower(char32_t c, std::u32string& out);
std::u32string lower(std::u32string_view s);

}  // namespace nystrom::text::unicode
