// EXIF orientation: read from IFD0 of the EXIF block, applied by remapping pixels into display
// order. The tag is rewritten in place (not re-serialised) so every other byte of EXIF survives.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "image/codecs.hpp"

namespace quicksr::codecs {
namespace {

constexpr std::uint32_t kOrientationTag = 0x0112;
constexpr std::uint32_t kShortType = 3;
constexpr std::size_t kIfdEntryBytes = 12;

// Where the pixel displayed at (x, y) is stored, for an image stored as width x height.
// Orientations 5..8 swap the axes (the display is height x width).
std::pair<int, int> stored_position(int orientation, int x, int y, int width, int height) {
  switch (orientation) {
    case 2:  // mirrored left-right
      return {width - 1 - x, y};
    case 3:  // rotated 180 degrees
      return {width - 1 - x, height - 1 - y};
    case 4:  // mirrored top-bottom
      return {x, height - 1 - y};
    case 5:  // transposed
      return {y, x};
    case 6:  // display needs a 90 degree clockwise turn
      return {y, height - 1 - x};
    case 7:  // transversed
      return {width - 1 - y, height - 1 - x};
    case 8:  // display needs a 90 degree counter-clockwise turn
      return {width - 1 - y, x};
    default:
      return {x, y};
  }
}

}  // namespace

std::vector<unsigned char> exif_block(const unsigned char* data, std::size_t size) {
  static constexpr unsigned char kExifHeader[6] = {'E', 'x', 'i', 'f', 0, 0};
  if (size >= sizeof kExifHeader && std::equal(kExifHeader, kExifHeader + 6, data)) {
    data += sizeof kExifHeader;
    size -= sizeof kExifHeader;
  }
  static constexpr unsigned char kLittle[4] = {'I', 'I', 42, 0};
  static constexpr unsigned char kBig[4] = {'M', 'M', 0, 42};
  if (size < 8 || !(std::equal(kLittle, kLittle + 4, data) || std::equal(kBig, kBig + 4, data))) {
    return {};
  }
  return {data, data + size};
}

int take_exif_orientation(std::vector<unsigned char>& tiff) {
  if (tiff.size() < 8) return 1;
  const bool little = tiff[0] == 'I' && tiff[1] == 'I';
  if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
  const auto read = [&](std::size_t at, int bytes) {
    std::uint32_t value = 0;
    for (int i = 0; i < bytes; ++i) {
      const std::uint32_t byte = tiff[at + (little ? bytes - 1 - i : i)];
      value = (value << 8) | byte;
    }
    return value;
  };
  const std::size_t ifd = read(4, 4);
  if (ifd > tiff.size() - 2) return 1;
  const std::size_t entries = read(ifd, 2);
  for (std::size_t i = 0; i < entries; ++i) {
    const std::size_t entry = ifd + 2 + i * kIfdEntryBytes;
    if (entry + kIfdEntryBytes > tiff.size()) return 1;
    if (read(entry, 2) != kOrientationTag || read(entry + 2, 2) != kShortType) continue;
    const std::uint32_t orientation = read(entry + 8, 2);
    // The value sits in the first two bytes of the entry's value field, in the block's order.
    tiff[entry + 8] = little ? 1 : 0;
    tiff[entry + 9] = little ? 0 : 1;
    return orientation >= 1 && orientation <= 8 ? static_cast<int>(orientation) : 1;
  }
  return 1;
}

Image apply_orientation(Image stored, int orientation) {
  if (orientation < 2 || orientation > 8) return stored;
  const bool swap_axes = orientation >= 5;
  Image shown = stored;
  shown.width = swap_axes ? stored.height : stored.width;
  shown.height = swap_axes ? stored.width : stored.height;
  for (int y = 0; y < shown.height; ++y) {
    for (int x = 0; x < shown.width; ++x) {
      const auto [sx, sy] = stored_position(orientation, x, y, stored.width, stored.height);
      const std::size_t from = static_cast<std::size_t>(sy) * stored.width + sx;
      const std::size_t to = static_cast<std::size_t>(y) * shown.width + x;
      for (int c = 0; c < 3; ++c) shown.rgb[to * 3 + c] = stored.rgb[from * 3 + c];
      if (stored.has_alpha()) shown.alpha[to] = stored.alpha[from];
    }
  }
  return shown;
}

}  // namespace quicksr::codecs
