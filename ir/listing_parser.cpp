#include "ir/listing_parser.h"

#include "ir/error.h"
#include "ir/listing.h"
#include "ir/serialize.h"
#include "ir/suggest.h"
#include "ir/utf8.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>

namespace kiln {

namespace {

// Fused bodies hold no fused nodes today; the bound keeps hostile text from
// exhausting the stack.
constexpr int kMaxNesting = 16;

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '+' ||
         c == '-';
}

class Parser {
public:
  Parser(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  Graph listing() {
    Graph g = block(0);
    if (pos_ < text_.size())
      error(pos_, "{}", peek() == '}' ? "'}' closes no block" : "unexpected " + found());
    return g;
  }

private:
  // "SOURCE:LINE:COLUMN: message", the column counted in bytes from 1.
  template <typename... Args>
  [[noreturn]] void error(size_t at, fmt::format_string<Args...> format, Args &&...args) const {
    std::string_view before = text_.substr(0, std::min(at, text_.size()));
    size_t line = 1 + size_t(std::count(before.begin(), before.end(), '\n'));
    size_t line_start = before.rfind('\n');
    size_t column = at - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
    fail("{}:{}:{}: {}", source_, line, column, fmt::format(format, std::forward<Args>(args)...));
  }

  // The next character after spaces and comments, '\0' at the end.
  char peek() {
    while (pos_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[pos_])))
        ++pos_;
      else if (text_[pos_] == '#')
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      else
        return text_[pos_];
    }
    return '\0';
  }

  // Where the next token starts.
  size_t here() {
    peek();
    return pos_;
  }

  bool accept(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }

  void expect(char c, std::string_view where) {
    if (accept(c)) return;
    error(pos_, "expected '{}' {}, got {}", c, where, found());
  }

  std::string found() {
    char c = peek();
    if (pos_ == text_.size()) return "the end of the text";
    if (is_word_char(c)) return fmt::format("'{}'", escaped(word_at(pos_)));
    return fmt::format("'{}'", escaped(std::string_view(&text_[pos_], 1)));
  }

  std::string_view word_at(size_t at) const {
    size_t end = at;
    while (end < text_.size() && is_word_char(text_[end])) ++end;
    return text_.substr(at, end - at);
  }

  // A run of letters, digits and `_ . + -`: op names, keys, numbers.
  std::string_view word(std::string_view what) {
    std::string_view w = word_at(here());
    if (w.empty()) error(pos_, "expected {}, got {}", what, found());
    pos_ += w.size();
    return w;
  }

  std::string string_literal() {
    size_t start = here();
    expect('"', "to open a string");
    std::string out;
    for (;;) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') error(start, "unterminated string");
      char c = text_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = pos_ < text_.size() ? text_[pos_++] : '\0';
      if (e == '"' || e == '\\')
        out += e;
      else if (e == 'n')
        out += '\n';
      else if (e == 't')
        out += '\t';
      else if (e == 'x' && pos_ + 2 <= text_.size() &&
               std::isxdigit(static_cast<unsigned char>(text_[pos_])) &&
               std::isxdigit(static_cast<unsigned char>(text_[pos_ + 1]))) {
        out += char(std::stoi(std::string(text_.substr(pos_, 2)), nullptr, 16));
        pos_ += 2;
      } else
        error(pos_ - 2, "unknown escape in a string (known: \\\" \\\\ \\n \\t \\xNN)");
    }
    if (!is_valid_utf8(out)) error(start, "the string is not valid UTF-8");
    return out;
  }

  // %name or %"quoted name".
  std::string name() {
    expect('%', "before a name");
    if (pos_ < text_.size() && text_[pos_] == '"') return string_literal();
    size_t start = pos_;
    while (pos_ < text_.size() && is_bare_name_char(text_[pos_])) ++pos_;
    if (pos_ == start) error(pos_, "expected a name after '%'");
    return std::string(text_.substr(start, pos_ - start));
  }

  template <typename T> T number(std::string_view what) {
    size_t start = here();
    std::string_view w = word(what);
    T value{};
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), value);
    if (ec == std::errc::result_out_of_range)
      error(start, "{} '{}' is out of range", what, escaped(w));
    if (ec != std::errc() || end != w.data() + w.size())
      error(start, "expected {}, got '{}'", what, escaped(w));
    return value;
  }

  template <typename T, typename F> std::vector<T> list(char open, char close, F item) {
    std::vector<T> out;
    expect(open, "to open a list");
    if (accept(close)) return out;
    do {
      out.push_back(item());
    } while (accept(','));
    expect(close, "to close a list");
    return out;
  }

  DType dtype() {
    size_t start = here();
    std::string_view w = word("a dtype");
    if (auto t = parse_dtype(w)) return *t;
    error(start, "unknown dtype '{}' (known: f32, f64, i32, i64, bool)", escaped(w));
  }

  // [2, ?, 3]: '?' is the batch dim, allowed in types only.
  Shape shape(bool allow_batch) {
    return list<int64_t>('[', ']', [&]() -> int64_t {
      if (allow_batch && accept('?')) return batch;
      return number<int64_t>("a dim");
    });
  }

  TensorType type() { return {dtype(), shape(/*allow_batch=*/true)}; }

  Tensor tensor() {
    size_t start = here();
    DType t = dtype();
    Shape s = shape(/*allow_batch=*/false);
    try {
      check_dims(s, /*allow_batch=*/false);
    } catch (const Error &e) {
      error(start, "{}", e.what());
    }
    // Checked before allocating: one value may fill a tensor, so the text's
    // size does not bound the tensors'. The bound is a text graph's on its
    // size (ir/serialize.h), whose tensors are written out in full.
    size_t bytes = size_t(num_elements(s)) * byte_size(t);
    if (bytes > kMaxTextGraphBytes - tensor_bytes_)
      error(start,
            "{}{} needs {} bytes{}, past the {} MiB that a listing's tensors hold in all "
            "(save the graph in binary)",
            to_string(t), to_string(s), bytes,
            tensor_bytes_ ? fmt::format(" after {} for the tensors above", tensor_bytes_) : "",
            kMaxTextGraphBytes >> 20);
    tensor_bytes_ += bytes;
    Tensor out(t, s);
    visit_dtype(t, [&](auto zero) {
      using T = decltype(zero);
      using Parsed = std::conditional_t<std::is_same_v<T, uint8_t>, int, T>;
      size_t values_at = here();
      if (text_.substr(values_at).starts_with("{...}"))
        error(values_at,
              "the values of {} were left out of this listing (kiln dump prints them "
              "with --all-values)",
              out.summary());
      std::vector<Parsed> values =
          list<Parsed>('{', '}', [&] { return number<Parsed>("a value"); });
      auto data = out.data<T>();
      if (values.size() != data.size() && values.size() != 1)
        error(values_at, "{} holds {} values, got {} (one value fills it)", out.summary(),
              data.size(), values.size());
      for (size_t i = 0; i < data.size(); ++i) {
        Parsed v = values[values.size() == 1 ? 0 : i];
        if constexpr (std::is_same_v<T, uint8_t>) {
          if (v != 0 && v != 1) error(values_at, "a bool value is 0 or 1, got {}", v);
        }
        data[i] = T(v);
      }
    });
    return out;
  }

  AttrValue value(AttrKind kind) {
    switch (kind) {
    case AttrKind::i: return number<int64_t>("an integer");
    case AttrKind::f: return number<double>("a number");
    case AttrKind::b: {
      size_t start = here();
      std::string_view w = word("true or false");
      if (w == "true" || w == "false") return w == "true";
      error(start, "expected true or false, got '{}'", escaped(w));
    }
    case AttrKind::s: return string_literal();
    case AttrKind::ints:
      return list<int64_t>('[', ']', [&] { return number<int64_t>("an integer"); });
    case AttrKind::floats:
      return list<double>('[', ']', [&] { return number<double>("a number"); });
    case AttrKind::dtype: return dtype();
    case AttrKind::tensor: return tensor();
    case AttrKind::graph: break;
    }
    error(pos_, "a graph attribute is written as a block after the type: KEY {{ nodes }}");
  }

  const AttrSpec &spec(const OpDef &op, size_t at, std::string_view key) {
    for (const AttrSpec &s : op.attrs)
      if (s.name == key) return s;
    std::vector<std::string> known;
    for (const AttrSpec &s : op.attrs) known.push_back(s.name);
    error(at, "op '{}' has no attribute '{}'{}", op.name, escaped(key), did_you_mean(key, known));
  }

  void attribute(const OpDef &op, Attrs &attrs) {
    size_t at = here();
    std::string key(word("an attribute name"));
    const AttrSpec &s = spec(op, at, key);
    expect('=', fmt::format("after attribute '{}'", key));
    if (attrs.count(key)) error(at, "attribute '{}' is given twice", key);
    attrs.emplace(key, value(s.kind));
  }

  const OpDef &op() {
    size_t at = here();
    std::string_view name = word("an op name");
    if (const OpDef *def = OpRegistry::get().find(name)) return *def;
    std::vector<std::string> ops;
    for (const OpDef &def : OpRegistry::get().all()) ops.push_back(def.name);
    error(at, "unknown op '{}'{}", escaped(name), did_you_mean(name, ops));
  }

  // Whether a word and '{' come next: a graph attribute's block.
  bool block_follows() {
    size_t start = here();
    pos_ += word_at(start).size();
    bool block = pos_ > start && peek() == '{';
    pos_ = start;
    return block;
  }

  // (%a, %b): names defined above in `g`.
  std::vector<NodeId> inputs(const Graph &g) {
    std::vector<NodeId> ids;
    expect('(', "after the op name");
    if (accept(')')) return ids;
    do {
      size_t at = here();
      std::string input = name();
      std::optional<NodeId> id = g.find(input);
      if (!id) error(at, "'%{}' is not defined above", escaped(input));
      ids.push_back(*id);
    } while (accept(','));
    expect(')', "after the inputs");
    return ids;
  }

  // {key=value, ...}, if present.
  Attrs attributes(const OpDef &def) {
    Attrs attrs;
    if (!accept('{') || accept('}')) return attrs;
    do {
      attribute(def, attrs);
    } while (accept(','));
    expect('}', "after the attributes");
    return attrs;
  }

  // KEY { nodes }: the graph attributes, after the type.
  void blocks(const OpDef &def, Attrs &attrs, int depth) {
    while (block_follows()) {
      size_t at = pos_;
      std::string key(word("an attribute name"));
      if (spec(def, at, key).kind != AttrKind::graph)
        error(at, "attribute '{}' is not a graph: write it in the braces", key);
      if (attrs.count(key)) error(at, "attribute '{}' is given twice", key);
      if (depth + 1 >= kMaxNesting) error(at, "blocks nested deeper than {}", kMaxNesting);
      expect('{', "to open the block");
      attrs.emplace(key, std::make_shared<const Graph>(block(depth + 1)));
      expect('}', fmt::format("to close the block of '{}'", key));
    }
  }

  //   %name = op(%inputs) {key=value, ...} : type KEY { nodes }...
  void node(Graph &g, int depth) {
    size_t start = pos_;
    std::string node_name = name();
    expect('=', "after the node's name");
    const OpDef &def = op();
    std::vector<NodeId> ids = inputs(g);
    Attrs attrs = attributes(def);
    std::optional<TensorType> written;
    size_t type_at = pos_;
    if (accept(':')) {
      type_at = here();
      written = type();
    }
    blocks(def, attrs, depth);
    try {
      g.add_node(def.name, node_name, std::move(ids), std::move(attrs));
    } catch (const Error &e) {
      error(start, "{}", e.what());
    }
    const TensorType &inferred = g.nodes().back().type;
    if (written && !(*written == inferred))
      error(type_at, "the type is written {}, op '{}' infers {}", to_string(*written), def.name,
            to_string(inferred));
  }

  // Nodes up to the end of the text or a '}'.
  Graph block(int depth) {
    Graph g;
    for (char c = peek(); c != '\0' && c != '}'; c = peek()) {
      if (c != '%') error(pos_, "expected a node ('%name = op(...)'), got {}", found());
      node(g, depth);
    }
    return g;
  }

  std::string_view text_, source_;
  size_t pos_ = 0;
  size_t tensor_bytes_ = 0; // of the tensors parsed so far
};

} // namespace

Graph parse_listing(std::string_view text, std::string_view source) {
  return Parser(text, source).listing();
}

} // namespace kiln
