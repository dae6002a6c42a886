// Every exception leaving the public API is a nystrom::Error (issue 15): the
// guard at the API's edge, and the thread-count rule shared by OpenOptions
// and RunOptions.
#include <doctest/doctest.h>

#include <new>
#include <string>
#include <system_error>

#include "nystrom/nystrom.h"
#include "reference_models.h"
#include "runtime/error.h"
#include "runtime/thread_pool.h"
#include "support.h"

TEST_CASE("errors: guarded turns running out of memory and other standard exceptions into an Error") {
  using nystrom::guarded;
  CHECK(test::error_of([] { guarded("running the model", []() -> int { throw std::bad_alloc(); }); }) ==
        "out of memory while running the model");
  CHECK(test::error_of([] {
          guarded("starting a session", [] { throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again)); });
        }).find("starting a session: ") == 0);
  CHECK(test::error_of([] { guarded("x", [] { throw nystrom::Error("as it was"); }); }) == "as it was");
  CHECK(guarded("x", [] { return 7; }) == 7);
}

TEST_CASE("threads: OpenOptions and RunOptions take the same rule: 0 all CPUs, above them capped, <0 or >1024 refused") {
  const int cpus = nystrom::default_thread_count();
  CHECK(nystrom::resolve_thread_count(0, "x") == cpus);
  CHECK(nystrom::resolve_thread_count(1, "x") == 1);
  CHECK(nystrom::resolve_thread_count(1024, "x") == std::min(cpus, 1024));
  CHECK(test::error_of([] { nystrom::resolve_thread_count(-5, "OpenOptions"); }) ==
        "OpenOptions: threads must be 0..1024, got -5");
  CHECK(test::error_of([] { nystrom::resolve_thread_count(1025, "Session"); }) ==
        "Session: threads must be 0..1024, got 1025");

  const std::string path = test::reference_nyf("tiny-mlm");
  nystrom::OpenOptions open;
  open.threads = -5;  // taken silently before
  CHECK(test::error_of([&] { nystrom::Model::open(path, open); }) == "OpenOptions: threads must be 0..1024, got -5");
  open.threads = 1024;
  auto model = nystrom::Model::open(path, open);
  nystrom::RunOptions run;
  run.threads = -1;
  CHECK(test::error_of([&] { nystrom::Session s(model, run); }) == "Session: threads must be 0..1024, got -1");
  run.threads = 1024;
  nystrom::Session s(model, run);
  CHECK(s.options().threads == std::min(cpus, 1024));
}
