// nystrom-bench --sections scaling: a short run (1 layer, n = 256 and 512)
// whose SVG an XML parser (python3's xml.etree, standard library) reads
// back with both panels, the four series with their points, the legend and
// the caption; and its JSON figures.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli_support.h"
#include "runtime/json.h"
#include "support.h"

namespace {

using test::quote;

// Prints what the SVG holds, one fact a line: "panel TITLE|SERIES,POINTS|...",
// "legend NAME", "caption TEXT". Fails (exit 1) on anything not well-formed.
const char kReadSvg[] = R"PY(
import sys, xml.etree.ElementTree as ET
S = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == S + 'svg', root.tag
for g in root.iter(S + 'g'):
    kind = g.get('class')
    if kind == 'panel':
        series = [s for s in g.iter(S + 'g') if s.get('class') == 'series']
        print('panel ' + g.get('data-title') + ''.join(
            '|%s,%d' % (s.get('data-series'), len(s.findall(S + 'circle'))) for s in series))
    elif kind == 'legend':
        for t in g.iter(S + 'text'):
            print('legend ' + t.text)
    elif kind == 'caption':
        for t in g.iter(S + 'text'):
            print('caption ' + t.text)
)PY";

bool has_line_starting(const std::vector<std::string>& lines, const std::string& start) {
  for (const std::string& l : lines)
    if (l.rfind(start, 0) == 0) return true;
  return false;
}

}  // namespace

TEST_CASE("nystrom-bench scaling: the SVG parses as XML with two panels, four series, legend and caption") {
  if (!test::tool_prefix().empty()) {
    MESSAGE("skipped under an emulator: base-size layers take minutes there (and no kernel is involved)");
    return;
  }
  test::TempDir dir;
  const std::string svg = dir / "scaling.svg", note = "loaded machine: a < b & \"c\"";
  const test::RunResult r =
      test::run("TMPDIR=" + quote(dir.path) + " " + test::tool("nystrom-bench") +
                " --sections scaling --max-n 512 --layers 1 --repeat 1 --json --svg " + quote(svg) + " --note " +
                quote(note));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);

  const nystrom::JsonValue doc = nystrom::parse_json(r.out, "bench output");
  const nystrom::JsonValue& scaling = *doc.find("scaling");
  CHECK(scaling.find("layers")->as_int("layers") == 1);
  CHECK(!scaling.find("cpu")->as_string("cpu").empty());
  const std::vector<nystrom::JsonValue>& series = scaling.find("series")->array;
  REQUIRE(series.size() == 4);
  for (const nystrom::JsonValue& s : series) {
    CAPTURE(s.find("name")->as_string("name"));
    CHECK(s.find("stopped")->is_null());
    const std::vector<nystrom::JsonValue>& points = s.find("points")->array;
    REQUIRE(points.size() == 2);
    CHECK(points[0].find("n")->as_int("n") == 256);
    CHECK(points[1].find("n")->as_int("n") == 512);
    for (const nystrom::JsonValue& p : points) {
      CHECK(p.find("forward_ms")->as_number("ms") > 0);
      CHECK(p.find("open_rss_mb")->as_number("mb") > 0);
      CHECK(p.find("peak_rss_mb")->as_number("mb") >= p.find("open_rss_mb")->as_number("mb"));
    }
  }

  test::TempFile script(kReadSvg);
  const test::RunResult read = test::run("python3 " + quote(script.path) + " " + quote(svg));
  REQUIRE_MESSAGE(read.exit_code == 0, read.err);
  const std::vector<std::string> lines = test::lines_of(read.out);
  const std::string four = "|Nystrom f32,2|Nystrom q8_0,2|exact f32,2|exact q8_0,2";
  CHECK(has_line_starting(lines, "panel Time per forward" + four));
  CHECK(has_line_starting(lines, "panel Peak memory" + four));
  for (const char* name : {"Nystrom f32", "Nystrom q8_0", "exact f32", "exact q8_0"})
    CHECK(has_line_starting(lines, std::string("legend ") + name));
  CHECK(has_line_starting(lines, "caption CPU: "));
  CHECK(read.out.find(" threads, ") != std::string::npos);
  CHECK(read.out.find(" UTC.") != std::string::npos);  // the date
  CHECK(has_line_starting(lines, "caption " + note));  // escaped in the file, the same text read back
}

TEST_CASE("nystrom-bench scaling: runs alone, and its options need it") {
  const std::string bench = test::tool("nystrom-bench");
  for (const char* bad : {" --sections scaling,peak", " --svg out.svg", " --sections peak --max-n 512",
                          " --sections scaling --max-n 100"}) {
    CAPTURE(bad);
    const test::RunResult r = test::run(bench + bad);
    CHECK(r.exit_code == 2);
    CHECK(test::lines_of(r.err).size() == 1);
  }
  // An unwritable SVG path fails at once, before any measurement.
  const test::RunResult r = test::run(bench + " --sections scaling --svg /nonexistent-folder/x.svg");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("/nonexistent-folder") != std::string::npos);
}
