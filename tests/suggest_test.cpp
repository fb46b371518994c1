// Unknown names: the edit distance, the closest plausible candidate and the
// message that lists the valid names; UTF-8 checks for names.
#include "ir/suggest.h"
#include "ir/utf8.h"

#include <catch2/catch.hpp>

using namespace kiln;

TEST_CASE("suggest: edit distance counts insertions, deletions, substitutions and swaps",
          "[suggest]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("run", "run") == 0);
  CHECK(edit_distance("rnu", "run") == 1);
  CHECK(edit_distance("prediction", "predicted") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("suggest: only a plausible typo is suggested", "[suggest]") {
  std::vector<std::string> names = {"loss", "accuracy", "predicted"};
  CHECK(closest_name("prediction", names) == "predicted");
  CHECK(closest_name("los", names) == "loss");
  CHECK(closest_name("x", names) == std::nullopt);
  CHECK(closest_name("z", {"x"}) == std::nullopt); // one byte of one: every byte replaced
  CHECK(closest_name("xs", {"x"}) == "x");
  CHECK(closest_name("compile", {"dump", "run", "info", "cache"}) == std::nullopt);
  CHECK(unknown_name("fetch", "prediction", names, "outputs", names) ==
        "no fetch named 'prediction'; did you mean 'predicted'? outputs: loss, accuracy, "
        "predicted");
  CHECK(unknown_name("fetch", "zzz", names, "outputs", names) ==
        "no fetch named 'zzz'; outputs: loss, accuracy, predicted");
  CHECK(unknown_name("node", "lost", names, "", {}) ==
        "no node named 'lost'; did you mean 'loss'?");
  std::vector<std::string> many;
  for (int i = 0; i < 25; ++i) many.push_back("n" + std::to_string(i));
  CHECK(unknown_name("node", "zzzz", many, "nodes", many).ends_with("n19 ... (5 more)"));
}

TEST_CASE("utf8: well-formed UTF-8 only, and names escaped for messages", "[suggest]") {
  CHECK(is_valid_utf8("dense/W"));
  CHECK(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5"));
  CHECK_FALSE(is_valid_utf8("caf\xc3"));          // cut short
  CHECK_FALSE(is_valid_utf8("\xff"));             // never a UTF-8 byte
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));         // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));     // a surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
  CHECK(escaped("a\xff\n\\") == "a\\xff\\x0a\\x5c");
}
