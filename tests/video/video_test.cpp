// quicksr video on clips made at test time by the ffmpeg command (testsrc + a sine tone +
// subtitles), checked by reading the result back with FFmpeg's libraries.
#include <gtest/gtest.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "quicksr/upscaler.hpp"
#include "support/run_quicksr.hpp"
#include "support/temp_dir.hpp"
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

  // The first frame of the video stream as 8-bit RGB, or an empty image.
  Image first_frame() {
    const int index = stream_of(AVMEDIA_TYPE_VIDEO);
    const AVCodecParameters* parameters = context->streams[index]->codecpar;
    const AVCodec* codec = avcodec_find_decoder(parameters->codec_id);
    AVCodecContext* decoder = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(decoder, parameters);
    avcodec_open2(decoder, codec, nullptr);
    AVPacket* packet = av_packet_alloc();
    AVFrame* frame = av_frame_alloc();
    Image image;
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
    if (done) {
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
    }
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&decoder);
    return image;
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

  test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

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
// symbolic link.
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
    EXPECT_NE(std::string(e.what()).find("out.mp4: already exists"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fs::file_size(path("out.mp4")), 8u);

  fs::create_symlink(path("nowhere.mp4"), path("link.mp4"));
  EXPECT_THROW(video::upscale_video(clip, path("link.mp4"), upscale, {}, progress), Error);
  EXPECT_TRUE(fs::is_symlink(path("link.mp4")));
  EXPECT_FALSE(fs::exists(path("nowhere.mp4")));
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".quicksr-"), std::string::npos)
        << "temporary file left: " << entry.path();
  }
}

}  // namespace
}  // namespace quicksr
