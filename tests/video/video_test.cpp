// quicksr video on clips made at test time by the ffmpeg command (testsrc + a sine tone +
// subtitles), checked by reading the result back with FFmpeg's libraries.
#include <gtest/gtest.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "quicksr/upscaler.hpp"
#include "support/run_quicksr.hpp"
#include "support/temp_dir.hpp"
#include "video/packet_log.hpp"
#include "video/parts.hpp"
#include "video/video.hpp"

namespace fs = std::filesystem;

namespace quicksr {
namespace {

using test_support::quoted;
using test_support::run_quicksr;

struct Packet {
  std::string data;
  std::int64_t pts;
  std::int64_t duration;
};

struct StreamInfo {
  int width = 0;
  int height = 0;
  AVRational frame_rate{0, 1};
  double rotation = 0;  // degrees, from the display matrix
  double duration = 0;  // seconds, of the whole file
};

// A decoded frame's planes as they are stored (no conversion), with what its stream declares.
struct YuvFrame {
  AVPixelFormat format = AV_PIX_FMT_NONE;
  AVColorRange range = AVCOL_RANGE_UNSPECIFIED;
  AVColorSpace space = AVCOL_SPC_UNSPECIFIED;
  int width = 0;
  int height = 0;
  int chroma_shift_x = 0;
  int chroma_shift_y = 0;
  std::vector<std::vector<int>> planes;  // Y, U, V; rows of plane_width(p) samples

  int plane_width(int p) const { return p == 0 ? width : -(-width >> chroma_shift_x); }
  int at(int p, int x, int y) const {
    return planes[p][static_cast<std::size_t>(y) * plane_width(p) + x];
  }
};

struct Probe {
  AVFormatContext* context = nullptr;
  explicit Probe(const fs::path& path) {
    if (avformat_open_input(&context, path.c_str(), nullptr, nullptr) < 0) context = nullptr;
    if (context) avformat_find_stream_info(context, nullptr);
  }
  ~Probe() { avformat_close_input(&context); }
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  int stream_of(AVMediaType type) const {
    return av_find_best_stream(context, type, -1, -1, nullptr, 0);
  }

  // Every packet of the first stream of `type`, in file order, timestamps in seconds * 1e6.
  std::vector<Packet> packets(AVMediaType type) {
    const int index = stream_of(type);
    std::vector<Packet> result;
    if (index < 0) return result;
    const AVRational base = context->streams[index]->time_base;
    AVPacket* packet = av_packet_alloc();
    while (av_read_frame(context, packet) >= 0) {
      if (packet->stream_index == index) {
        // av_get_time_base_q(): the AV_TIME_BASE_Q macro is a C99 compound literal (clang -Werror).
        result.push_back({std::string(reinterpret_cast<char*>(packet->data), packet->size),
                          av_rescale_q(packet->pts, base, av_get_time_base_q()),
                          av_rescale_q(packet->duration, base, av_get_time_base_q())});
      }
      av_packet_unref(packet);
    }
    av_packet_free(&packet);
    av_seek_frame(context, -1, 0, AVSEEK_FLAG_BACKWARD);
    return result;
  }

  StreamInfo video() const {
    StreamInfo info;
    AVStream* stream = context->streams[stream_of(AVMEDIA_TYPE_VIDEO)];
    info.width = stream->codecpar->width;
    info.height = stream->codecpar->height;
    info.frame_rate = stream->avg_frame_rate;
    const auto* matrix = reinterpret_cast<const std::int32_t*>(
        av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr));
    if (matrix) info.rotation = av_display_rotation_get(matrix);
    info.duration = static_cast<double>(context->duration) / AV_TIME_BASE;
    return info;
  }

  // Calls use(frame) with the first decoded frame of the video stream, if there is one.
  template <typename Use>
  void with_first_frame(const Use& use) {
    const int index = stream_of(AVMEDIA_TYPE_VIDEO);
    const AVCodecParameters* parameters = context->streams[index]->codecpar;
    const AVCodec* codec = avcodec_find_decoder(parameters->codec_id);
    AVCodecContext* decoder = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(decoder, parameters);
    avcodec_open2(decoder, codec, nullptr);
    AVPacket* packet = av_packet_alloc();
    AVFrame* frame = av_frame_alloc();
    bool done = false;
    while (!done && av_read_frame(context, packet) >= 0) {
      if (packet->stream_index == index) {
        avcodec_send_packet(decoder, packet);
        done = avcodec_receive_frame(decoder, frame) == 0;
      }
      av_packet_unref(packet);
    }
    if (!done) {
      avcodec_send_packet(decoder, nullptr);
      done = avcodec_receive_frame(decoder, frame) == 0;
    }
    if (done) use(frame);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&decoder);
  }

  // The first frame of the video stream as 8-bit RGB, or an empty image.
  Image first_frame() {
    Image image;
    with_first_frame([&](const AVFrame* frame) {
      SwsContext* sws = sws_getContext(
          frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), frame->width,
          frame->height, AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr, nullptr, nullptr);
      std::vector<std::uint8_t> rgb(static_cast<std::size_t>(frame->width) * frame->height * 3);
      std::uint8_t* planes[1] = {rgb.data()};
      const int strides[1] = {frame->width * 3};
      sws_scale(sws, frame->data, frame->linesize, 0, frame->height, planes, strides);
      sws_freeContext(sws);
      image.width = frame->width;
      image.height = frame->height;
      for (std::uint8_t v : rgb) image.rgb.push_back(v / 255.0f);
    });
    return image;
  }

  // The first frame's Y'CbCr planes as stored (8 or 16-bit samples of a planar format).
  YuvFrame first_yuv_frame() {
    YuvFrame yuv;
    with_first_frame([&](const AVFrame* frame) {
      yuv.format = static_cast<AVPixelFormat>(frame->format);
      yuv.range = frame->color_range;
      yuv.space = frame->colorspace;
      yuv.width = frame->width;
      yuv.height = frame->height;
      const AVPixFmtDescriptor* descriptor = av_pix_fmt_desc_get(yuv.format);
      yuv.chroma_shift_x = descriptor->log2_chroma_w;
      yuv.chroma_shift_y = descriptor->log2_chroma_h;
      const bool wide = descriptor->comp[0].depth > 8;
      for (int p = 0; p < 3; ++p) {
        const int rows = p == 0 ? frame->height : -(-frame->height >> yuv.chroma_shift_y);
        std::vector<int>& plane = yuv.planes.emplace_back();
        for (int y = 0; y < rows; ++y) {
          const std::uint8_t* row =
              frame->data[p] + static_cast<std::ptrdiff_t>(y) * frame->linesize[p];
          for (int x = 0; x < yuv.plane_width(p); ++x) {
            std::uint16_t sample = row[x];
            if (wide) std::memcpy(&sample, row + 2 * x, 2);
            plane.push_back(sample);
          }
        }
      }
    });
    return yuv;
  }
};

// Copies `input` to `output` packet for packet, adding a display matrix of `degrees` to the
// video stream (the ffmpeg 5.1 command has no option for it).
void remux_with_rotation(const fs::path& input, const fs::path& output, double degrees) {
  Probe in(input);
  ASSERT_NE(in.context, nullptr);
  AVFormatContext* out = nullptr;
  ASSERT_GE(avformat_alloc_output_context2(&out, nullptr, nullptr, output.c_str()), 0);
  for (unsigned i = 0; i < in.context->nb_streams; ++i) {
    const AVStream* source = in.context->streams[i];
    AVStream* stream = avformat_new_stream(out, nullptr);
    avcodec_parameters_copy(stream->codecpar, source->codecpar);
    stream->time_base = source->time_base;
    if (source->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
      auto* matrix = reinterpret_cast<std::int32_t*>(
          av_stream_new_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(std::int32_t)));
      av_display_rotation_set(matrix, degrees);
    }
  }
  ASSERT_GE(avio_open(&out->pb, output.c_str(), AVIO_FLAG_WRITE), 0);
  ASSERT_GE(avformat_write_header(out, nullptr), 0);
  AVPacket* packet = av_packet_alloc();
  while (av_read_frame(in.context, packet) >= 0) {
    av_packet_rescale_ts(packet, in.context->streams[packet->stream_index]->time_base,
                         out->streams[packet->stream_index]->time_base);
    packet->pos = -1;
    av_interleaved_write_frame(out, packet);
  }
  av_packet_free(&packet);
  av_write_trailer(out);
  avio_closep(&out->pb);
  avformat_free_context(out);
}

double psnr(const Image& a, const Image& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.rgb.size(); ++i) {
    const double d = (a.rgb[i] - b.rgb[i]) * 255.0;
    sum += d * d;
  }
  return 10 * std::log10(255.0 * 255.0 / (sum / a.rgb.size()));
}

// Nearest-neighbour x2 of the frame buffers (8 or 16 bits per sample): with it a video's pixels
// pass through the pipeline's conversions alone.
video::FrameUpscaler nearest_x2() {
  return {[](int length) { return 2 * length; },
          [](const PixelBuffer<const void>& frame, const PixelBuffer<void>& upscaled) {
            ASSERT_EQ(frame.format, upscaled.format);
            const std::size_t pixel = pixel_layout(frame.format).pixel_bytes();
            const auto* in = static_cast<const std::uint8_t*>(frame.data);
            auto* out = static_cast<std::uint8_t*>(upscaled.data);
            for (int y = 0; y < upscaled.height; ++y) {
              for (int x = 0; x < upscaled.width; ++x) {
                std::memcpy(out + y * upscaled.stride + x * pixel,
                            in + (y / 2) * frame.stride + (x / 2) * pixel, pixel);
              }
            }
          }};
}

// One Y'CbCr colour per vertical band of a frame, 8-bit values.
struct Band {
  int y, u, v;
};

class VideoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("ffmpeg -version > /dev/null 2>&1") != 0) {
      GTEST_SKIP() << "the ffmpeg command is not installed (scripts/setup.sh installs it)";
    }
  }

  fs::path path(const std::string& name) const { return dir_ / name; }

  // An MP4 with H.264 testsrc (rotated by 90 degrees), an AAC sine tone and mov_text subtitles.
  fs::path make_clip(const std::string& size, int frames, int rate) {
    std::ofstream(path("subs.srt")) << "1\n00:00:00,100 --> 00:00:00,900\nhello\n\n"
                                       "2\n00:00:01,000 --> 00:00:01,500\nworld\n";
    const double seconds = static_cast<double>(frames) / rate;
    const std::string command =
        "ffmpeg -v error -y -f lavfi -i testsrc=size=" + size + ":rate=" + std::to_string(rate) +
        " -f lavfi -i sine=frequency=440:duration=" + std::to_string(seconds) + " -i " +
        quoted(path("subs.srt")) + " -map 0:v -map 1:a -map 2:s -frames:v " +
        std::to_string(frames) + " -c:v libx264 -crf 8 -pix_fmt yuv420p -c:a aac -c:s mov_text " +
        quoted(path("plain.mp4"));
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    remux_with_rotation(path("plain.mp4"), path("clip.mp4"), 90);
    fs::remove(path("plain.mp4"));
    return path("clip.mp4");
  }

  // A lossless clip `name` of 3 copies of one raw frame in `pix_fmt` (`frame`: its planes, 1 or 2
  // bytes per sample), encoded by the ffmpeg command with `codec_options` (codec, colour tags).
  fs::path make_raw_clip(const std::string& name, const std::string& pix_fmt,
                         const std::string& size, const std::string& frame,
                         const std::string& codec_options) {
    std::ofstream raw(path("frame.raw"), std::ios::binary);
    for (int i = 0; i < 3; ++i) raw << frame;
    raw.close();
    const std::string command = "ffmpeg -v error -y -f rawvideo -pix_fmt " + pix_fmt + " -s " +
                                size + " -r 10 -i " + quoted(path("frame.raw")) + " " +
                                codec_options + " " + quoted(path(name));
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return path(name);
  }

  // An 8-bit 4:2:0 frame of 8-pixel-wide bands, 16 rows.
  static std::string banded_frame(const std::vector<Band>& bands) {
    const int width = 8 * static_cast<int>(bands.size()), height = 16;
    std::string frame;
    for (int plane = 0; plane < 3; ++plane) {
      const int step = plane == 0 ? 1 : 2;
      for (int y = 0; y < height / step; ++y) {
        for (int x = 0; x < width / step; ++x) {
          const Band& band = bands[static_cast<std::size_t>(x * step / 8)];
          frame += static_cast<char>(plane == 0 ? band.y : plane == 1 ? band.u : band.v);
        }
      }
    }
    return frame;
  }

  // Every band of `out` (the x2 of a banded_frame) holds its colour of `bands` within `tolerance`
  // in Y, U and V, away from the band edges (where chroma is interpolated).
  static void expect_bands(const YuvFrame& out, const std::vector<Band>& bands, int tolerance,
                           const std::string& what) {
    ASSERT_EQ(out.width, 16 * static_cast<int>(bands.size())) << what;
    for (std::size_t b = 0; b < bands.size(); ++b) {
      const int want[3] = {bands[b].y, bands[b].u, bands[b].v};
      for (int p = 0; p < 3; ++p) {
        const int shift = p == 0 ? 0 : out.chroma_shift_x;
        const int first = static_cast<int>(16 * b + 4) >> shift;
        const int last = static_cast<int>(16 * b + 11) >> shift;
        for (int x = first; x <= last; ++x) {
          EXPECT_NEAR(out.at(p, x, 4 >> (p == 0 ? 0 : out.chroma_shift_y)), want[p], tolerance)
              << what << ": band " << b << ", plane " << p << ", x " << x;
        }
      }
    }
  }

  test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

const video::VideoProgress kNoProgress = [](std::int64_t, std::int64_t) { return true; };

// Full-range and limited-range BT.709 video, as phones and cameras record it: blacks, whites and
// saturated colours come out as they went in. swscale left to its defaults (BT.601, limited range)
// squeezed full-range black and white to 16 and 235 and shifted pure red by about 13 in Y.
TEST_F(VideoTest, ColourRangeAndMatrixSurvive) {
  // Black, white, pure red and pure green (RGB 255,0,0 and 0,255,0) in BT.709, Y'CbCr of both
  // ranges.
  const std::vector<Band> full{{0, 128, 128}, {255, 128, 128}, {54, 99, 255}, {182, 30, 12}};
  const std::vector<Band> limited{{16, 128, 128}, {235, 128, 128}, {63, 102, 240}, {173, 42, 26}};
  const struct {
    std::string range;
    const std::vector<Band>* bands;
  } cases[] = {{"pc", &full}, {"tv", &limited}};
  for (const auto& c : cases) {
    const fs::path clip = make_raw_clip(
        "in-" + c.range + ".mp4", "yuv420p", std::to_string(8 * c.bands->size()) + "x16",
        banded_frame(*c.bands),
        "-c:v libx264 -qp 0 -colorspace bt709 -color_primaries bt709 -color_trc bt709 "
        "-color_range " +
            c.range);
    const fs::path out = path("out-" + c.range + ".mp4");
    video::VideoOptions options;
    options.crf = 0;  // lossless
    video::upscale_video(clip, out, nearest_x2(), options, kNoProgress);
    const YuvFrame decoded = Probe(out).first_yuv_frame();
    EXPECT_EQ(decoded.range, c.range == "pc" ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG) << c.range;
    EXPECT_EQ(decoded.space, AVCOL_SPC_BT709) << c.range;
    expect_bands(decoded, *c.bands, 2, c.range);
  }
}

// A 10-bit gray ramp of 877 levels keeps them: the frames go through 16-bit RGB, and the
// encoder gets the 10-bit format. Through 8-bit RGB at most 256 levels could come out.
TEST_F(VideoTest, TenBitVideoStaysTenBit) {
  const int width = 64, height = 16;
  std::string frame;
  const auto put = [&](int value) {
    const std::uint16_t sample = static_cast<std::uint16_t>(value);
    frame.append(reinterpret_cast<const char*>(&sample), 2);
  };
  const auto level = [&](int x, int y) { return 64 + (y * width + x) % 877; };
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) put(level(x, y));
  }
  for (int i = 0; i < width * height / 2; ++i) put(512);  // U and V: gray
  const fs::path clip = make_raw_clip("ten.mkv", "yuv420p10le", "64x16", frame, "-c:v ffv1");
  video::VideoOptions options;
  options.codec = "ffv1";
  video::upscale_video(clip, path("out.mkv"), nearest_x2(), options, kNoProgress);
  const YuvFrame out = Probe(path("out.mkv")).first_yuv_frame();
  EXPECT_EQ(out.format, AV_PIX_FMT_YUV420P10LE);
  ASSERT_EQ(out.width, 2 * width);
  ASSERT_EQ(out.height, 2 * height);
  std::vector<bool> seen(1024);
  int worst = 0;
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      worst = std::max(worst, std::abs(out.at(0, x, y) - level(x / 2, y / 2)));
      seen[static_cast<std::size_t>(out.at(0, x, y))] = true;
    }
  }
  EXPECT_LE(worst, 1);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 877);
}

// x265 writes its settings to stderr on its own, past FFmpeg's log: --quiet must silence it too.
TEST_F(VideoTest, QuietIsQuietWithX265) {
  if (!avcodec_find_encoder_by_name("libx265")) GTEST_SKIP() << "this FFmpeg has no libx265";
  const fs::path clip = make_clip("64x48", 3, 10);
  const auto run = run_quicksr("video " + quoted(clip) + " " + quoted(path("out.mp4")) +
                               " --quiet --method bicubic --codec libx265");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "");
}

// HDR10 (10-bit BT.2020 PQ) with its mastering display and content light level, as x265 wrote them
// (SEI): the output carries both, in its bitstream and, for the container, on its stream.
TEST_F(VideoTest, Hdr10MetadataSurvives) {
  if (!avcodec_find_encoder_by_name("libx265")) GTEST_SKIP() << "this FFmpeg has no libx265";
  const std::string command =
      "ffmpeg -v error -y -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 3 -pix_fmt yuv420p10le "
      "-c:v libx265 -x265-params 'log-level=error:master-display=G(13250,34500)B(7500,3000)"
      "R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400' -color_primaries bt2020 "
      "-color_trc smpte2084 -colorspace bt2020nc " +
      quoted(path("hdr.mkv"));
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  for (const std::string name : {"out.mkv", "out.mp4"}) {
    const auto run = run_quicksr("video " + quoted(path("hdr.mkv")) + " " + quoted(path(name)) +
                                 " --quiet --method bicubic --codec libx265");
    ASSERT_EQ(run.exit_code, 0) << run.output;
    Probe out(path(name));
    const AVStream* stream = out.context->streams[out.stream_of(AVMEDIA_TYPE_VIDEO)];
    const auto check = [&](const std::uint8_t* mastering_data, const std::uint8_t* light_data,
                           const std::string& where) {
      ASSERT_NE(mastering_data, nullptr) << name << " " << where;
      ASSERT_NE(light_data, nullptr) << name << " " << where;
      const auto& mastering = *reinterpret_cast<const AVMasteringDisplayMetadata*>(mastering_data);
      const auto& light = *reinterpret_cast<const AVContentLightMetadata*>(light_data);
      const double want[4][2] = {{0.68, 0.32}, {0.265, 0.69}, {0.15, 0.06}, {0.3127, 0.329}};
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 2; ++j) {
          EXPECT_NEAR(av_q2d(mastering.display_primaries[i][j]), want[i][j], 1e-5) << name << where;
        }
      }
      EXPECT_NEAR(av_q2d(mastering.white_point[0]), want[3][0], 1e-5) << name << where;
      EXPECT_NEAR(av_q2d(mastering.white_point[1]), want[3][1], 1e-5) << name << where;
      EXPECT_NEAR(av_q2d(mastering.max_luminance), 1000.0, 1e-6) << name << where;
      EXPECT_NEAR(av_q2d(mastering.min_luminance), 0.0001, 1e-9) << name << where;
      EXPECT_EQ(light.MaxCLL, 1000u) << name << where;
      EXPECT_EQ(light.MaxFALL, 400u) << name << where;
    };
    check(av_stream_get_side_data(stream, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, nullptr),
          av_stream_get_side_data(stream, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, nullptr), "stream");
    out.with_first_frame([&](const AVFrame* frame) {
      const AVFrameSideData* mastering =
          av_frame_get_side_data(frame, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA);
      const AVFrameSideData* light =
          av_frame_get_side_data(frame, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL);
      check(mastering ? mastering->data : nullptr, light ? light->data : nullptr, "bitstream");
      EXPECT_EQ(frame->color_trc, AVCOL_TRC_SMPTE2084) << name;
      EXPECT_EQ(frame->format, AV_PIX_FMT_YUV420P10LE) << name;
    });
  }
}

// Animated GIF and APNG, which `quicksr upscale` refuses, go through `quicksr video`: the
// container's own encoder is the default where it cannot hold H.264, and every frame is upscaled.
TEST_F(VideoTest, AnimatedGifAndApngKeepEveryFrame) {
  for (const std::string extension : {"gif", "apng"}) {
    const std::string input = "anim." + extension, output = "anim_x2." + extension;
    const std::string command = "ffmpeg -v error -y -f lavfi -i testsrc=size=40x30:rate=5 " +
                                std::string("-frames:v 4 -f ") + extension + " " +
                                quoted(path(input));
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const auto run = run_quicksr("video " + quoted(path(input)) + " " + quoted(path(output)) +
                                 " --quiet --method bicubic");
    ASSERT_EQ(run.exit_code, 0) << run.output;
    Probe out(path(output));
    ASSERT_NE(out.context, nullptr) << output;
    EXPECT_EQ(out.packets(AVMEDIA_TYPE_VIDEO).size(), 4u) << output;
    const StreamInfo video = out.video();
    EXPECT_EQ(video.width, 80) << output;
    EXPECT_EQ(video.height, 60) << output;
    EXPECT_EQ(avcodec_get_name(
                  out.context->streams[out.stream_of(AVMEDIA_TYPE_VIDEO)]->codecpar->codec_id),
              extension)
        << output;
  }
}

// Transparency: an RGBA APNG comes out RGBA, its alpha upscaled with the colours (a flat 50 %
// alpha stays 50 %).
TEST_F(VideoTest, AlphaSurvives) {
  const std::string command =
      "ffmpeg -v error -y -f lavfi -i color=c=red@0.5:size=40x30:rate=5,format=rgba -frames:v 2 "
      "-f apng " +
      quoted(path("alpha.apng"));
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const auto run = run_quicksr("video " + quoted(path("alpha.apng")) + " " +
                               quoted(path("out.apng")) + " --quiet --method bicubic");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  Probe(path("out.apng")).with_first_frame([&](const AVFrame* frame) {
    ASSERT_EQ(frame->format, AV_PIX_FMT_RGBA);
    ASSERT_EQ(frame->width, 80);
    for (int y = 0; y < frame->height; y += 7) {
      for (int x = 0; x < frame->width; x += 5) {
        EXPECT_NEAR(frame->data[0][y * frame->linesize[0] + 4 * x + 3], 128, 1) << x << "," << y;
      }
    }
  });
}

// The output's pixel format: the encoder's closest to the source's (4:4:4 stays 4:4:4), or
// --pix-fmt, which must be one the encoder takes.
TEST_F(VideoTest, PixelFormatFollowsTheSourceOrTheOption) {
  const std::vector<Band> gray{{128, 128, 128}, {64, 100, 160}};
  std::string frame = banded_frame(gray);
  const fs::path clip =
      make_raw_clip("in.mp4", "yuv420p", "16x16", frame, "-c:v libx264 -qp 0 -pix_fmt yuv444p");
  video::upscale_video(clip, path("same.mp4"), nearest_x2(), {}, kNoProgress);
  EXPECT_EQ(Probe(path("same.mp4")).first_yuv_frame().format, AV_PIX_FMT_YUV444P);

  const auto run = run_quicksr("video " + quoted(clip) + " " + quoted(path("420.mp4")) +
                               " --quiet --pix-fmt yuv420p --method bicubic");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(Probe(path("420.mp4")).first_yuv_frame().format, AV_PIX_FMT_YUV420P);

  const struct {
    std::string pixel_format;
    std::string message;
  } refused[] = {{"rgb24", "encoder 'libx264' cannot take pixel format 'rgb24' (it takes yuv420p"},
                 {"yuv999", "unknown pixel format 'yuv999'"}};
  for (const auto& c : refused) {
    const auto bad = run_quicksr("video " + quoted(clip) + " " + quoted(path("bad.mp4")) +
                                 " --quiet --method bicubic --pix-fmt " + c.pixel_format);
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.output.find("bad.mp4: " + c.message), std::string::npos) << bad.output;
    EXPECT_FALSE(fs::exists(path("bad.mp4")));
  }
}

TEST_F(VideoTest, FramesTimingRotationAudioAndSubtitlesSurvive) {
  const fs::path clip = make_clip("64x48", 24, 12);
  const auto run =
      run_quicksr("video " + quoted(clip) + " " + quoted(path("out.mp4")) + " --quiet --crf 12");
  ASSERT_EQ(run.exit_code, 0) << run.output;

  Probe in(clip);
  Probe out(path("out.mp4"));
  ASSERT_TRUE(in.context && out.context);
  const StreamInfo in_video = in.video();
  const StreamInfo out_video = out.video();
  EXPECT_EQ(out_video.width, 2 * in_video.width);
  EXPECT_EQ(out_video.height, 2 * in_video.height);
  EXPECT_EQ(av_cmp_q(out_video.frame_rate, in_video.frame_rate), 0);
  EXPECT_NE(in_video.rotation, 0) << "the clip should carry a rotation";
  EXPECT_EQ(out_video.rotation, in_video.rotation);
  EXPECT_NEAR(out_video.duration, in_video.duration, 1.0 / 12);

  // Presentation times of every frame (packets come in decoding order, which B-frames shuffle).
  const auto frame_times = [](const std::vector<Packet>& packets) {
    std::vector<std::int64_t> times;
    for (const Packet& packet : packets) times.push_back(packet.pts);
    std::sort(times.begin(), times.end());
    return times;
  };
  const std::vector<std::int64_t> in_times = frame_times(in.packets(AVMEDIA_TYPE_VIDEO));
  EXPECT_EQ(in_times.size(), 24u);
  EXPECT_EQ(frame_times(out.packets(AVMEDIA_TYPE_VIDEO)), in_times);
  for (AVMediaType type : {AVMEDIA_TYPE_AUDIO, AVMEDIA_TYPE_SUBTITLE}) {
    const std::vector<Packet> a = in.packets(type);
    const std::vector<Packet> b = out.packets(type);
    ASSERT_FALSE(a.empty()) << av_get_media_type_string(type);
    ASSERT_EQ(a.size(), b.size()) << av_get_media_type_string(type);
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].data, b[i].data) << av_get_media_type_string(type) << " packet " << i;
      EXPECT_EQ(a[i].pts, b[i].pts) << av_get_media_type_string(type) << " packet " << i;
    }
  }
}

TEST_F(VideoTest, FirstFrameMatchesUpscaleOfThatFrame) {
  const fs::path clip = make_clip("96x64", 3, 10);
  Probe in(clip);
  write_image(in.first_frame(), path("frame.png"));
  ASSERT_EQ(run_quicksr("upscale " + quoted(path("frame.png")) + " " + quoted(path("big.png")) +
                        " --quiet")
                .exit_code,
            0);
  const Image expected = read_image(path("big.png"));

  // Lossless RGB H.264: the frame must be the upscaled image itself, up to 8-bit rounding.
  ASSERT_EQ(run_quicksr("video " + quoted(clip) + " " + quoted(path("rgb.mp4")) +
                        " --quiet --codec libx264rgb --crf 0")
                .exit_code,
            0);
  const Image exact = Probe(path("rgb.mp4")).first_frame();
  ASSERT_EQ(exact.width, expected.width);
  ASSERT_EQ(exact.height, expected.height);
  float worst = 0;
  for (std::size_t i = 0; i < exact.rgb.size(); ++i) {
    worst = std::max(worst, std::abs(exact.rgb[i] - expected.rgb[i]));
  }
  EXPECT_LE(worst, 1.01f / 255);

  // The default (H.264 4:2:0 at --crf 18) loses colour detail on testsrc's saturated edges:
  // about 30 dB was measured on this clip.
  ASSERT_EQ(
      run_quicksr("video " + quoted(clip) + " " + quoted(path("out.mp4")) + " --quiet").exit_code,
      0);
  EXPECT_GT(psnr(Probe(path("out.mp4")).first_frame(), expected), 27.0);
}

// Two MPEG-TS clips concatenated, 32x24 then 40x16, the second starting 0.5 s later, before the
// first one's last two frames: every frame reaches the upscaler at the first frame's size, none is
// lost, and the output keeps one size and increasing timestamps. (Before, the later frames were
// read as if of the first size, past their buffer, and the overlap failed the muxer.)
TEST_F(VideoTest, ConcatenatedClipsOfAnotherSizeAndOverlappingTimesKeepEveryFrame) {
  const std::pair<const char*, const char*> clips[] = {{"32x24", "0"}, {"40x16", "0.5"}};
  std::string concatenated;
  for (const auto& [size, offset] : clips) {
    const fs::path clip = path(std::string(size) + ".ts");
    const std::string command = "ffmpeg -v error -y -f lavfi -i testsrc=size=" + std::string(size) +
                                ":rate=10 -frames:v 5 -c:v libx264 -pix_fmt yuv420p " +
                                "-output_ts_offset " + offset + " " + quoted(clip);
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    std::ifstream in(clip, std::ios::binary);
    concatenated += std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(path("changing.ts"), std::ios::binary) << concatenated;

  std::vector<std::pair<int, int>> sizes;
  video::FrameUpscaler upscaler = nearest_x2();
  upscaler.upscale = [&sizes, upscale = upscaler.upscale](const PixelBuffer<const void>& frame,
                                                          const PixelBuffer<void>& upscaled) {
    sizes.emplace_back(frame.width, frame.height);
    upscale(frame, upscaled);
  };
  video::upscale_video(path("changing.ts"), path("out.mp4"), upscaler, {}, kNoProgress);
  const std::vector<std::pair<int, int>> first_size(10, {32, 24});
  EXPECT_EQ(sizes, first_size);
  Probe out(path("out.mp4"));
  std::vector<std::int64_t> times;
  for (const Packet& packet : out.packets(AVMEDIA_TYPE_VIDEO)) times.push_back(packet.pts);
  ASSERT_EQ(times.size(), 10u);
  std::sort(times.begin(), times.end());
  EXPECT_EQ(std::adjacent_find(times.begin(), times.end()), times.end()) << "repeated timestamps";
  EXPECT_EQ(out.video().width, 64);
  EXPECT_EQ(out.video().height, 48);
}

TEST_F(VideoTest, StreamTheContainerCannotHoldIsNamed) {
  const fs::path clip = make_clip("64x48", 2, 10);
  const auto run = run_quicksr("video " + quoted(clip) + " " + quoted(path("out.mkv")));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("mov_text"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(path("out.mkv")));
}

TEST_F(VideoTest, ExistingOutputIsKeptAndInterruptLeavesNoFile) {
  const fs::path clip = make_clip("320x240", 150, 25);
  std::ofstream(path("taken.mp4")) << "keep me";
  const auto refused = run_quicksr("video " + quoted(clip) + " " + quoted(path("taken.mp4")));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("already exists"), std::string::npos) << refused.output;
  EXPECT_EQ(fs::file_size(path("taken.mp4")), 7u);

  // 150 upscaled 320x240 frames take far longer than the 1 s before SIGINT.
  const std::string command = "timeout -s INT 1 " + std::string(QUICKSR_BINARY) + " video " +
                              quoted(clip) + " " + quoted(path("out.mp4")) + " --quiet";
  EXPECT_NE(std::system(command.c_str()), 0);
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name == "clip.mp4" || name == "subs.srt" || name == "taken.mp4") << name;
  }
}

// The final rename never replaces without kReplace (--overwrite): a file that appears at OUT while
// the video is upscaled (here: made by the first frame's upscale) is kept, and so is a dangling
// symbolic link. The finished parts stay for a run with --overwrite.
TEST_F(VideoTest, OutputThatAppearsMeanwhileIsKept) {
  const fs::path clip = make_clip("64x48", 4, 10);
  const Upscaler bicubic = Upscaler::bicubic(Scale{2, 1});
  const video::FrameUpscaler upscale{
      [&](int length) { return bicubic.output_length(length); },
      [&](const PixelBuffer<const void>& frame, const PixelBuffer<void>& upscaled) {
        if (!fs::exists(path("out.mp4"))) std::ofstream(path("out.mp4")) << "appeared";
        bicubic.upscale(frame, upscaled);
      }};
  const video::VideoProgress progress = [](std::int64_t, std::int64_t) { return true; };
  try {
    video::upscale_video(clip, path("out.mp4"), upscale, {}, progress);
    ADD_FAILURE() << "the file that appeared was replaced";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("out.mp4: already exists (use --overwrite to replace it) "
                                   "(the finished parts stay in " +
                                   path("out.mp4.quicksr-parts").string() + " for the next run)"),
        std::string::npos)
        << e.what();
  }
  EXPECT_EQ(fs::file_size(path("out.mp4")), 8u);

  fs::create_symlink(path("nowhere.mp4"), path("link.mp4"));
  EXPECT_THROW(video::upscale_video(clip, path("link.mp4"), upscale, {}, progress), Error);
  EXPECT_TRUE(fs::is_symlink(path("link.mp4")));
  EXPECT_FALSE(fs::exists(path("nowhere.mp4")));
  // The upscaled frames are kept for a run with --overwrite; no temporary file is left.
  EXPECT_TRUE(fs::exists(path("out.mp4.quicksr-parts/part-000000.packets")));
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name.find(".quicksr-") == std::string::npos || name.ends_with(".quicksr-parts"))
        << "temporary file left: " << entry.path();
  }
}

// Every packet of every stream in file order: stream, timestamps, flags, size and bytes.
std::vector<std::string> all_packets(const fs::path& file) {
  Probe probe(file);
  std::vector<std::string> packets;
  if (!probe.context) return packets;
  AVPacket* packet = av_packet_alloc();
  while (av_read_frame(probe.context, packet) >= 0) {
    std::ostringstream line;
    line << packet->stream_index << " pts " << packet->pts << " dts " << packet->dts << " flags "
         << packet->flags << " size " << packet->size << " ";
    packets.push_back(line.str() +
                      std::string(reinterpret_cast<char*>(packet->data), packet->size));
    av_packet_unref(packet);
  }
  av_packet_free(&packet);
  return packets;
}

// nearest_x2() counting the frames it upscales.
video::FrameUpscaler counting_nearest_x2(int& frames) {
  video::FrameUpscaler upscaler = nearest_x2();
  upscaler.upscale = [&frames, upscale = upscaler.upscale](const PixelBuffer<const void>& frame,
                                                           const PixelBuffer<void>& upscaled) {
    ++frames;
    upscale(frame, upscaled);
  };
  return upscaler;
}

video::VideoProgress stop_after(std::int64_t frames) {
  return [frames](std::int64_t done, std::int64_t) { return done < frames; };
}

// 25 frames at 1 frame/s: parts of 10, 10 and 5 frames.
class VideoResumeTest : public VideoTest {
 protected:
  void SetUp() override {
    VideoTest::SetUp();
    if (IsSkipped()) return;
    clip_ = make_clip("64x48", 25, 1);
    upscaled_ = 0;
    video::upscale_video(clip_, path("whole.mp4"), upscaler_, {}, kNoProgress);
    ASSERT_EQ(upscaled_, 25);
    upscaled_ = 0;
  }

  // Upscales clip_ to out.mp4, stopped after `frames`; the error must say how many are kept.
  void interrupt_after(std::int64_t frames, std::int64_t kept,
                       const video::VideoOptions& options = {}) {
    try {
      video::upscale_video(clip_, path("out.mp4"), upscaler_, options, stop_after(frames));
      ADD_FAILURE() << "not interrupted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("interrupted; the first " + std::to_string(kept) +
                                           " frames are kept in " + parts_.string()),
                std::string::npos)
          << e.what();
    }
    EXPECT_FALSE(fs::exists(path("out.mp4")));
    upscaled_ = 0;
  }

  // Resumes out.mp4; returns the frames the resumed run said were kept.
  std::int64_t resume(video::VideoOptions options = {}) {
    std::int64_t kept = 0;
    options.on_resume = [&](std::int64_t frames, const std::string& message) {
      kept = frames;
      message_ = message;
    };
    video::upscale_video(clip_, path("out.mp4"), upscaler_, options, kNoProgress);
    return kept;
  }

  fs::path clip_;
  int upscaled_ = 0;
  video::FrameUpscaler upscaler_ = counting_nearest_x2(upscaled_);
  fs::path parts_ = path("out.mp4.quicksr-parts");
  std::string message_;
};

// The parts' fresh encoders see the same frames in both runs, so a resumed run must give the
// uninterrupted run's packets, byte for byte, in every stream.
TEST_F(VideoResumeTest, ResumedRunWritesTheUninterruptedRunsPackets) {
  interrupt_after(15, 10);
  EXPECT_TRUE(fs::exists(parts_ / "part-000000.packets"));
  EXPECT_FALSE(fs::exists(parts_ / "part-000001.packets.tmp")) << "the unfinished part is kept";

  EXPECT_EQ(resume(), 10);
  EXPECT_EQ(upscaled_, 15) << "frames of the kept part were upscaled again";
  EXPECT_NE(message_.find("resuming: 10 frames"), std::string::npos) << message_;
  const std::vector<std::string> whole = all_packets(path("whole.mp4"));
  EXPECT_EQ(whole.size(), all_packets(clip_).size());
  EXPECT_TRUE(all_packets(path("out.mp4")) == whole);
  EXPECT_FALSE(fs::exists(parts_)) << "parts are removed with the output complete";
}

// A part damaged after it was finished (a disk fault) is upscaled again, with the parts after it;
// a part a killed run left unfinished (its temporary file) is ignored.
TEST_F(VideoResumeTest, DamagedPartIsUpscaledAgain) {
  interrupt_after(22, 20);
  const fs::path second = parts_ / "part-000001.packets";
  fs::resize_file(second, fs::file_size(second) - 3);
  std::ofstream(parts_ / "part-000002.packets.tmp") << "left by a kill";

  EXPECT_EQ(resume(), 10);
  EXPECT_EQ(upscaled_, 15);
  EXPECT_NE(message_.find(second.string() + ": damaged: ends early"), std::string::npos)
      << message_;
  EXPECT_TRUE(all_packets(path("out.mp4")) == all_packets(path("whole.mp4")));
}

// Parts of a run with other options or another upscaler are neither used nor removed.
TEST_F(VideoResumeTest, PartsOfAnotherRunAreRefusedAndKept) {
  video::VideoOptions options;
  options.upscaler_key = "nearest x2";
  interrupt_after(15, 10, options);
  video::VideoOptions other_crf = options;
  other_crf.crf = 20;
  video::VideoOptions other_upscaler = options;
  other_upscaler.upscaler_key = "bicubic x2";
  for (const auto& [other, line] :
       {std::pair{other_crf, "crf: default"}, std::pair{other_upscaler, "upscaler: nearest x2"}}) {
    try {
      resume(other);
      ADD_FAILURE() << "parts of another run were used";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(parts_.string() +
                                           ": holds parts of another unfinished "
                                           "run (its '" +
                                           line + "' differs)"),
                std::string::npos)
          << e.what();
    }
    EXPECT_TRUE(fs::exists(parts_ / "part-000000.packets"));
  }
  EXPECT_EQ(upscaled_, 0);
  EXPECT_EQ(resume(options), 10);
  EXPECT_TRUE(all_packets(path("out.mp4")) == all_packets(path("whole.mp4")));
}

TEST_F(VideoResumeTest, SecondRunOnTheSameOutputIsRefused) {
  bool refused = false;
  const video::VideoProgress progress = [&](std::int64_t done, std::int64_t) {
    if (done == 12) {
      try {
        video::upscale_video(clip_, path("out.mp4"), nearest_x2(), {}, kNoProgress);
      } catch (const Error& e) {
        refused = std::string(e.what()).find(parts_.string() + ": another quicksr is writing") !=
                  std::string::npos;
        EXPECT_TRUE(refused) << e.what();
      }
    }
    return true;
  };
  video::upscale_video(clip_, path("out.mp4"), upscaler_, {}, progress);
  EXPECT_TRUE(refused);
  EXPECT_TRUE(all_packets(path("out.mp4")) == all_packets(path("whole.mp4")));
}

// A folder at OUT.quicksr-parts that holds files of someone else's is refused and left as it was.
TEST_F(VideoTest, PartsFolderWithOtherFilesIsLeftAlone) {
  const fs::path clip = make_clip("64x48", 2, 10);
  const fs::path folder = path("out.mp4.quicksr-parts");
  fs::create_directory(folder);
  std::ofstream(folder / "notes.txt") << "mine";
  try {
    video::upscale_video(clip, path("out.mp4"), nearest_x2(), {}, kNoProgress);
    ADD_FAILURE() << "the folder was used";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(folder.string() +
                                         ": holds notes.txt, which quicksr did not write there"),
              std::string::npos)
        << e.what();
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"notes.txt"});
  EXPECT_FALSE(fs::exists(path("out.mp4")));
}

// What a run killed before its first part was finished leaves (another manifest even: the command
// changed meanwhile) holds no work, so the next run starts afresh and removes it at the end.
TEST_F(VideoTest, FolderWithoutAFinishedPartDoesNotBlockTheNextRun) {
  const fs::path clip = make_clip("64x48", 2, 10);
  const fs::path folder = path("out.mp4.quicksr-parts");
  fs::create_directory(folder);
  std::ofstream(folder / "manifest") << "quicksr video parts 1\nupscaler: another\n";
  std::ofstream(folder / "lock");
  std::ofstream(folder / "part-000000.packets.tmp") << "half a part";
  video::upscale_video(clip, path("out.mp4"), nearest_x2(), {}, kNoProgress);
  EXPECT_EQ(Probe(path("out.mp4")).packets(AVMEDIA_TYPE_VIDEO).size(), 2u);
  EXPECT_FALSE(fs::exists(folder));
}

// x265 gives wrong decoding timestamps for a part shorter than its B-frame delay (here the last
// part: 2 frames); MP4's muxer refuses timestamps that do not increase.
TEST_F(VideoTest, X265PartShorterThanItsDelayJoins) {
  if (!avcodec_find_encoder_by_name("libx265")) GTEST_SKIP() << "this FFmpeg has no libx265";
  const fs::path clip = make_clip("64x48", 12, 1);
  video::VideoOptions options;
  options.codec = "libx265";
  video::upscale_video(clip, path("out.mp4"), nearest_x2(), options, kNoProgress);
  Probe out(path("out.mp4"));
  ASSERT_TRUE(out.context);
  EXPECT_EQ(out.packets(AVMEDIA_TYPE_VIDEO).size(), 12u);
}

// The CLI: Ctrl-C once the first part is finished, then the same command again. At 1 frame/s a
// part is 10 frames: 20 frames of 320x240 remain to be upscaled when the signal is sent.
TEST_F(VideoTest, SameCommandResumesAfterCtrlC) {
  const fs::path clip = make_clip("320x240", 30, 1);
  const std::string video = std::string(QUICKSR_BINARY) + " video " + quoted(clip) + " " +
                            quoted(path("out.mp4")) + " --method bicubic";
  const fs::path first_part = path("out.mp4.quicksr-parts/part-000000.packets");
  std::ofstream(path("interrupt.sh"))
      << video << " --quiet 2> " << quoted(path("err.txt")) << " & pid=$!\n"
      << "for i in $(seq 3000); do [ -e " << quoted(first_part) << " ] && break; sleep 0.01; done\n"
      << "kill -INT $pid; wait $pid\n";
  EXPECT_NE(std::system(("bash " + quoted(path("interrupt.sh"))).c_str()), 0);
  std::stringstream error;
  error << std::ifstream(path("err.txt")).rdbuf();
  EXPECT_NE(error.str().find("out.mp4: interrupted; the first 10 frames are kept in"),
            std::string::npos)
      << error.str();

  const auto resumed = run_quicksr(video.substr(std::string(QUICKSR_BINARY).size() + 1));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming: 10 frames were upscaled before"), std::string::npos)
      << resumed.output;
  // The copied frames have a bar of their own; the upscaling bar's rate counts only its frames.
  EXPECT_NE(resumed.output.find("copying [########################] 10/10"), std::string::npos)
      << resumed.output;
  EXPECT_NE(resumed.output.find("video [########################] 30/30"), std::string::npos)
      << resumed.output;
  EXPECT_EQ(Probe(path("out.mp4")).packets(AVMEDIA_TYPE_VIDEO).size(), 30u);
  EXPECT_FALSE(fs::exists(path("out.mp4.quicksr-parts")));
}

TEST(PacketLog, JoinedDtsLiesBetweenTheLastOneAndThePresentationTime) {
  using video::joined_dts, video::kNoTimestamp;
  EXPECT_EQ(joined_dts(-2048, 0, kNoTimestamp), -2048);  // a B-frame delay at the start: kept
  EXPECT_EQ(joined_dts(3072, 4096, 2048), 3072);         // within bounds: kept
  EXPECT_EQ(joined_dts(2048, 4096, 2048), 2049);         // repeats the last one
  EXPECT_EQ(joined_dts(-4575098687746505226, 4096, 2048), 2049);  // x265's uninitialised ones
  EXPECT_EQ(joined_dts(INT64_MAX - 5, 4096, 2048), 4096);
  EXPECT_EQ(joined_dts(INT64_MAX - 5, 4096, kNoTimestamp), 4096);
  EXPECT_EQ(joined_dts(100, kNoTimestamp, 2048), 2049);
}

TEST(PacketLog, RoundTripsEveryField) {
  const test_support::TempDir dir;
  const fs::path file = dir.path() / "log";
  const std::vector<video::LoggedPacket> packets = {
      {-2048, -4096, 1024, 1, {0, 1, 2, 255}, {{7, {9, 8}}, {12, {}}}},
      {INT64_MAX, INT64_MIN, 0, 0x80000000u, {}, {}},
  };
  video::PacketLogWriter writer(file);
  for (const video::LoggedPacket& packet : packets) writer.append(packet);
  writer.finish();
  video::PacketLogReader reader(file);
  for (const video::LoggedPacket& expected : packets) {
    video::LoggedPacket packet;
    ASSERT_TRUE(reader.next(packet));
    EXPECT_TRUE(packet == expected) << "pts " << expected.pts;
  }
  video::LoggedPacket packet;
  EXPECT_FALSE(reader.next(packet));
  EXPECT_EQ(video::count_logged_packets(file), 2u);
}

// A packet log of `packets` one-byte packets at `path`.
void write_log(const fs::path& path, int packets) {
  video::PacketLogWriter writer(path);
  for (int i = 0; i < packets; ++i) writer.append({i, i, 1, 0, {1}, {}});
  writer.finish();
}

// PartStore keeps the finished parts up to the first missing one and counts their packets; every
// later part goes, also after a gap (a part removed by hand), since its run may have differed.
TEST(PartStore, KeepsThePartsBeforeAGapAndRemovesEveryLaterOne) {
  const test_support::TempDir dir;
  const fs::path folder = dir.path() / "out.mp4.quicksr-parts";
  const std::string manifest = "a run\n";
  { video::PartStore store(folder, manifest); }  // no finished part: the folder goes again
  EXPECT_FALSE(fs::exists(folder));
  {
    video::PartStore store(folder, manifest);
    for (int part : {0, 1, 3}) {
      write_log(store.temp_path(part), 4 + part);
      store.finish_part(part);
    }
  }
  video::PartStore store(folder, manifest);
  EXPECT_EQ(store.finished(), 2);
  EXPECT_EQ(store.kept_packets(), 4u + 5u);
  EXPECT_FALSE(fs::exists(store.part_path(3)));
}

// Parts without a manifest are refused with a message saying so, and kept.
TEST(PartStore, PartsWithoutAManifestAreRefusedAndKept) {
  const test_support::TempDir dir;
  const fs::path folder = dir.path() / "out.mp4.quicksr-parts";
  {
    video::PartStore store(folder, "a run\n");
    write_log(store.temp_path(0), 3);
    store.finish_part(0);
  }
  fs::remove(folder / "manifest");
  try {
    video::PartStore store(folder, "a run\n");
    ADD_FAILURE() << "parts without a manifest were taken";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what())
                  .find(folder.string() + ": holds parts but no manifest naming their run"),
              std::string::npos)
        << error.what();
  }
  EXPECT_TRUE(fs::exists(folder / "part-000000.packets"));
}

// Every truncation, a byte appended, and a size field pointing past the end are each refused
// with "damaged", naming the file.
TEST(PacketLog, DamageIsRefusedNamingTheFile) {
  const test_support::TempDir dir;
  const fs::path file = dir.path() / "log";
  video::PacketLogWriter writer(file);
  writer.append({0, 0, 1, 1, {1, 2, 3}, {{3, {4}}}});
  writer.finish();
  std::stringstream whole;
  whole << std::ifstream(file, std::ios::binary).rdbuf();
  const std::string bytes = whole.str();
  const auto expect_damaged = [&](const std::string& damaged, const std::string& why) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << damaged;
    try {
      video::count_logged_packets(file);
      ADD_FAILURE() << why << " was read";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(file.string() + ": damaged: "), std::string::npos)
          << why << ": " << e.what();
    }
  };
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    expect_damaged(bytes.substr(0, length), "truncated to " + std::to_string(length));
  }
  expect_damaged(bytes + "x", "a byte after the end");
  std::string huge_packet = bytes;
  huge_packet[8 + 1 + 3 * 8 + 4 + 3] = '\x7f';  // the packet size's high byte
  expect_damaged(huge_packet, "a packet size past the end");
}

}  // namespace
}  // namespace quicksr
