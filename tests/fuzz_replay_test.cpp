// The fuzzers' seed corpora and every input that once crashed them
// (tests/fuzz/corpus/<target>/), replayed through the same entry functions
// in the normal build: each must return normally.
#include "fuzz/targets.h"
#include "ir/serialize.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

TEST_CASE("fuzz: every corpus file of every target replays cleanly", "[fuzz]") {
  const fs::path corpus = fs::path(KILN_TEST_SOURCE_DIR) / "fuzz" / "corpus";
  for (const kiln::fuzz::Target &target : kiln::fuzz::kTargets) {
    std::vector<fs::path> files;
    for (const auto &e : fs::directory_iterator(corpus / target.name)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    INFO(target.name);
    CHECK(files.size() >= 3); // a target without seeds fuzzes blind
    for (const fs::path &file : files) {
      INFO(file.string());
      CHECK_NOTHROW(target.run(kiln::read_file(file)));
    }
  }
}
