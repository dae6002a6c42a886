// Files in and out, as the tools use them: a whole input file read with the
// library's checks, a whole output file written atomically, and NumPy .npy arrays (token ids in, hidden states,
// logits and embeddings out). Every failure throws nystrom::Error with a
// one-line message naming the file.
//
// .npy: only the three dtypes the project exchanges are supported: "<i8"
// (int64), "<i4" (int32) and "<f4" (float32), C order. Layout: "\x93NUMPY",
// major, minor, header length (u16 for 1.0, u32 for 2.0 and 3.0), then a
// Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// padded with spaces and a newline, then the raw little-endian data.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nystrom/export.h"

namespace nystrom {

// The bytes of a regular file, sized by fstat (never by what the file says
// about itself). Throws Error when it cannot be opened, is not a regular
// file, does not fit in memory's address space, or shrinks while read.
NYSTROM_API std::vector<uint8_t> read_whole_file(const std::string& path);

// Writes size bytes as the file at path: it appears whole or not at all (a
// temporary beside it, renamed into place; a device or FIFO is written in
// place, "-" is standard output). Throws Error naming the path on failure.
NYSTROM_API void write_whole_file(const std::string& path, const void* data, size_t size);

struct NYSTROM_API NpyArray {
  std::string dtype;            // "<i8", "<i4" or "<f4"
  std::vector<uint64_t> shape;  // empty for a 0-d array (one element)
  std::vector<uint8_t> data;    // count() * element size bytes, little-endian
  uint64_t count() const;       // product of shape
};

// Reads and validates a whole file; throws Error naming the file on anything
// malformed, an unsupported dtype, fortran_order True, or a data size that
// does not match the shape (too little or too much).
NYSTROM_API NpyArray read_npy(const std::string& path);

// Writes count(shape) elements from data as a C-order array, version 1.0
// (2.0 only if the header needs it), with the header padded so that the data
// starts at a multiple of 64 bytes, byte-for-byte as numpy.save does. dtype
// must be "<i8", "<i4" or "<f4". The file appears whole or not at all.
NYSTROM_API void write_npy(const std::string& path, const std::string& dtype, const std::vector<uint64_t>& shape,
                           const void* data);

// Token ids: a "<i8" or "<i4" array of shape (n,) or (1, n).
NYSTROM_API std::vector<int64_t> read_npy_ids(const std::string& path);

// A "<f4" array of any shape; its shape goes to *shape_out when given.
NYSTROM_API std::vector<float> read_npy_f32(const std::string& path, std::vector<uint64_t>* shape_out = nullptr);

}  // namespace nystrom
