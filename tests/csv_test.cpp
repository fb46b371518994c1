// CSV: values of every dtype, headers, blank lines and CRLF, an error naming
// the line and column for each bad cell or ragged row, and `kiln run`
// feeding CSV files with the placeholders' dtypes and item shapes.
#include "data/csv.h"

#include "data/npy.h"
#include "frontends/nn.h"
#include "ir/error.h"
#include "ir/serialize.h"
#include "session/session.h"
#include "temp_dir.h"
#include "test_util.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

using namespace kiln;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

Tensor csv(std::string_view text, DType dtype = f32) { return parse_csv(text, dtype, "t.csv"); }

std::string csv_error(std::string_view text, DType dtype = f32) {
  try {
    csv(text, dtype);
  } catch (const Error &e) {
    return e.what();
  }
  return "(parsed without an error)";
}

} // namespace

TEST_CASE("csv: numbers become a [rows, columns] tensor", "[csv]") {
  CHECK(csv("1,2.5,-3\n4, 5e-1 ,+6\n")
            .identical(Tensor::from<float>({2, 3}, {1, 2.5f, -3, 4, 0.5f, 6})));
  // No final newline, CRLF line ends, blank lines, a value too small for f32.
  CHECK(csv("0.1\r\n\r\n  \n1e-50\r\n-0").identical(Tensor::from<float>({3, 1}, {0.1f, 0, -0.0f})));
  CHECK(csv("0.1,1e300", f64).identical(Tensor::from<double>({1, 2}, {0.1, 1e300})));
  CHECK(csv("+1,-2\n2147483647,-2147483648", i32)
            .identical(Tensor::from<int32_t>({2, 2}, {1, -2, 2147483647, -2147483647 - 1})));
  CHECK(csv("9007199254740993", i64).identical(Tensor::from<int64_t>({1, 1}, {9007199254740993})));
  CHECK(csv("0,1,true,false", boolean).identical(Tensor::from<uint8_t>({1, 4}, {0, 1, 1, 0})));
  Tensor special = csv("nan,inf,-inf");
  CHECK(std::isnan(special.get(0)));
  CHECK(special.get(1) == INFINITY);
  CHECK(special.get(2) == -INFINITY);
}

TEST_CASE("csv: a first line without numbers is a header", "[csv]") {
  CHECK(csv("x,y\n1,2\n3,4\n").identical(Tensor::from<float>({2, 2}, {1, 2, 3, 4})));
  CHECK(csv("\"sepal length\", label\n5.1,0\n").identical(Tensor::from<float>({1, 2}, {5.1f, 0})));
  // A header alone ran as an empty batch and printed nothing (exit 0).
  CHECK(csv_error("x,y\n") == "t.csv: no rows: the file holds only a header (line 1)");
  CHECK(csv_error("\n\nx,y\n\n") == "t.csv: no rows: the file holds only a header (line 3)");
  // One number makes it a row, so a typo in the first row is not skipped.
  CHECK(csv_error("1,y\n3,4\n") == "t.csv: line 1, column 2: cannot read 'y' as f32");
}

TEST_CASE("csv: bad cells and ragged rows name the line and column", "[csv]") {
  CHECK(csv_error("1,2\n3,x\n") == "t.csv: line 2, column 2: cannot read 'x' as f32");
  CHECK(csv_error("a,b\n\n1,2\n3\n") == "t.csv: line 4 has 1 columns, line 1 has 2");
  CHECK(csv_error("1,2\n3,4,5\n") == "t.csv: line 2 has 3 columns, line 1 has 2");
  CHECK(csv_error("1,,3\n") == "t.csv: line 1, column 2: empty cell");
  CHECK(csv_error("1,2,\n") == "t.csv: line 1, column 3: empty cell");
  CHECK(csv_error("1,2\n3;4,5\n") == "t.csv: line 2, column 1: cannot read '3;4' as f32");
  CHECK(csv_error("0\n+-1\n") == "t.csv: line 2, column 1: cannot read '+-1' as f32");
  CHECK(csv_error("0\n+-1\n", i64) == "t.csv: line 2, column 1: cannot read '+-1' as i64");
  CHECK(csv_error("1e39\n") == "t.csv: line 1, column 1: '1e39' is out of range for f32");
  CHECK(csv_error("1e999\n", f64) == "t.csv: line 1, column 1: '1e999' is out of range for f64");
  CHECK(csv_error("1.5\n", i32) == "t.csv: line 1, column 1: cannot read '1.5' as i32");
  CHECK(csv_error("2147483648\n", i32) ==
        "t.csv: line 1, column 1: '2147483648' is out of range for i32");
  CHECK(csv_error("2\n", boolean) == "t.csv: line 1, column 1: cannot read '2' as bool");
  CHECK(csv_error("") == "t.csv: empty CSV file: no header and no rows");
  CHECK(csv_error("\n \n") == "t.csv: empty CSV file: no header and no rows");
}

TEST_CASE("csv: read_csv names the file", "[csv]") {
  test::TempDir dir;
  write_file_atomically(dir / "a.csv", "x\n1\n2\n");
  CHECK(read_csv(dir / "a.csv", i64).identical(Tensor::from<int64_t>({2, 1}, {1, 2})));
  write_file_atomically(dir / "b.csv", "1\nz\n");
  CHECK_THROWS_WITH(read_csv(dir / "b.csv"),
                    "'" + (dir / "b.csv").string() + "': line 2, column 1: cannot read 'z' as f32");
  CHECK_THROWS_WITH(read_csv(dir / "none.csv"), Contains("cannot open"));
}

TEST_CASE("csv: kiln run feeds CSV files like the equivalent .npy", "[csv][cli]") {
  test::TempDir dir;
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 2, 2});
  Value y = placeholder(g, "y", i32, {batch});
  Value h = nn::dense(g, reshape(x, {batch, 4}), 3);
  Value out = h + cast(reshape(y, {batch, 1}), f32);
  save_graph(g, dir / "m.kiln");
  // One row per batch item, reshaped to x's item dims [2, 2]; y's single
  // column becomes [batch] and takes y's dtype.
  write_file_atomically(dir / "x.csv", "a,b,c,d\n1,2,3,4\n-1,0.5,0,2\n0,0,0,1\n");
  write_file_atomically(dir / "y.csv", "label\n3\n0\n7\n");
  write_file_atomically(dir / "bad.csv", "1,2,3,4\n1,2,x,4\n");

  auto kiln = [&](const std::string &x_file) {
    std::string command = fmt::format(
        "'{}' run '{}' --feed x='{}' --feed y='{}' --fetch {} --out '{}' >'{}' 2>&1", KILN_CLI,
        (dir / "m.kiln").string(), (dir / x_file).string(), (dir / "y.csv").string(),
        g.node(out.id).name, (dir / "out").string(), (dir / "log").string());
    int status = std::system(command.c_str());
    INFO(read_file(dir / "log"));
    return status;
  };
  REQUIRE(kiln("x.csv") == 0);
  Session s(g);
  Tensor want =
      s.run({{x, Tensor::from<float>({3, 2, 2}, {1, 2, 3, 4, -1, 0.5f, 0, 2, 0, 0, 0, 1})},
             {y, Tensor::from<int32_t>({3}, {3, 0, 7})}},
            {out})[0];
  std::string file = g.node(out.id).name;
  std::replace(file.begin(), file.end(), '/', '_');
  CHECK(read_npy(dir / "out" / (file + ".npy")).identical(want));

  CHECK(kiln("bad.csv") != 0);
  CHECK_THAT(read_file(dir / "log"), Contains("kiln: error: '" + (dir / "bad.csv").string() +
                                              "': line 2, column 3: cannot read 'x' as f32"));
}
