// Internal access to a Session's workspace, for profiling (nystrom-bench).
#pragma once
#include "model/forward.h"
#include "nystrom/nystrom.h"

namespace nystrom {

struct SessionAccess {
  static Workspace& workspace(Session& s);
};

}  // namespace nystrom
