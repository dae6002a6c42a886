// A minimal reader of the protobuf wire format, enough for SentencePiece's
// `spiece.model` (a serialized ModelProto). It walks the fields of one
// message in order; the caller picks the fields it knows and skips the rest.
//
//   ProtoReader r(bytes, "spiece.model");
//   while (r.next())
//     if (r.field() == 1) parse_piece(r.bytes()); else r.skip();
//
// Every read is bounds-checked: a truncated or malformed message throws
// nystrom::Error naming the source and the byte offset, never reads past the
// buffer. Groups (wire types 3 and 4, deprecated) are rejected.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nystrom::text {

enum class WireType : uint8_t { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 };

class ProtoReader {
 public:
  // `source` names the message in error messages ("spiece.model",
  // "spiece.model: trainer_spec"); the reader keeps a copy of it.
  ProtoReader(std::string_view data, std::string source);

  // Reads the next field's key; false at the end of the message. After a
  // true, exactly one of the readers below (or skip) consumes the value.
  bool next();
  uint32_t field() const { return field_; }
  WireType wire_type() const { return wire_; }

  // The value of the current field, which must have the matching wire type.
  uint64_t varint();
  int32_t int32() { return static_cast<int32_t>(varint()); }  // as protobuf truncates
  bool boolean() { return varint() != 0; }
  uint64_t fixed64();
  uint32_t fixed32();
  float float32();
  std::string_view bytes();  // a view into the data given to the constructor

  void skip();

  const std::string& source() const { return source_; }

 private:
  uint64_t read_varint(const char* what);
  uint64_t little_endian(size_t size, const char* what);
  void expect(WireType wire);
  [[noreturn]] void malformed(const char* what) const;

  std::string_view data_;
  size_t pos_ = 0;
  size_t field_start_ = 0;  // offset of the current field's key, for messages
  uint32_t field_ = 0;
  WireType wire_ = WireType::Varint;
  bool pending_ = false;  // a key was read and its value not yet consumed
  std::string source_;
};

}  // namespace nystrom::text
