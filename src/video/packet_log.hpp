#pragma once
// A file of encoded packets, as an encoder gave them: what a finished part of a video holds so
// that a resumed run writes the same packets without encoding them again. FFmpeg's containers do
// not fit: they drop decoding timestamps or side data, or refuse some codecs.
//
// Layout (integers little-endian): "QSRVPKT1"; per packet 'P', pts, dts, duration (i64), flags,
// size (u32), the bytes, the side data count (u32) and per side data its type, size (u32) and
// bytes; at the end 'E' and the packet count (u64). A file without its end is damaged.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

namespace quicksr::video {

struct LoggedSideData {
  std::uint32_t type = 0;  // AVPacketSideDataType
  std::vector<std::uint8_t> bytes;
  friend bool operator==(const LoggedSideData&, const LoggedSideData&) = default;
};

struct LoggedPacket {
  std::int64_t pts = 0;
  std::int64_t dts = 0;
  std::int64_t duration = 0;
  std::uint32_t flags = 0;  // AV_PKT_FLAG_*
  std::vector<std::uint8_t> bytes;
  std::vector<LoggedSideData> side_data;
  friend bool operator==(const LoggedPacket&, const LoggedPacket&) = default;
};

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

class PacketLogWriter {
 public:
  explicit PacketLogWriter(const std::filesystem::path& path);
  void append(const LoggedPacket& packet);
  // Writes the end and flushes it to the disk (fsync): a part renamed into place after this
  // survives a power cut. Throws quicksr::Error naming the file when the disk refuses.
  void finish();

 private:
  void put(const void* data, std::size_t size);
  std::filesystem::path path_;
  FilePtr file_;
  std::uint64_t count_ = 0;
};

class PacketLogReader {
 public:
  explicit PacketLogReader(const std::filesystem::path& path);
  // The next packet into `packet`; false after the last. Throws quicksr::Error naming the file
  // when it is damaged (truncated, sizes past its end, bytes after the end).
  bool next(LoggedPacket& packet);

 private:
  void get(void* data, std::size_t size);
  std::uint32_t get_size(std::uint64_t limit, const char* what);
  [[noreturn]] void damaged(const std::string& why) const;
  std::filesystem::path path_;
  FilePtr file_;
  std::uint64_t remaining_ = 0;  // bytes left in the file
  std::uint64_t count_ = 0;
  bool ended_ = false;
};

// The number of packets in the file, reading it through; throws quicksr::Error when damaged.
std::uint64_t count_logged_packets(const std::filesystem::path& path);

// A decoding timestamp `dts` moved into (last_dts, pts] where it lies outside (`pts` or `last_dts`
// may be kNoTimestamp: no bound). Each part's encoder starts its timestamps afresh, and x265 gives
// uninitialised ones (any value) to a part shorter than its B-frame delay; muxers refuse
// decoding timestamps that do not increase or pass the presentation time.
constexpr std::int64_t kNoTimestamp = INT64_MIN;  // AV_NOPTS_VALUE
std::int64_t joined_dts(std::int64_t dts, std::int64_t pts, std::int64_t last_dts);

}  // namespace quicksr::video
