// Element types of kiln tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kiln {

enum class DType : uint8_t { f32, f64, i32, i64, boolean };

inline constexpr DType f32 = DType::f32;
inline constexpr DType f64 = DType::f64;
inline constexpr DType i32 = DType::i32;
inline constexpr DType i64 = DType::i64;
inline constexpr DType boolean = DType::boolean;

size_t byte_size(DType t);
// 1628160 -> "1.6 MiB"; under 1 KiB, "812 bytes".
std::string human_bytes(uint64_t bytes);
std::string_view to_string(DType t);
std::optional<DType> parse_dtype(std::string_view name);

inline bool is_float(DType t) { return t == DType::f32 || t == DType::f64; }
inline bool is_int(DType t) { return t == DType::i32 || t == DType::i64; }

// The C++ type that stores one element of each dtype (bool is one byte).
template <DType T> struct ctype;
template <> struct ctype<DType::f32> { using type = float; };
template <> struct ctype<DType::f64> { using type = double; };
template <> struct ctype<DType::i32> { using type = int32_t; };
template <> struct ctype<DType::i64> { using type = int64_t; };
template <> struct ctype<DType::boolean> { using type = uint8_t; };

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::boolean; }

// Calls f(T{}) with T the storage type of `t`.
template <typename F> decltype(auto) visit_dtype(DType t, F &&f) {
  switch (t) {
  case DType::f32: return f(float{});
  case DType::f64: return f(double{});
  case DType::i32: return f(int32_t{});
  case DType::i64: return f(int64_t{});
  case DType::boolean: return f(uint8_t{});
  }
  __builtin_unreachable();
}

} // namespace kiln
