#pragma once
// The safetensors container, independent of what the tensors mean: 8-byte little-endian header
// length N, N bytes of JSON, then the tensor bytes. F32 tensors (float models), I8 and I32
// (INT8 models: s8 weights, s32 biases and zero points).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace quicksr {

using TensorValues =
    std::variant<std::vector<float>, std::vector<std::int8_t>, std::vector<std::int32_t>>;

struct SafetensorsTensor {
  std::vector<std::int64_t> shape;
  TensorValues values;
};

// "F32", "I8" or "I32".
const char* dtype_name(const TensorValues& values);

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;  // "__metadata__"
  std::map<std::string, SafetensorsTensor> tensors;
  // Tensor names in data order (writing follows it; reading fills it by offset).
  std::vector<std::string> order;

  void add(const std::string& name, std::vector<std::int64_t> shape, TensorValues values);
};

inline constexpr std::size_t kMaxHeaderBytes = 100u << 20;

// The header length that the first 8 bytes (`start`) of a safetensors file of `file_size` bytes
// give, checked against the file size and kMaxHeaderBytes: what any other kind of file (an image,
// a video passed as a model) fails first. Lets a reader refuse such a file before reading it all.
// Throws quicksr::Error "<name>: <problem>".
std::uint64_t safetensors_header_size(const unsigned char* start, std::uint64_t file_size,
                                      const std::string& name);

// Checks everything before trusting it (header length, JSON, dtypes, shapes, offsets inside the
// data, no overlaps, no gaps); throws quicksr::Error "<name>: <problem>".
SafetensorsFile parse_safetensors(const unsigned char* data, std::size_t size,
                                  const std::string& name);
// The header is padded with spaces to a multiple of 8 bytes so tensor data stays aligned.
std::string serialize_safetensors(const SafetensorsFile& file);

}  // namespace quicksr
