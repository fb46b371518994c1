// .npy reading and writing: round trips for every dtype, the exact header
// NumPy writes and reads, and a clear error for every file kiln cannot hold.
#include "data/npy.h"

#include "ir/error.h"
#include "temp_dir.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

// A .npy file with the given header dict and data, as format version `major`.
std::string npy_bytes(std::string_view dict, std::string_view data, uint8_t major = 1) {
  std::string out("\x93NUMPY");
  out.push_back(char(major));
  out.push_back(0);
  size_t length = dict.size() + 1;
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i)
    out.push_back(char((length >> (8 * i)) & 0xff));
  out += dict;
  out += '\n';
  out += data;
  return out;
}

std::string float_bytes(std::initializer_list<float> values) {
  return std::string(reinterpret_cast<const char *>(values.begin()), values.size() * sizeof(float));
}

std::string header_of(const std::string &file) {
  size_t length = uint8_t(file[8]) | size_t(uint8_t(file[9])) << 8;
  return file.substr(10, length);
}

} // namespace

TEST_CASE("npy: round trips every dtype, scalars and empty arrays", "[npy]") {
  std::mt19937 rng(7);
  for (DType dtype : {f32, f64, i32, i64, boolean}) {
    for (const Shape &shape : {Shape{2, 3}, Shape{}, Shape{0, 3}, Shape{5}, Shape{2, 1, 4}}) {
      Tensor t = test::random_tensor(dtype, shape, rng);
      INFO(t.summary());
      CHECK(parse_npy(format_npy(t), "t.npy").identical(t));
    }
  }
}

TEST_CASE("npy: files are written the way NumPy writes them", "[npy]") {
  std::string file = format_npy(Tensor::from<float>({3}, {1, 2, 3}));
  CHECK(file.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  CHECK(file.size() == 128 + 12); // the data starts 64-byte aligned
  std::string header = header_of(file);
  CHECK(header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"));
  CHECK(header.ends_with(" \n"));
  CHECK(header_of(format_npy(Tensor::scalar(int64_t{5}))).find("'shape': ()") != std::string::npos);
  CHECK(header_of(format_npy(Tensor(boolean, {2, 0}))).find("'descr': '|b1'") != std::string::npos);
}

TEST_CASE("npy: files go through the file system atomically", "[npy]") {
  auto path = std::filesystem::temp_directory_path() / "kiln_npy_test.npy";
  Tensor t = Tensor::from<double>({2, 2}, {1.5, -2, 0, 1e300});
  write_npy(path, t);
  CHECK(read_npy(path).identical(t));
  CHECK(test::files_starting_with(path.parent_path(), "kiln_npy_test.npy.tmp") == 0);
  std::filesystem::remove(path);
  CHECK_THROWS_WITH(read_npy(path), Contains("cannot open") && Contains("kiln_npy_test.npy"));
}

TEST_CASE("npy: reads the header variants NumPy and Python 2 wrote", "[npy]") {
  std::string data = float_bytes({1, 2});
  Tensor expected = Tensor::from<float>({2}, {1, 2});
  for (uint8_t major : {1, 2, 3}) {
    INFO("version " << int(major));
    CHECK(parse_npy(
              npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data, major),
              "a.npy")
              .identical(expected));
  }
  CHECK(
      parse_npy(npy_bytes("{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"<f4\"}", data),
                "a.npy")
          .identical(expected));
}

TEST_CASE("npy: a header may hold newlines where Python allows whitespace", "[npy]") {
  // NumPy reads the header with ast.literal_eval: a dict split over lines,
  // or padded after its newline, is a valid header (it was rejected).
  std::string data = float_bytes({1, 2});
  Tensor expected = Tensor::from<float>({2}, {1, 2});
  CHECK(parse_npy(
            npy_bytes("{'descr': '<f4',\n 'fortran_order': False,\r\n 'shape': (2,\n),\n}", data),
            "a.npy")
            .identical(expected));
  CHECK(parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n   ", data),
                  "a.npy")
            .identical(expected));
  CHECK_THROWS_WITH(
      parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", data),
                "a.npy"),
      "a.npy: malformed .npy header: unexpected text after the dict at offset 58");
}

TEST_CASE("npy: rejects what kiln cannot hold, naming the file and the problem", "[npy]") {
  std::string two_floats = float_bytes({1, 2});
  auto with_descr = [&](std::string_view descr) {
    return npy_bytes(
        fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': (2,), }}", descr),
        two_floats);
  };
  std::string good = with_descr("<f4");
  struct Case {
    std::string name;
    std::string bytes;
    std::string message;
  };
  std::vector<Case> cases = {
      {"bad magic", "PK\x03\x04 not numpy at all", "bad magic"},
      {"empty file", "", "truncated .npy header"},
      {"truncated header", good.substr(0, 30), "truncated .npy header"},
      {"truncated data", good.substr(0, good.size() - 1), "truncated data: f32[2] needs 8 bytes"},
      {"trailing data", good + "x", "1 bytes of unexpected data"},
      {"version 4.0", npy_bytes("{}", "", 4), "format version 4.0 is not supported"},
      {"fortran order",
       npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", two_floats),
       "Fortran-order"},
      {"big endian", with_descr(">f4"), "big-endian dtype '>f4'"},
      {"object array", with_descr("|O"), "object arrays"},
      {"unsigned ints", with_descr("<u2"), "dtype '<u2' is not supported"},
      {"structured dtype",
       npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", two_floats),
       "structured dtypes"},
      {"missing key", npy_bytes("{'descr': '<f4', 'shape': (2,), }", two_floats), "needs the keys"},
      {"negative dim", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", ""),
       "expected a dimension"},
      {"huge shape",
       npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 8), }",
                 ""),
       "too large"},
  };
  for (const Case &c : cases) {
    DYNAMIC_SECTION(c.name) {
      CHECK_THROWS_AS(parse_npy(c.bytes, "feed.npy"), Error);
      CHECK_THROWS_WITH(parse_npy(c.bytes, "feed.npy"),
                        Catch::StartsWith("feed.npy: ") && Contains(c.message));
    }
  }
}
