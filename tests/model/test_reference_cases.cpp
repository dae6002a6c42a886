// The end-to-end contract: every checkpoint in testdata/hf, converted by
// nystrom-convert and run by the nystrom CLI, reproduces the outputs of the
// authors' PyTorch code within the SPEC section 3 tolerance.
#include <doctest/doctest.h>

#include "nystrom/io.h"
#include "support.h"

TEST_CASE("every reference checkpoint matches the original code through converter and CLI") {
  for (const std::string& name : test::reference_cases()) {
    CAPTURE(name);
    const std::string dir = test::testdata_dir() + "/" + name;
    REQUIRE_MESSAGE(test::exists(dir + "/config.json"), "test data missing at " << dir);
    test::TempDir tmp;
    auto conv = test::run(test::tool("nystrom-convert") + " " + dir + " -o " + (tmp / "m.nyf"));
    REQUIRE_MESSAGE(conv.exit_code == 0, conv.err);
    auto r = test::run(test::tool("nystrom") + " run -m " + (tmp / "m.nyf") + " --ids-npy " + dir +
                       "/input_ids.npy --out-dir " + (tmp / "out"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);

    for (std::string output : {"last_hidden_state.npy", "logits.npy"}) {
      CAPTURE(output);
      if (!test::exists(dir + "/" + output)) {
        CHECK_FALSE(test::exists(tmp / "out" + "/" + output));  // no head, no logits
        continue;
      }
      std::vector<uint64_t> ref_shape, got_shape;
      auto ref = nystrom::read_npy_f32(dir + "/" + output, &ref_shape);
      auto got = nystrom::read_npy_f32(tmp / "out" + "/" + output, &got_shape);
      CHECK(got_shape == ref_shape);
      test::Diff d = test::diff(got, ref);
      INFO("max abs diff " << d.max_abs << ", max |ref| " << d.max_ref);
      CHECK(test::within_spec(d));
    }
  }
}
