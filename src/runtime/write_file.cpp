#include "nystrom/io.h"
#include "runtime/atomic_file.h"

namespace nystrom {

void write_whole_file(const std::string& path, const void* data, size_t size) {
  AtomicFile out(path);
  out.write(data, size);
  out.commit();
}

}  // namespace nystrom
