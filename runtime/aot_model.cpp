#include "runtime/aot_model.h"

#include "ir/error.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace kiln::aot {

namespace {

// Little-endian fields, strings and vectors with a u64 length first: the
// writer and the reader run on the same machine (an object is compiled for
// it), so plain memcpy is the format.
class Writer {
public:
  template <typename T>
  requires std::is_arithmetic_v<T> || std::is_enum_v<T>
  void put(T v) { out_.append(reinterpret_cast<const char *>(&v), sizeof v); }
  void put(const std::string &s) {
    put(uint64_t(s.size()));
    out_ += s;
  }
  template <typename T> void put(const std::vector<T> &v) {
    put(uint64_t(v.size()));
    for (const T &x : v) put(x);
  }
  void put(const TensorSpec &t) {
    put(t.name);
    put(t.dtype);
    put(t.shape);
  }
  void put(const PlanBuffer &b) {
    put(b.place);
    put(b.dtype);
    put(b.elements);
    put(b.where);
  }
  void put(const IndexCheck &c) {
    put(c.record);
    put(c.indices);
    put(c.limit);
    put(c.shape);
    put(c.node);
    put(c.input);
  }
  void put(const KernelCall &k) {
    put(k.function);
    put(k.num_tasks);
    put(k.task_cost);
    put(k.buffers);
    put(k.writes);
    put(k.collective);
    put(uint8_t(k.index_check.has_value()));
    if (k.index_check) put(*k.index_check);
  }
  void put(const Plan &e) {
    put(e.name);
    put(e.inputs);
    put(e.outputs);
    put(e.output_buffers);
    put(e.buffers);
    put(e.kernels);
    put(e.arena_bytes);
  }
  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

class Reader {
public:
  explicit Reader(std::string_view in) : in_(in) {}

  template <typename T>
  requires std::is_arithmetic_v<T> || std::is_enum_v<T>
  void get(T &v) {
    need(sizeof v);
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
  }
  void get(std::string &s) {
    uint64_t n = count(1);
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
  }
  template <typename T> void get(std::vector<T> &v) {
    v.resize(count(sizeof(T) > 8 ? 8 : sizeof(T)));
    for (T &x : v) get(x);
  }
  void get(TensorSpec &t) {
    get(t.name);
    get(t.dtype);
    get(t.shape);
    check_dtype(t.dtype);
    for (int64_t d : t.shape)
      if (d < 0) bad("a negative dimension");
  }
  void get(PlanBuffer &b) {
    get(b.place);
    get(b.dtype);
    get(b.elements);
    get(b.where);
    check_dtype(b.dtype);
    if (b.place > Place::own || b.elements < 0 || b.where < 0) bad("a buffer out of range");
  }
  void get(IndexCheck &c) {
    get(c.record);
    get(c.indices);
    get(c.limit);
    get(c.shape);
    get(c.node);
    get(c.input);
  }
  void get(KernelCall &k) {
    get(k.function);
    get(k.num_tasks);
    get(k.task_cost);
    get(k.buffers);
    get(k.writes);
    get(k.collective);
    if (k.collective > CollectiveStep::finish_allreduce_mean ||
        (k.collective != CollectiveStep::none && k.buffers.size() != 2))
      bad("a collective step out of range");
    uint8_t checked = 0;
    get(checked);
    if (checked > 1) bad("an index check flag out of range");
    if (checked) get(k.index_check.emplace());
  }
  void get(Plan &e) {
    get(e.name);
    get(e.inputs);
    get(e.outputs);
    get(e.output_buffers);
    get(e.buffers);
    get(e.kernels);
    get(e.arena_bytes);
  }
  bool done() const { return in_.empty(); }

  [[noreturn]] static void bad(const char *what) {
    fail("the model's description is corrupt ({}): was its object compiled by another kiln?", what);
  }

private:
  // A length prefix, checked against what is left (each item takes at least
  // `min_item` bytes), so a corrupt length cannot ask for gigabytes.
  uint64_t count(size_t min_item) {
    uint64_t n;
    get(n);
    if (n > in_.size() / min_item) bad("a length past the end");
    return n;
  }
  void need(size_t n) const {
    if (in_.size() < n) bad("truncated");
  }
  static void check_dtype(DType t) {
    if (t > DType::boolean) bad("an unknown dtype");
  }

  std::string_view in_;
};

// The executor reads an i64 at the check's record and, when it names a
// position, that element of the indices.
bool index_check_ok(const Plan &e, const IndexCheck &c) {
  auto buffer = [&](int32_t b) {
    return b >= 0 && size_t(b) < e.buffers.size() ? &e.buffers[size_t(b)] : nullptr;
  };
  const PlanBuffer *record = buffer(c.record), *indices = buffer(c.indices);
  return record && record->dtype == DType::i64 && record->elements >= 1 && indices &&
         (indices->dtype == DType::i32 || indices->dtype == DType::i64) &&
         std::all_of(c.shape.begin(), c.shape.end(), [](int64_t d) { return d >= 0; }) &&
         num_elements(c.shape) == indices->elements;
}

void check(const Model &m, uint32_t num_kernels, uint64_t constants_bytes) {
  for (const Plan &e : m.entries) {
    auto buffer_ok = [&](int64_t b) { return b >= 0 && size_t(b) < e.buffers.size(); };
    for (size_t i = 0; i < e.buffers.size(); ++i) {
      const PlanBuffer &b = e.buffers[i];
      uint64_t end = uint64_t(b.where) + b.bytes();
      bool ok = true;
      switch (b.place) {
      case Place::arena: ok = end <= e.arena_bytes; break;
      case Place::variable:
        ok = size_t(b.where) < m.variables.size() &&
             m.variables[size_t(b.where)].bytes() == b.bytes();
        break;
      case Place::in_place: ok = size_t(b.where) < i; break;
      case Place::constant: ok = end <= constants_bytes; break;
      case Place::input:
        ok = size_t(b.where) < e.inputs.size() && e.inputs[size_t(b.where)].bytes() == b.bytes();
        break;
      case Place::own: break;
      }
      if (!ok) Reader::bad("a buffer out of place");
    }
    for (const KernelCall &k : e.kernels) {
      if (k.collective == CollectiveStep::none && k.function >= num_kernels)
        Reader::bad("a kernel past the table");
      for (int32_t b : k.buffers)
        if (!buffer_ok(b)) Reader::bad("a kernel argument out of range");
      if (const auto &c = k.index_check; c && !index_check_ok(e, *c))
        Reader::bad("an index check out of range");
    }
    if (e.output_buffers.size() != e.outputs.size()) Reader::bad("outputs without buffers");
    for (size_t o = 0; o < e.outputs.size(); ++o)
      if (!buffer_ok(e.output_buffers[o]) ||
          e.buffers[size_t(e.output_buffers[o])].bytes() != e.outputs[o].bytes())
        Reader::bad("an output of the wrong size");
  }
}

} // namespace

std::string encode(const Model &m) {
  Writer w;
  w.put(m.name);
  w.put(m.variables);
  w.put(m.entries);
  return w.take();
}

Model decode(std::string_view bytes, uint32_t num_kernels, uint64_t constants_bytes) {
  Reader r(bytes);
  Model m;
  r.get(m.name);
  r.get(m.variables);
  r.get(m.entries);
  if (!r.done()) Reader::bad("bytes after the end");
  check(m, num_kernels, constants_bytes);
  return m;
}

} // namespace kiln::aot
