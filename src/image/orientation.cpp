// EXIF orientation: read with libexif, applied by remapping pixels into display order.
#include <libexif/exif-data.h>

#include <cstring>
#include <memory>
#include <utility>

#include "image/codecs.hpp"

namespace quicksr::codecs {
namespace {

struct ExifDataUnref {
  void operator()(ExifData* data) const { exif_data_unref(data); }
};

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

int exif_orientation(const unsigned char* app1, std::size_t size) {
  static constexpr char kExifHeader[6] = {'E', 'x', 'i', 'f', 0, 0};
  if (size < sizeof kExifHeader || std::memcmp(app1, kExifHeader, sizeof kExifHeader) != 0) {
    return 1;
  }
  const std::unique_ptr<ExifData, ExifDataUnref> exif(
      exif_data_new_from_data(app1, static_cast<unsigned int>(size)));
  if (!exif) return 1;
  ExifEntry* entry = exif_content_get_entry(exif->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
  if (!entry || entry->format != EXIF_FORMAT_SHORT || entry->components < 1 || entry->size < 2) {
    return 1;
  }
  const int orientation = exif_get_short(entry->data, exif_data_get_byte_order(exif.get()));
  return orientation >= 1 && orientation <= 8 ? orientation : 1;
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
