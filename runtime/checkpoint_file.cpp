#include "runtime/checkpoint_file.h"

#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/kiln.pb.h"
#include "ir/tensor_proto.h"
#include "ir/utf8.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/unknown_field_set.h>
#include <zlib.h>

#include <climits>
#include <optional>
#include <unordered_map>
#include <variant>

namespace kiln {

namespace {

// Version 2: an entry's checksum covers its name, dtype and shape as well as
// its data, so two same-shape entries with their names swapped are caught;
// version 1 files (data only) are still read.
constexpr int kCheckpointVersion = 2;

uint32_t crc(uint32_t running, std::string_view bytes) {
  return uint32_t(crc32_z(running, reinterpret_cast<const Bytef *>(bytes.data()), bytes.size()));
}

uint32_t checksum(const proto::NamedTensor &entry, int version) {
  const proto::TensorProto &t = entry.tensor();
  if (version == 1) return crc(0, t.data());
  uint32_t c = crc(0, entry.name());
  c = crc(c, std::string_view("\0", 1));
  int32_t dtype = t.dtype();
  c = crc(c, std::string_view(reinterpret_cast<const char *>(&dtype), sizeof dtype));
  for (int64_t d : t.shape())
    c = crc(c, std::string_view(reinterpret_cast<const char *>(&d), sizeof d));
  return crc(c, t.data());
}

std::string serialize_deterministic(const proto::Checkpoint &c, const std::string &origin) {
  // Protobuf cannot write or read a message of 2 GiB or more.
  if (c.ByteSizeLong() > size_t(INT_MAX))
    fail("{}: {} bytes exceed protobuf's 2 GiB message limit", origin, c.ByteSizeLong());
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  if (!c.SerializeToCodedStream(&coded)) fail("{}: could not serialize", origin);
  coded.Trim();
  return out;
}

proto::Checkpoint parse(std::string_view bytes, const std::string &origin) {
  proto::Checkpoint c;
  google::protobuf::LogSilencer quiet; // the errors below name the file
  if (bytes.size() > size_t(INT_MAX) || !c.ParseFromArray(bytes.data(), int(bytes.size())))
    fail("{}: not a kiln checkpoint, or truncated or corrupt", origin);
  // Other protobuf messages (or noise) often parse too; a checkpoint always
  // has a version and no field this reader does not know.
  auto unknown_fields = [](const google::protobuf::Message &m) {
    return !m.GetReflection()->GetUnknownFields(m).empty();
  };
  bool unknown = unknown_fields(c);
  for (const proto::NamedTensor &v : c.variables())
    unknown |= unknown_fields(v) || unknown_fields(v.tensor());
  if (unknown || c.format_version() == 0)
    fail("{}: not a kiln checkpoint, or truncated or corrupt", origin);
  if (c.format_version() != 1 && c.format_version() != kCheckpointVersion)
    fail("{}: format version {} is not supported (this kiln reads versions 1 and {})", origin,
         c.format_version(), kCheckpointVersion);
  return c;
}

// The value for variable `n` from its entry in the file, or the reason it
// cannot be used.
std::variant<Tensor, std::string> value_for(const VariableSpec &n, const proto::NamedTensor &entry,
                                            int version) {
  std::string who = fmt::format("variable '{}'", n.name);
  try {
    const proto::TensorProto &p = entry.tensor();
    DType dtype = from_proto(p.dtype(), who);
    if (dtype != n.dtype)
      return fmt::format("{} has dtype {} in the file, the graph expects {}", who, to_string(dtype),
                         to_string(n.dtype));
    Shape shape(p.shape().begin(), p.shape().end());
    if (shape != n.shape)
      return fmt::format("{} has shape {} in the file, the graph expects {}", who, to_string(shape),
                         to_string(n.shape));
    Tensor t = from_proto(p, who);
    if (checksum(entry, version) != entry.crc32())
      return fmt::format("{}: data does not match its checksum (the file is damaged)", who);
    return t;
  } catch (const Error &e) {
    return std::string(e.what());
  }
}

} // namespace

std::string encode_checkpoint(std::span<const VariableSpec> variables,
                              const std::function<Tensor(size_t)> &value,
                              const std::string &origin) {
  proto::Checkpoint c;
  c.set_format_version(kCheckpointVersion);
  for (size_t i = 0; i < variables.size(); ++i) {
    proto::NamedTensor *entry = c.add_variables();
    entry->set_name(variables[i].name);
    to_proto(value(i), *entry->mutable_tensor());
    entry->set_crc32(checksum(*entry, kCheckpointVersion));
  }
  return serialize_deterministic(c, origin);
}

std::vector<Tensor>
decode_checkpoint(std::span<const VariableSpec> variables, std::string_view bytes,
                  const std::string &origin, CheckpointReadOptions options,
                  const std::function<std::string(const std::string &)> &describe_extra) {
  proto::Checkpoint c = parse(bytes, origin);

  std::unordered_map<std::string, int> in_file;
  std::vector<std::string> problems;
  for (int i = 0; i < c.variables_size(); ++i)
    if (!in_file.emplace(c.variables(i).name(), i).second)
      problems.push_back(
          fmt::format("variable '{}' appears twice in the file", escaped(c.variables(i).name())));

  std::vector<Tensor> values;
  for (const VariableSpec &n : variables) {
    auto it = in_file.find(n.name);
    if (it == in_file.end()) {
      problems.push_back(fmt::format("variable '{}' is missing from the file", n.name));
      continue;
    }
    auto value = value_for(n, c.variables(it->second), c.format_version());
    if (auto *reason = std::get_if<std::string>(&value))
      problems.push_back(std::move(*reason));
    else
      values.push_back(std::move(std::get<Tensor>(value)));
    in_file.erase(it);
  }
  for (const proto::NamedTensor &entry : c.variables()) {
    if (!in_file.count(entry.name())) continue; // matched, or a reported duplicate
    if (!options.allow_extra)
      problems.push_back(describe_extra ? describe_extra(entry.name())
                                        : fmt::format("variable '{}' in the file is not in the "
                                                      "model",
                                                      escaped(entry.name())));
    in_file.erase(entry.name());
  }

  if (!problems.empty()) fail("{}: {}", origin, fmt::join(problems, fmt::format("\n{}: ", origin)));
  return values;
}

} // namespace kiln
