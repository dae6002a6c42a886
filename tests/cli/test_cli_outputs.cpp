// Where the tools write (issue 15): a regular file or a new path replaced
// atomically, a symbolic link's target written, a FIFO or device written in
// place, '-' as standard output, a folder refused; `run --out-dir` replaced
// as a unit; output locations checked before any work; a reader that goes
// away stops a text command at once.
#include <doctest/doctest.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_support.h"
#include "nystrom/io.h"
#include "support.h"

namespace {

using clitest::check_error;
using clitest::converted;
using clitest::nystrom_cli;
using test::quote;

std::string embed_args(const std::string& out) {
  return "embed -m " + quote(converted("tiny-mlm")) + " 'the cat' -o " + out;
}

bool is_kind(const std::string& path, mode_t kind) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

std::vector<std::string> entries(const std::string& folder) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(folder.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The .npy embed writes for 'the cat', through a regular file.
std::string reference_npy() {
  static std::string bytes;
  if (bytes.empty()) {
    test::TempDir dir;
    const test::RunResult r = nystrom_cli(embed_args(quote(dir / "e.npy")));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    bytes = test::slurp(dir / "e.npy");
    REQUIRE(bytes.size() > 128);
  }
  return bytes;
}

}  // namespace

TEST_CASE("cli outputs: a regular file is replaced whole and keeps its permissions; no temporary is left") {
  test::TempDir dir;
  test::write_file(dir / "e.npy", "old");
  ::chmod((dir / "e.npy").c_str(), 0640);
  const test::RunResult r = nystrom_cli(embed_args(quote(dir / "e.npy")));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(test::slurp(dir / "e.npy") == reference_npy());
  struct stat st;
  REQUIRE(::stat((dir / "e.npy").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(entries(dir.path) == std::vector<std::string>{"e.npy"});
}

TEST_CASE("cli outputs: a symbolic link stays a link and its target is written") {
  test::TempDir dir;
  ::mkdir((dir / "real").c_str(), 0777);
  test::write_file(dir / "real/e.npy", "old");
  REQUIRE(::symlink("real/e.npy", (dir / "link.npy").c_str()) == 0);
  REQUIRE(::symlink("link.npy", (dir / "link2.npy").c_str()) == 0);  // a chain
  const test::RunResult r = nystrom_cli(embed_args(quote(dir / "link2.npy")));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(is_kind(dir / "link2.npy", S_IFLNK));
  CHECK(is_kind(dir / "link.npy", S_IFLNK));
  CHECK(test::slurp(dir / "real/e.npy") == reference_npy());
  CHECK(entries(dir / "real") == std::vector<std::string>{"e.npy"});
  // A dangling link: its target is created.
  REQUIRE(::symlink("real/new.npy", (dir / "dangling.npy").c_str()) == 0);
  const test::RunResult d = nystrom_cli(embed_args(quote(dir / "dangling.npy")));
  REQUIRE_MESSAGE(d.exit_code == 0, d.err);
  CHECK(is_kind(dir / "dangling.npy", S_IFLNK));
  CHECK(test::slurp(dir / "real/new.npy") == reference_npy());
}

TEST_CASE("cli outputs: a FIFO is written in place, not replaced") {
  test::TempDir dir;
  const std::string fifo = dir / "pipe.npy";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A reader copies what comes through the FIFO into a file.
  const test::RunResult r = test::run("{ cat " + quote(fifo) + " > " + quote(dir / "got") + " & " + test::tool("nystrom") +
                                      " " + embed_args(quote(fifo)) + "; wait; }");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(is_kind(fifo, S_IFIFO));
  CHECK(test::slurp(dir / "got") == reference_npy());
}

TEST_CASE("cli outputs: /dev/stdout on a pipe is written in place") {
  // Its link leads to "pipe:[...]", no path: the pipe itself is written.
  const test::RunResult r =
      test::run("{ " + test::tool("nystrom") + " " + embed_args("/dev/stdout") + " | cat; } 2>&1 | head -c 6");
  CHECK(r.out == "\x93NUMPY");
}

TEST_CASE("cli outputs: a character device is written in place (as root, in a temporary folder)") {
  test::TempDir dir;
  const std::string dev = dir / "null";
  // The machine's own /dev/null is never touched: a node of the same device
  // is made here, which needs root (and a folder not mounted nodev).
  if (::geteuid() != 0 || ::mknod(dev.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    MESSAGE("skipped: making a device node needs root");
    return;
  }
  const test::RunResult r = nystrom_cli(embed_args(quote(dev)));
  if (r.exit_code != 0 && r.err.find("Permission denied") != std::string::npos) {
    MESSAGE("skipped: the temporary folder is mounted nodev");
    return;
  }
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(is_kind(dev, S_IFCHR));
  CHECK(entries(dir.path) == std::vector<std::string>{"null"});
}

TEST_CASE("cli outputs: '-' is standard output for embed and nystrom-convert; no file named '-' appears") {
  test::TempDir dir;
  const test::RunResult r = test::run("cd " + quote(dir.path) + " && " + clitest::absolute_tool("nystrom") + " " + embed_args("-"));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == reference_npy());
  CHECK_FALSE(test::exists(dir / "-"));
  const std::string folder = texttest::text_checkpoint(dir, "tiny-mlm", "");
  const test::RunResult c =
      test::run("cd " + quote(dir.path) + " && " + clitest::absolute_tool("nystrom-convert") + " " + quote(folder) + " -o -");
  REQUIRE_MESSAGE(c.exit_code == 0, c.err);
  CHECK(c.out.compare(0, 8, "NYFMODEL") == 0);
  CHECK_FALSE(test::exists(dir / "-"));
}

TEST_CASE("cli outputs: a folder given as the output file is refused in one line") {
  test::TempDir dir;
  ::mkdir((dir / "out").c_str(), 0777);
  check_error(nystrom_cli(embed_args(quote(dir / "out"))), "is a folder, not a file");
  const std::string folder = texttest::text_checkpoint(dir, "tiny-mlm", "");
  check_error(test::run(test::tool("nystrom-convert") + " " + quote(folder) + " -o " + quote(dir / "out")),
              "is a folder, not a file");
}

TEST_CASE("cli outputs: output locations are checked before the model is even opened") {
  test::TempDir dir;
  // The model does not exist: an output check that came after any work
  // would report the model instead.
  const std::string missing_model = quote(dir / "no-such-model.nyf");
  check_error(nystrom_cli("embed -m " + missing_model + " 'the cat' -o " + quote(dir / "missing/e.npy")),
              "missing does not exist");
  check_error(test::run(test::tool("nystrom-convert") + " " + quote(dir / "no-such-folder") + " -o " +
                        quote(dir / "missing/x.nyf")),
              "missing does not exist");
  test::write_file(dir / "file", "x");
  check_error(nystrom_cli("run -m " + missing_model + " --ids-npy x.npy --out-dir " + quote(dir / "file")),
              "not a folder");
  if (::geteuid() != 0) {  // root writes anywhere
    ::mkdir((dir / "ro").c_str(), 0555);
    check_error(nystrom_cli("run -m " + missing_model + " --ids-npy x.npy --out-dir " + quote(dir / "ro/out")),
                "cannot create files in");
    check_error(nystrom_cli("embed -m " + missing_model + " 'x' -o " + quote(dir / "ro/e.npy")),
                "cannot create files in");
  }
}

TEST_CASE("cli outputs: an output name of 255 bytes (the longest a name can be) is written") {
  test::TempDir dir;
  const std::string name = std::string(251, 'e') + ".npy";
  const test::RunResult r = nystrom_cli(embed_args(quote(dir / name)));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(test::slurp(dir / name) == reference_npy());
  CHECK(entries(dir.path) == std::vector<std::string>{name});
}

TEST_CASE("cli run: --out-dir ends holding exactly this run's outputs, creating missing parents") {
  test::TempDir dir;
  const std::string ids = test::testdata_dir() + "/tiny-mlm/input_ids.npy";
  const std::string out = dir / "a/b/out";
  const test::RunResult mlm =
      nystrom_cli("run -m " + quote(converted("tiny-mlm")) + " --ids-npy " + quote(ids) + " --out-dir " + quote(out));
  REQUIRE_MESSAGE(mlm.exit_code == 0, mlm.err);
  CHECK(entries(out) == std::vector<std::string>{"last_hidden_state.npy", "logits.npy"});
  // A model without a head: the previous run's logits.npy goes with it.
  const std::string bare_ids = quote(test::testdata_dir() + "/tiny-exact/input_ids.npy");
  const test::RunResult bare =
      nystrom_cli("run -m " + quote(converted("tiny-exact")) + " --ids-npy " + bare_ids + " --out-dir " + quote(out));
  REQUIRE_MESSAGE(bare.exit_code == 0, bare.err);
  CHECK(entries(out) == std::vector<std::string>{"last_hidden_state.npy"});
  CHECK(entries(dir / "a/b") == std::vector<std::string>{"out"});  // nothing left beside it
  // A folder holding anything else is refused, and kept as it was.
  test::write_file(out + "/notes.txt", "mine");
  check_error(
      nystrom_cli("run -m " + quote(converted("tiny-exact")) + " --ids-npy " + bare_ids + " --out-dir " + quote(out)),
      "holds notes.txt, which is not an output of this command");
  CHECK(test::slurp(out + "/notes.txt") == "mine");
}

TEST_CASE("cli run: a full disk halfway through --out-dir leaves the folder exactly as it was (tmpfs, as root)") {
  if (::geteuid() != 0 || std::system("unshare -m true >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: mounting a small tmpfs needs root and unshare");
    return;
  }
  test::TempDir dir;
  const std::string ids = test::testdata_dir() + "/tiny-mlm/input_ids.npy";
  const std::string mnt = dir / "mnt", out = dir / "mnt/out", before = dir / "before";
  ::mkdir(mnt.c_str(), 0777);
  if (test::run("unshare -m sh -c " + quote("mount -t tmpfs -o size=1m tmpfs " + quote(mnt))).exit_code != 0) {
    MESSAGE("skipped: this container may not mount a tmpfs");
    return;
  }
  const std::string run = test::tool("nystrom") + " run -m " + quote(converted("tiny-mlm")) + " --ids-npy " +
                          quote(ids) + " --out-dir " + quote(out) + " >/dev/null";
  // In a private mount namespace: a tmpfs of the given size, a first run
  // (kept in `before`), then a second run into the same folder.
  auto in_tmpfs = [&](const std::string& size) {
    ::system(("rm -rf " + quote(before)).c_str());
    const std::string script = "mount -t tmpfs -o size=" + size + " tmpfs " + quote(mnt) + " && " + run +
                               " && cp -r " + quote(out) + " " + quote(before) + " && { " + run +
                               "; echo \"status $?\"; ls -A " + quote(mnt) + " " + quote(out) + "; cmp " +
                               quote(out + "/logits.npy") + " " + quote(before + "/logits.npy") + " && echo same; }";
    return test::run("unshare -m sh -c " + quote(script));
  };
  const test::RunResult roomy = in_tmpfs("64m");
  REQUIRE_MESSAGE(roomy.out.find("status 0") != std::string::npos, roomy.out << roomy.err);
  auto pages = [](size_t bytes) { return (bytes + 4095) / 4096; };
  const size_t hidden = pages(test::slurp(before + "/last_hidden_state.npy").size());
  const size_t logits = pages(test::slurp(before + "/logits.npy").size());
  REQUIRE(logits > hidden + 2);
  // Room for the old outputs and the new last_hidden_state.npy, not for the
  // new logits.npy as well.
  const test::RunResult full = in_tmpfs(std::to_string(4 * (2 * hidden + logits + 2)) + "k");
  INFO(full.out << full.err);
  CHECK(full.out.find("status 1") != std::string::npos);
  CHECK(full.err.find("No space left on device") != std::string::npos);
  CHECK(test::lines_of(full.err).size() == 1);
  // The folder holds the first run's two files, unchanged, and nothing was
  // left beside it.
  CHECK(full.out.find("same") != std::string::npos);
  CHECK(full.out.find("last_hidden_state.npy") != std::string::npos);
  CHECK(full.out.find(".ny") == std::string::npos);
}

TEST_CASE("cli text: a reader that goes away stops the command at once, with SIGPIPE ignored too") {
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "the cat sat on the mat\n";
  test::write_file(dir / "big.txt", text);
  // head reads one line and exits; the next flush fails with EPIPE.
  const std::string cmd = "trap '' PIPE; " + test::tool("nystrom") + " classify -m " + quote(converted("small-cls")) +
                          " -f " + quote(dir / "big.txt") + " 2>" + quote(dir / "err") +
                          " | head -c 1 >/dev/null; echo \"${PIPESTATUS[0]}\"";
  const test::RunResult r = test::run("bash -c " + quote(cmd));
  CHECK(r.out == "1\n");
  const std::string err = test::slurp(dir / "err");
  CHECK(err.find("cannot write standard output: Broken pipe") != std::string::npos);
  CHECK(test::lines_of(err).size() == 1);
}
