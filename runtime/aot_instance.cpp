// The C API of runtime/aot_abi.h: instances of ahead-of-time compiled models.
#include "runtime/aot_abi.h"

#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/tensor.h"
#include "runtime/aot_model.h"
#include "runtime/checkpoint_file.h"
#include "runtime/executor.h"

#include <fmt/format.h>
#include <tbb/task_arena.h>

#include <cstring>
#include <new>
#include <optional>
#include <string>

using namespace kiln;

namespace {

thread_local std::string last_error;

// The caller's mistake, as opposed to a file's.
struct InvalidArgument : Error {
  using Error::Error;
};

template <typename... Args>
[[noreturn]] void invalid(fmt::format_string<Args...> format, Args &&...args) {
  throw InvalidArgument(fmt::format(format, std::forward<Args>(args)...));
}

template <typename T> void require(const T *p, const char *what) {
  if (!p) invalid("{} is null", what);
}

// Runs `body`, turning what it throws into a status and the thread's
// message; other kiln errors come from reading files (weights, checkpoints)
// or from a mismatched object.
template <typename F> int guarded(F &&body) {
  try {
    body();
    last_error.clear();
    return KILN_OK;
  } catch (const InvalidArgument &e) {
    last_error = e.what();
    return KILN_INVALID_ARGUMENT;
  } catch (const Error &e) {
    last_error = e.what();
    return KILN_BAD_FILE;
  } catch (const std::bad_alloc &) {
    last_error = "out of memory";
    return KILN_OUT_OF_MEMORY;
  } catch (const std::exception &e) {
    last_error = e.what();
    return KILN_INTERNAL;
  }
}

// An entry's pointers, bound once: a run only points the inputs' args at
// the caller's arrays.
struct BoundEntry {
  const aot::Entry *entry = nullptr;
  std::vector<Tensor> own;
  std::vector<void *> table;                        // by buffer
  std::vector<void *> args;                         // the kernels' args, kernel after kernel
  std::vector<size_t> first_arg;                    // by kernel
  std::vector<std::pair<size_t, int64_t>> fed_args; // (arg, input)
  std::vector<kiln_kernel_fn> fns;                  // by kernel
};

std::vector<VariableSpec> specs(const aot::Model &m) {
  std::vector<VariableSpec> out;
  for (const aot::TensorSpec &v : m.variables) out.push_back({v.name, v.dtype, v.shape});
  return out;
}

} // namespace

struct kiln_aot_instance {
  const kiln_aot_model *abi = nullptr;
  aot::Model model;
  std::optional<std::string> weights_path; // none: embedded
  std::vector<Tensor> variables;
  Tensor arena;
  std::vector<BoundEntry> entries;
  tbb::task_arena threads;

  explicit kiln_aot_instance(int n) : threads(n > 0 ? n : tbb::task_arena::automatic) {}

  std::string origin() const { return fmt::format("model '{}'", model.name); }

  // Values for every variable from a checkpoint's bytes, all checked first.
  std::vector<Tensor> decode_weights(std::string_view bytes, const std::string &origin) const {
    return decode_checkpoint(specs(model), bytes, origin);
  }

  void set_weights(std::vector<Tensor> values) {
    for (size_t i = 0; i < values.size(); ++i)
      std::memcpy(variables[i].raw(), values[i].raw(), values[i].bytes());
  }

  void load_initial_weights() {
    if (weights_path) {
      set_weights(
          decode_weights(read_file(*weights_path), fmt::format("checkpoint '{}'", *weights_path)));
      return;
    }
    if (!abi->weights)
      invalid("{} has no embedded weights: give the path of its .weights file", origin());
    set_weights(decode_weights(
        std::string_view(reinterpret_cast<const char *>(abi->weights), abi->weights_bytes),
        fmt::format("checkpoint embedded in {}", origin())));
  }

  void bind(BoundEntry &b, const aot::Entry &e) {
    b.entry = &e;
    b.table.assign(e.buffers.size(), nullptr);
    auto *constants = const_cast<unsigned char *>(abi->constants);
    for (size_t i = 0; i < e.buffers.size(); ++i) {
      const aot::Buffer &buf = e.buffers[i];
      switch (buf.place) {
      case aot::Place::arena: b.table[i] = static_cast<std::byte *>(arena.raw()) + buf.where; break;
      case aot::Place::variable: b.table[i] = variables[size_t(buf.where)].raw(); break;
      case aot::Place::in_place: b.table[i] = b.table[size_t(buf.where)]; break;
      case aot::Place::constant: b.table[i] = constants + buf.where; break;
      case aot::Place::input: break; // at each run
      case aot::Place::own:
        b.own.emplace_back(buf.dtype, Shape{buf.elements});
        b.table[i] = b.own.back().raw();
        break;
      }
    }
    for (const aot::KernelCall &k : e.kernels) {
      b.first_arg.push_back(b.args.size());
      b.fns.push_back(abi->kernels[k.table_index]);
      for (int32_t buffer : k.buffers) {
        const aot::Buffer &buf = e.buffers[size_t(buffer)];
        if (buf.place == aot::Place::input) b.fed_args.emplace_back(b.args.size(), buf.where);
        b.args.push_back(b.table[size_t(buffer)]);
      }
    }
  }

  void run(int index, const void *const *inputs, void *const *outputs) {
    if (index < 0 || size_t(index) >= entries.size())
      invalid("{} has entry points 0 to {}, not {}", origin(), entries.size() - 1, index);
    BoundEntry &b = entries[size_t(index)];
    const aot::Entry &e = *b.entry;
    if (!e.inputs.empty()) require(inputs, "the inputs array");
    if (!e.outputs.empty()) require(outputs, "the outputs array");
    for (size_t i = 0; i < e.inputs.size(); ++i)
      if (!inputs[i]) invalid("{} {}: input '{}' is null", origin(), e.name, e.inputs[i].name);
    for (size_t o = 0; o < e.outputs.size(); ++o)
      if (!outputs[o]) invalid("{} {}: output '{}' is null", origin(), e.name, e.outputs[o].name);
    for (auto [arg, input] : b.fed_args) b.args[arg] = const_cast<void *>(inputs[input]);
    threads.execute([&] {
      for (size_t k = 0; k < e.kernels.size(); ++k)
        run_kernel(b.fns[k], e.kernels[k].num_tasks, e.kernels[k].task_cost,
                   b.args.data() + b.first_arg[k]);
    });
    for (size_t o = 0; o < e.outputs.size(); ++o) {
      const aot::Buffer &buf = e.buffers[size_t(e.output_buffers[o])];
      const void *from =
          buf.place == aot::Place::input ? inputs[buf.where] : b.table[size_t(e.output_buffers[o])];
      std::memcpy(outputs[o], from, buf.bytes());
    }
  }

  size_t variable_index(const char *name, size_t bytes) const {
    require(name, "the variable name");
    for (size_t i = 0; i < model.variables.size(); ++i) {
      if (model.variables[i].name != name) continue;
      if (bytes != variables[i].bytes())
        invalid("{}: variable '{}' holds {} bytes ({}), not {}", origin(), name,
                variables[i].bytes(), variables[i].summary(), bytes);
      return i;
    }
    invalid("{} has no variable named '{}'", origin(), name);
  }
};

extern "C" {

const char *kiln_last_error(void) { return last_error.c_str(); }

int kiln_aot_create(const kiln_aot_model *model, const char *weights_path, int threads,
                    kiln_aot_instance **out) {
  return guarded([&] {
    require(out, "the instance pointer");
    *out = nullptr;
    require(model, "the model");
    if (model->abi_version != KILN_AOT_ABI_VERSION)
      fail("the model was compiled for runtime interface {}, this runtime has {}: recompile it "
           "with this kiln",
           model->abi_version, KILN_AOT_ABI_VERSION);
    auto instance = std::make_unique<kiln_aot_instance>(threads);
    instance->abi = model;
    instance->model =
        aot::decode(std::string_view(reinterpret_cast<const char *>(model->description),
                                     model->description_bytes),
                    model->num_kernels, model->constants_bytes);
    if (weights_path) instance->weights_path = weights_path;
    for (const aot::TensorSpec &v : instance->model.variables)
      instance->variables.emplace_back(v.dtype, v.shape);
    uint64_t arena = 0;
    for (const aot::Entry &e : instance->model.entries) arena = std::max(arena, e.arena_bytes);
    instance->arena = Tensor(DType::boolean, {int64_t(arena)});
    instance->entries.resize(instance->model.entries.size());
    for (size_t i = 0; i < instance->entries.size(); ++i)
      instance->bind(instance->entries[i], instance->model.entries[i]);
    instance->load_initial_weights();
    *out = instance.release();
  });
}

void kiln_aot_destroy(kiln_aot_instance *instance) { delete instance; }

int kiln_aot_run(kiln_aot_instance *instance, int entry, const void *const *inputs,
                 void *const *outputs) {
  return guarded([&] {
    require(instance, "the instance");
    instance->run(entry, inputs, outputs);
  });
}

int kiln_aot_init(kiln_aot_instance *instance) {
  return guarded([&] {
    require(instance, "the instance");
    instance->load_initial_weights();
  });
}

int kiln_aot_get_variable(const kiln_aot_instance *instance, const char *name, void *data,
                          size_t bytes) {
  return guarded([&] {
    require(instance, "the instance");
    require(data, "the data pointer");
    std::memcpy(data, instance->variables[instance->variable_index(name, bytes)].raw(), bytes);
  });
}

int kiln_aot_set_variable(kiln_aot_instance *instance, const char *name, const void *data,
                          size_t bytes) {
  return guarded([&] {
    require(instance, "the instance");
    require(data, "the data pointer");
    std::memcpy(instance->variables[instance->variable_index(name, bytes)].raw(), data, bytes);
  });
}

int kiln_aot_save_checkpoint(const kiln_aot_instance *instance, const char *path) {
  return guarded([&] {
    require(instance, "the instance");
    require(path, "the checkpoint path");
    std::string origin = fmt::format("checkpoint '{}'", path);
    std::string bytes = encode_checkpoint(
        specs(instance->model), [&](size_t i) { return instance->variables[i]; }, origin);
    try {
      write_file_atomically(path, bytes);
    } catch (const Error &e) {
      fail("{}: {}", origin, e.what());
    }
  });
}

int kiln_aot_load_checkpoint(kiln_aot_instance *instance, const char *path) {
  return guarded([&] {
    require(instance, "the instance");
    require(path, "the checkpoint path");
    instance->set_weights(
        instance->decode_weights(read_file(path), fmt::format("checkpoint '{}'", path)));
  });
}

} // extern "C"
