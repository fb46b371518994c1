#include "session/aot_header.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace kiln {

namespace {

const char *c_type(DType t) {
  switch (t) {
  case DType::f32: return "float";
  case DType::f64: return "double";
  case DType::i32: return "int32_t";
  case DType::i64: return "int64_t";
  case DType::boolean: return "uint8_t";
  }
  return "void";
}

std::string upper(std::string s) {
  for (char &c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Node names made C identifiers ("dense_1/add" -> "dense_1_add"), distinct
// within one list and never a keyword.
std::vector<std::string> identifiers(const std::vector<TensorSpec> &specs) {
  static const std::set<std::string> reserved = {
      "auto",    "bool",     "break",    "case",   "char",   "class",   "const",  "continue",
      "default", "delete",   "do",       "double", "else",   "enum",    "extern", "float",
      "for",     "goto",     "if",       "inline", "int",    "long",    "new",    "operator",
      "private", "public",   "register", "return", "short",  "signed",  "sizeof", "static",
      "struct",  "switch",   "template", "this",   "throw",  "typedef", "union",  "unsigned",
      "void",    "volatile", "while",    "m",      "inputs", "outputs"};
  std::vector<std::string> out;
  std::set<std::string> used;
  for (const TensorSpec &s : specs) {
    std::string id;
    for (char c : s.name) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0]))) id = "_" + id;
    if (reserved.count(id)) id += "_";
    std::string unique = id;
    for (int n = 2; !used.insert(unique).second; ++n) unique = fmt::format("{}_{}", id, n);
    out.push_back(unique);
  }
  return out;
}

std::string describe(const TensorSpec &s) {
  return fmt::format("{} {}[{}]", s.name, to_string(s.dtype), fmt::join(s.shape, ", "));
}

} // namespace

std::string aot_header(const aot::Model &m, const AotHeaderOptions &o) {
  const std::string &n = m.name;
  const std::string N = upper(n);
  std::string h;
  // Checked when run: the format strings below are many, and tested through
  // the headers the tests compile.
  auto out = [&h](std::string_view format, const auto &...args) {
    h += fmt::format(fmt::runtime(format), args...);
  };

  out("/* {}: compiled ahead of time by kiln for CPU {}, batch {}.\n", n, o.cpu, o.batch_size);
  out(" * Link {}.o (or lib{}.a) and kiln::runtime. Written by `kiln compile`: do not edit. */\n",
      n, n);
  out("#pragma once\n\n#include \"runtime/aot_abi.h\"\n\n");
  out("#ifdef __cplusplus\nextern \"C\" {{\n#endif\nextern const struct kiln_aot_model "
      "kiln_model_{};\n#ifdef __cplusplus\n}}\n#endif\n\n",
      n);
  out("typedef kiln_aot_instance {}_instance;\n\n", n);
  out("#define {}_BATCH {}\n", N, o.batch_size);
  out("#define {}_WEIGHTS_EMBEDDED {}\n", N, o.embedded_weights ? 1 : 0);
  if (!o.embedded_weights) out("#define {}_WEIGHTS_FILE \"{}.weights\"\n", N, n);

  out("\n/* Variables ({}), by name in NAME_get_variable/NAME_set_variable and checkpoints:\n",
      m.variables.size());
  for (const TensorSpec &v : m.variables) out(" *   {}\n", describe(v));
  out(" */\n");

  out("\n/* weights_path: a checkpoint (NAME.weights, or one saved by a Session or an\n"
      " * instance){}. threads: 0 for all cores. */\n",
      o.embedded_weights ? "; NULL for the embedded weights" : "");
  out("static inline int {0}_create({0}_instance **out, const char *weights_path, int threads) "
      "{{\n  return kiln_aot_create(&kiln_model_{0}, weights_path, threads, out);\n}}\n",
      n);
  out("static inline void {0}_destroy({0}_instance *m) {{ kiln_aot_destroy(m); }}\n", n);
  out("static inline int {0}_init({0}_instance *m) {{ return kiln_aot_init(m); }}\n", n);
  out("static inline int {0}_save_checkpoint(const {0}_instance *m, const char *path) {{\n"
      "  return kiln_aot_save_checkpoint(m, path);\n}}\n",
      n);
  out("static inline int {0}_load_checkpoint({0}_instance *m, const char *path) {{\n"
      "  return kiln_aot_load_checkpoint(m, path);\n}}\n",
      n);
  out("static inline int {0}_get_variable(const {0}_instance *m, const char *name, void *data, "
      "size_t bytes) {{\n  return kiln_aot_get_variable(m, name, data, bytes);\n}}\n",
      n);
  out("static inline int {0}_set_variable({0}_instance *m, const char *name, const void *data, "
      "size_t bytes) {{\n  return kiln_aot_set_variable(m, name, data, bytes);\n}}\n",
      n);
  out("/* A kiln::PlanCollectives * (data-parallel entries average through it), or null. */\n"
      "static inline int {0}_set_collectives({0}_instance *m, void *collectives) {{\n"
      "  return kiln_aot_set_collectives(m, collectives);\n}}\n",
      n);

  std::string cpp_methods;
  for (size_t index = 0; index < m.entries.size(); ++index) {
    const Plan &e = m.entries[index];
    std::vector<std::string> in = identifiers(e.inputs), res = identifiers(e.outputs);
    std::string E = N + "_" + upper(e.name);
    out("\n/* {}: ", e.name);
    for (const TensorSpec &s : e.inputs) out("{}; ", describe(s));
    out("->");
    for (const TensorSpec &s : e.outputs) out(" {};", describe(s));
    out(" */\n#define {}_ENTRY {}\n", E, index);
    auto constants = [&](const TensorSpec &s, const std::string &id) {
      std::string ID = E + "_" + upper(id);
      out("#define {}_ELEMENTS {}\n", ID, num_elements(s.shape));
      out("#define {}_RANK {}\n", ID, s.shape.size());
      out("static const int64_t {}_{}_{}_shape[] = {{{}}};\n", n, e.name, id,
          s.shape.empty() ? "1" : fmt::format("{}", fmt::join(s.shape, ", ")));
    };
    std::vector<std::string> params, args_in, args_out;
    for (size_t i = 0; i < e.inputs.size(); ++i) {
      constants(e.inputs[i], in[i]);
      params.push_back(fmt::format("const {} *{}", c_type(e.inputs[i].dtype), in[i]));
      args_in.push_back(in[i]);
    }
    for (size_t i = 0; i < e.outputs.size(); ++i) {
      constants(e.outputs[i], res[i]);
      params.push_back(fmt::format("{} *{}", c_type(e.outputs[i].dtype), res[i]));
      args_out.push_back(res[i]);
    }
    std::string param_list = fmt::format("{}", fmt::join(params, ", "));
    out("static inline int {0}_{1}({0}_instance *m{2}{3}) {{\n", n, e.name,
        params.empty() ? "" : ", ", param_list);
    out(args_in.empty() ? "  const void *const *inputs = 0;\n"
                        : "  const void *inputs[] = {{{}}};\n",
        fmt::join(args_in, ", "));
    out(args_out.empty() ? "  void *const *outputs = 0;\n" : "  void *outputs[] = {{{}}};\n",
        fmt::join(args_out, ", "));
    out("  return kiln_aot_run(m, {}_ENTRY, inputs, outputs);\n}}\n", E);
    std::vector<std::string> names = args_in;
    names.insert(names.end(), args_out.begin(), args_out.end());
    cpp_methods += fmt::format("  void {1}({2}) {{ check({0}_{1}(m_{3}{4})); }}\n", n, e.name,
                               param_list, names.empty() ? "" : ", ", fmt::join(names, ", "));
  }

  out("\n#ifdef __cplusplus\n#include <stdexcept>\n#include <string>\n\n");
  out("namespace {} {{\n\n", n);
  out("// Owns one instance; methods throw std::runtime_error with the runtime's message.\n");
  out("class Model {{\npublic:\n");
  out("  explicit Model(const char *weights_path{}, int threads = 0) {{\n"
      "    check({}_create(&m_, weights_path, threads));\n  }}\n",
      o.embedded_weights ? " = nullptr" : "", n);
  out("  ~Model() {{ {}_destroy(m_); }}\n", n);
  out("  Model(const Model &) = delete;\n  Model &operator=(const Model &) = delete;\n\n");
  h += cpp_methods;
  out("  void init() {{ check({}_init(m_)); }}\n", n);
  out("  void save_checkpoint(const std::string &path) const {{\n"
      "    check({}_save_checkpoint(m_, path.c_str()));\n  }}\n",
      n);
  out("  void load_checkpoint(const std::string &path) {{\n"
      "    check({}_load_checkpoint(m_, path.c_str()));\n  }}\n",
      n);
  out("  template <typename T> void get_variable(const char *name, T *data, size_t count) const "
      "{{\n    check({}_get_variable(m_, name, data, count * sizeof(T)));\n  }}\n",
      n);
  out("  template <typename T> void set_variable(const char *name, const T *data, size_t count) "
      "{{\n    check({}_set_variable(m_, name, data, count * sizeof(T)));\n  }}\n",
      n);
  out("  void set_collectives(void *collectives) {{\n"
      "    check({}_set_collectives(m_, collectives));\n  }}\n",
      n);
  out("  {0}_instance *get() const {{ return m_; }}\n\nprivate:\n", n);
  out("  static void check(int status) {{\n"
      "    if (status != KILN_OK) throw std::runtime_error(kiln_last_error());\n  }}\n");
  out("  {}_instance *m_ = nullptr;\n}};\n\n}} // namespace {}\n#endif\n", n, n);
  return h;
}

} // namespace kiln
