#include "text/protobuf.h"

#include <cstring>
#include <utility>

#include "runtime/error.h"

namespace nystrom::text {

namespace {

const char* wire_name(WireType wire) {
  switch (wire) {
    case WireType::Varint: return "varint";
    case WireType::Fixed64: return "64-bit";
    case WireType::Bytes: return "length-delimited";
    case WireType::Fixed32: return "32-bit";
  }
  return "?";
}

}  // namespace

ProtoReader::ProtoReader(std::string_view data, std::string source) : data_(data), source_(std::move(source)) {}

void ProtoReader::malformed(const char* what) const {
  fail(source_, ": malformed protobuf at byte ", pos_, ": ", what);
}

uint64_t ProtoReader::read_varint(const char* what) {
  uint64_t value = 0;
  // At most 10 bytes carry 64 bits; the 10th may only hold the top bit.
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= data_.size()) malformed(what);
    uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
    if (i == 9 && byte > 1) malformed("varint longer than 64 bits");
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if (!(byte & 0x80)) return value;
  }
  malformed("varint longer than 10 bytes");
}

bool ProtoReader::next() {
  if (pending_) skip();
  if (pos_ >= data_.size()) return false;
  field_start_ = pos_;
  uint64_t key = read_varint("truncated field key");
  uint64_t number = key >> 3;
  if (number == 0 || number > 0x1fffffff) malformed("invalid field number");
  uint32_t wire = static_cast<uint32_t>(key & 7);
  if (wire == 3 || wire == 4) malformed("groups are not supported");
  if (wire != 0 && wire != 1 && wire != 2 && wire != 5) malformed("invalid wire type");
  field_ = static_cast<uint32_t>(number);
  wire_ = static_cast<WireType>(wire);
  pending_ = true;
  return true;
}

void ProtoReader::expect(WireType wire) {
  if (!pending_) fail(source_, ": protobuf field value read twice or before next()");
  if (wire_ != wire)
    fail(source_, ": field ", field_, " at byte ", field_start_, " is ", wire_name(wire_), ", expected ",
         wire_name(wire));
  pending_ = false;
}

uint64_t ProtoReader::varint() {
  expect(WireType::Varint);
  return read_varint("truncated varint");
}

uint64_t ProtoReader::little_endian(size_t size, const char* what) {
  if (data_.size() - pos_ < size) malformed(what);
  uint64_t value = 0;
  for (size_t i = size; i-- > 0;) value = (value << 8) | static_cast<uint8_t>(data_[pos_ + i]);
  pos_ += size;
  return value;
}

uint64_t ProtoReader::fixed64() {
  expect(WireType::Fixed64);
  return little_endian(8, "truncated 64-bit value");
}

uint32_t ProtoReader::fixed32() {
  expect(WireType::Fixed32);
  return static_cast<uint32_t>(little_endian(4, "truncated 32-bit value"));
}

float ProtoReader::float32() {
  uint32_t bits = fixed32();
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

std::string_view ProtoReader::bytes() {
  expect(WireType::Bytes);
  uint64_t length = read_varint("truncated length");
  if (length > data_.size() - pos_) malformed("length runs past the end");
  std::string_view value = data_.substr(pos_, static_cast<size_t>(length));
  pos_ += static_cast<size_t>(length);
  return value;
}

void ProtoReader::skip() {
  switch (wire_) {
    case WireType::Varint: varint(); break;
    case WireType::Fixed64: fixed64(); break;
    case WireType::Bytes: bytes(); break;
    case WireType::Fixed32: fixed32(); break;
  }
}

}  // namespace nystrom::text
