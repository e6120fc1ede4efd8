#include "model/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "model/bounded_json.hpp"
#include "quicksr/error.hpp"

namespace quicksr {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; quicksr copies it as is");

const char* dtype_name(const TensorValues& values) {
  constexpr const char* kNames[] = {"F32", "I8", "I32"};
  return kNames[values.index()];
}

void SafetensorsFile::add(const std::string& name, std::vector<std::int64_t> shape,
                          TensorValues values) {
  tensors[name] = SafetensorsTensor{std::move(shape), std::move(values)};
  order.push_back(name);
}

namespace {

using Json = nlohmann::json;

struct Entry {
  std::string name;
  std::vector<std::int64_t> shape;
  TensorValues values;  // empty, of the entry's dtype
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

[[noreturn]] void fail(const std::string& file, const std::string& problem) {
  throw Error(file + ": " + problem);
}

std::uint64_t byte_size(const TensorValues& values) {
  return std::visit([](const auto& v) -> std::uint64_t { return v.size() * sizeof(v[0]); }, values);
}

std::map<std::string, std::string> parse_metadata(const Json& json, const std::string& file) {
  if (!json.is_object()) fail(file, "\"__metadata__\" is not a JSON object");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : json.items()) {
    if (!value.is_string()) fail(file, "metadata \"" + key + "\" is not a string");
    metadata[key] = value.get<std::string>();
  }
  return metadata;
}

// Non-negative JSON integer, or an error naming what it is.
std::uint64_t parse_count(const Json& json, const std::string& file, const std::string& what) {
  if (!json.is_number_unsigned()) fail(file, what + " is not a non-negative integer");
  return json.get<std::uint64_t>();
}

Entry parse_entry(const std::string& name, const Json& json, std::uint64_t data_size,
                  const std::string& file) {
  const std::string where = "tensor \"" + name + "\"";
  if (!json.is_object()) fail(file, where + " is not a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!json.contains(key)) fail(file, where + " has no \"" + key + "\"");
  }
  const Json& dtype = json["dtype"];
  if (!dtype.is_string()) fail(file, where + " dtype is not a string");
  Entry entry;
  entry.name = name;
  if (dtype == "I8") {
    entry.values = std::vector<std::int8_t>();
  } else if (dtype == "I32") {
    entry.values = std::vector<std::int32_t>();
  } else if (dtype != "F32") {
    fail(file,
         where + " has dtype " + dtype.get<std::string>() + "; only F32, I8 and I32 are supported");
  }
  const std::size_t element_size = std::visit(
      [](const auto& values) {
        return sizeof(typename std::decay_t<decltype(values)>::value_type);
      },
      entry.values);
  const Json& shape = json["shape"];
  if (!shape.is_array()) fail(file, where + " shape is not an array");
  // Element count, checked against the data size at every step so it cannot overflow.
  std::uint64_t elements = 1;
  for (const Json& dim : shape) {
    const std::uint64_t extent = parse_count(dim, file, where + " shape entry");
    if (extent > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(file, where + " shape entry is too large");
    }
    entry.shape.push_back(static_cast<std::int64_t>(extent));
    if (extent != 0 && elements > data_size / extent) {
      fail(file, where + " shape needs more bytes than the file holds");
    }
    elements *= extent;
  }
  const Json& offsets = json["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) {
    fail(file, where + " data_offsets is not an array of two integers");
  }
  entry.begin = parse_count(offsets[0], file, where + " data_offsets[0]");
  entry.end = parse_count(offsets[1], file, where + " data_offsets[1]");
  if (entry.begin > entry.end) fail(file, where + " data_offsets end before they begin");
  if (entry.end > data_size) {
    fail(file, where + " data_offsets [" + std::to_string(entry.begin) + ", " +
                   std::to_string(entry.end) + "] reach past the " + std::to_string(data_size) +
                   " data bytes");
  }
  if (elements > data_size / element_size || entry.end - entry.begin != elements * element_size) {
    fail(file, where + " data_offsets span " + std::to_string(entry.end - entry.begin) +
                   " bytes, but its shape needs " + std::to_string(elements) + " " +
                   dtype.get<std::string>() + " values");
  }
  return entry;
}

// The tensors must tile the data section exactly: sorted by offset, each starts where the
// previous one ended, and the last ends at the end of the file.
void check_tiling(std::vector<Entry>& entries, std::uint64_t data_size, const std::string& file) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t position = 0;
  std::string previous = "the start of the data";
  for (const Entry& entry : entries) {
    if (entry.begin < position) {
      fail(file, "tensor \"" + entry.name + "\" overlaps " + previous);
    }
    if (entry.begin > position) {
      fail(file, "gap of " + std::to_string(entry.begin - position) + " bytes before tensor \"" +
                     entry.name + "\"");
    }
    position = entry.end;
    previous = "tensor \"" + entry.name + "\"";
  }
  if (position != data_size) {
    fail(file, std::to_string(data_size - position) + " unused bytes after the last tensor");
  }
}

}  // namespace

std::uint64_t safetensors_header_size(const unsigned char* start, std::uint64_t file_size,
                                      const std::string& name) {
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, start, 8);
  if (header_size > kMaxHeaderBytes || header_size > file_size - 8) {
    fail(name, "not a safetensors model: header length " + std::to_string(header_size) +
                   " exceeds " +
                   (header_size > kMaxHeaderBytes ? "the 100 MB limit"
                                                  : "the file size " + std::to_string(file_size)));
  }
  return header_size;
}

SafetensorsFile parse_safetensors(const unsigned char* data, std::size_t size,
                                  const std::string& name) {
  if (size < 8) {
    fail(name, "too short for a safetensors file (" + std::to_string(size) + " bytes)");
  }
  const std::uint64_t header_size = safetensors_header_size(data, size, name);
  const auto* header_begin = reinterpret_cast<const char*>(data + 8);
  Json header;
  try {
    header = parse_bounded_json(header_begin, header_begin + header_size);
  } catch (const Error& error) {
    fail(name, std::string("header ") + error.what());
  }
  if (header.is_discarded()) fail(name, "header is not valid JSON");
  if (!header.is_object()) fail(name, "header is not a JSON object");

  const unsigned char* tensor_data = data + 8 + header_size;
  const std::uint64_t data_size = size - 8 - header_size;
  SafetensorsFile file;
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      file.metadata = parse_metadata(value, name);
    } else {
      entries.push_back(parse_entry(key, value, data_size, name));
    }
  }
  check_tiling(entries, data_size, name);
  for (Entry& entry : entries) {
    std::visit(
        [&](auto& values) {
          values.resize((entry.end - entry.begin) / sizeof(values[0]));
          if (!values.empty()) {
            std::memcpy(values.data(), tensor_data + entry.begin, entry.end - entry.begin);
          }
        },
        entry.values);
    file.add(entry.name, entry.shape, std::move(entry.values));
  }
  return file;
}

std::string serialize_safetensors(const SafetensorsFile& file) {
  Json header = Json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::uint64_t offset = 0;
  for (const std::string& name : file.order) {
    const SafetensorsTensor& tensor = file.tensors.at(name);
    const std::uint64_t bytes = byte_size(tensor.values);
    header[name] = {{"dtype", dtype_name(tensor.values)},
                    {"shape", tensor.shape},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string header_text = dump_json(header);
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string bytes;
  bytes.reserve(8 + header_text.size() + offset);
  const std::uint64_t header_size = header_text.size();
  bytes.append(reinterpret_cast<const char*>(&header_size), 8);
  bytes += header_text;
  for (const std::string& name : file.order) {
    std::visit(
        [&](const auto& values) {
          bytes.append(reinterpret_cast<const char*>(values.data()),
                       values.size() * sizeof(values[0]));
        },
        file.tensors.at(name).values);
  }
  return bytes;
}

}  // namespace quicksr
