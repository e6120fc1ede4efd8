#pragma once
// The safetensors container, independent of what the tensors mean: 8-byte little-endian header
// length N, N bytes of JSON, then the tensor bytes. Only F32 tensors are supported.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace quicksr {

struct SafetensorsTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;  // "__metadata__"
  std::map<std::string, SafetensorsTensor> tensors;
  // Tensor names in data order (writing follows it; reading fills it by offset).
  std::vector<std::string> order;

  void add(const std::string& name, std::vector<std::int64_t> shape, std::vector<float> values);
};

inline constexpr std::size_t kMaxHeaderBytes = 100u << 20;

// Checks everything before trusting it (header length, JSON, dtypes, shapes, offsets inside the
// data, no overlaps, no gaps); throws quicksr::Error "<name>: <problem>".
SafetensorsFile parse_safetensors(const unsigned char* data, std::size_t size,
                                  const std::string& name);
// The header is padded with spaces to a multiple of 8 bytes so tensor data stays aligned.
std::string serialize_safetensors(const SafetensorsFile& file);

}  // namespace quicksr
