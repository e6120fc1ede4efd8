#include "video/packet_log.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "quicksr/error.hpp"

namespace quicksr::video {
namespace {

constexpr char kMagic[8] = {'Q', 'S', 'R', 'V', 'P', 'K', 'T', '1'};
constexpr char kPacketTag = 'P';
constexpr char kEndTag = 'E';
constexpr std::uint32_t kMaxSideData = 64;  // FFmpeg has fewer types than this

template <typename T>
std::array<std::uint8_t, sizeof(T)> little_endian(T value) {
  std::array<std::uint8_t, sizeof(T)> bytes{};
  auto bits = static_cast<std::make_unsigned_t<T>>(value);
  for (std::uint8_t& byte : bytes) {
    byte = static_cast<std::uint8_t>(bits & 0xff);
    bits = static_cast<decltype(bits)>(bits >> 8);
  }
  return bytes;
}

template <typename T>
T from_little_endian(const std::array<std::uint8_t, sizeof(T)>& bytes) {
  std::make_unsigned_t<T> bits = 0;
  for (std::size_t i = sizeof(T); i-- > 0;)
    bits = static_cast<decltype(bits)>(bits << 8 | bytes[i]);
  return static_cast<T>(bits);
}

}  // namespace

PacketLogWriter::PacketLogWriter(const std::filesystem::path& path)
    : path_(path), file_(std::fopen(path.c_str(), "wb")) {
  if (!file_) throw Error(path.string() + ": cannot write: " + std::strerror(errno));
  put(kMagic, sizeof kMagic);
}

void PacketLogWriter::put(const void* data, std::size_t size) {
  if (size > 0 && std::fwrite(data, 1, size, file_.get()) != size) {
    throw Error(path_.string() + ": cannot write: " + std::strerror(errno));
  }
}

void PacketLogWriter::append(const LoggedPacket& packet) {
  const auto put_value = [&](auto value) {
    const auto bytes = little_endian(value);
    put(bytes.data(), bytes.size());
  };
  put(&kPacketTag, 1);
  put_value(packet.pts);
  put_value(packet.dts);
  put_value(packet.duration);
  put_value(packet.flags);
  put_value(static_cast<std::uint32_t>(packet.bytes.size()));
  put(packet.bytes.data(), packet.bytes.size());
  put_value(static_cast<std::uint32_t>(packet.side_data.size()));
  for (const LoggedSideData& side : packet.side_data) {
    put_value(side.type);
    put_value(static_cast<std::uint32_t>(side.bytes.size()));
    put(side.bytes.data(), side.bytes.size());
  }
  ++count_;
}

void PacketLogWriter::finish() {
  put(&kEndTag, 1);
  const auto count = little_endian(count_);
  put(count.data(), count.size());
  if (std::fflush(file_.get()) != 0 || ::fsync(::fileno(file_.get())) != 0) {
    throw Error(path_.string() + ": cannot write: " + std::strerror(errno));
  }
}

PacketLogReader::PacketLogReader(const std::filesystem::path& path)
    : path_(path), file_(std::fopen(path.c_str(), "rb")) {
  if (!file_) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
  std::error_code error;
  remaining_ = std::filesystem::file_size(path, error);
  if (error) throw Error(path.string() + ": cannot open: " + error.message());
  char magic[sizeof kMagic] = {};
  get(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) damaged("not a quicksr packet file");
}

void PacketLogReader::damaged(const std::string& why) const {
  throw Error(path_.string() + ": damaged: " + why);
}

void PacketLogReader::get(void* data, std::size_t size) {
  if (size > remaining_) damaged("ends early");
  if (size > 0 && std::fread(data, 1, size, file_.get()) != size) damaged("cannot be read");
  remaining_ -= size;
}

// A u32 size no larger than `limit` nor than what is left of the file.
std::uint32_t PacketLogReader::get_size(std::uint64_t limit, const char* what) {
  std::array<std::uint8_t, 4> bytes{};
  get(bytes.data(), bytes.size());
  const auto size = from_little_endian<std::uint32_t>(bytes);
  if (size > remaining_) {
    damaged(std::string(what) + " of " + std::to_string(size) + " past the end of the file");
  }
  if (size > limit) damaged(std::string(what) + " of " + std::to_string(size) + " is too many");
  return size;
}

bool PacketLogReader::next(LoggedPacket& packet) {
  if (ended_) return false;
  const auto get_value = [&](auto& value) {
    std::array<std::uint8_t, sizeof value> bytes{};
    get(bytes.data(), bytes.size());
    value = from_little_endian<std::remove_reference_t<decltype(value)>>(bytes);
  };
  char tag = 0;
  get(&tag, 1);
  if (tag == kEndTag) {
    std::uint64_t count = 0;
    get_value(count);
    if (count != count_) damaged("its end counts another number of packets");
    if (remaining_ != 0) damaged("bytes after its end");
    ended_ = true;
    return false;
  }
  if (tag != kPacketTag) damaged("unknown record");
  get_value(packet.pts);
  get_value(packet.dts);
  get_value(packet.duration);
  get_value(packet.flags);
  packet.bytes.resize(get_size(remaining_, "a packet"));
  get(packet.bytes.data(), packet.bytes.size());
  packet.side_data.resize(get_size(kMaxSideData, "a side data count"));
  for (LoggedSideData& side : packet.side_data) {
    get_value(side.type);
    side.bytes.resize(get_size(remaining_, "side data"));
    get(side.bytes.data(), side.bytes.size());
  }
  ++count_;
  return true;
}

std::uint64_t count_logged_packets(const std::filesystem::path& path) {
  PacketLogReader reader(path);
  LoggedPacket packet;
  std::uint64_t count = 0;
  while (reader.next(packet)) ++count;
  return count;
}

std::int64_t joined_dts(std::int64_t dts, std::int64_t pts, std::int64_t last_dts) {
  if (pts != kNoTimestamp) dts = std::min(dts, pts);
  if (last_dts != kNoTimestamp && last_dts < INT64_MAX) dts = std::max(dts, last_dts + 1);
  return dts;
}

}  // namespace quicksr::video
