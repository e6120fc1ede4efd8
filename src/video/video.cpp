#include "video/video.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/cpu.h>
#include <libavutil/imgutils.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "quicksr/error.hpp"
#include "video/packet_log.hpp"
#include "video/parts.hpp"

// libx265 3.5 leaks one allocation in each x265_encoder_open (its own, which no call frees). In
// sanitizer builds LeakSanitizer would fail every run with libx265 on it, so leaks allocated inside
// libx265 are suppressed (ours, e.g. an unfreed codec context, still show: FFmpeg allocates them).
#if defined(__SANITIZE_ADDRESS__)
#define QUICKSR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QUICKSR_ASAN 1
#endif
#endif
#ifdef QUICKSR_ASAN
extern "C" const char* __lsan_default_suppressions() { return "leak:libx265.so\n"; }
// ...silently: the suppression count would join the command's output.
extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }
#endif

namespace quicksr::video {
namespace {

// An FFmpeg library version (AV_VERSION_INT) as major.minor.micro.
std::string version_text(unsigned version) {
  return std::to_string(AV_VERSION_MAJOR(version)) + "." +
         std::to_string(AV_VERSION_MINOR(version)) + "." +
         std::to_string(AV_VERSION_MICRO(version));
}

namespace fs = std::filesystem;

struct InputCloser {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
struct OutputCloser {
  void operator()(AVFormatContext* context) const {
    if (context->pb && !(context->oformat->flags & AVFMT_NOFILE)) avio_closep(&context->pb);
    avformat_free_context(context);
  }
};
struct CodecCloser {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct FrameFree {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketFree {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct SwsFree {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecCloser>;

FramePtr new_frame() {
  FramePtr frame(av_frame_alloc());
  if (!frame) throw Error("out of memory allocating a video frame");
  return frame;
}

PacketPtr new_packet() {
  PacketPtr packet(av_packet_alloc());
  if (!packet) throw Error("out of memory allocating a packet");
  return packet;
}

// FFmpeg's last message at error level or worse. Printed as they come, FFmpeg's messages would
// turn a bad input's one line into several ("moov atom not found" above ours); kept instead, the
// last one becomes part of the error we report. FFmpeg may log from its decoder threads.
std::mutex ffmpeg_error_mutex;
std::string ffmpeg_error;

void keep_ffmpeg_error(void* context, int level, const char* format, va_list args) {
  if (level > AV_LOG_ERROR) return;
  char line[1024] = {};
  int print_prefix = 0;  // the message alone, without "[mov,mp4,... @ 0x...]"
  av_log_format_line2(context, level, format, args, line, sizeof line, &print_prefix);
  std::string message(line);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (message.empty()) return;
  const std::lock_guard lock(ffmpeg_error_mutex);
  ffmpeg_error = std::move(message);
}

// The reason of FFmpeg error `code`, with FFmpeg's last message when it adds to it.
std::string describe(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  const std::lock_guard lock(ffmpeg_error_mutex);
  std::string reason = text;
  if (!ffmpeg_error.empty() && ffmpeg_error != reason) reason += " (" + ffmpeg_error + ")";
  ffmpeg_error.clear();
  return reason;
}

// `code` unless negative (an FFmpeg error), which is thrown as "<name>: <what>: <reason>". A call
// that succeeds drops FFmpeg's kept message, so that a failure names only its own.
int check(int code, const std::string& name, const char* what) {
  if (code < 0) throw Error(name + ": " + what + ": " + describe(code));
  const std::lock_guard lock(ffmpeg_error_mutex);
  ffmpeg_error.clear();
  return code;
}

bool is_yuv(AVPixelFormat format) {
  const AVPixFmtDescriptor* descriptor = av_pix_fmt_desc_get(format);
  return descriptor && descriptor->nb_components >= 3 && !(descriptor->flags & AV_PIX_FMT_FLAG_RGB);
}

bool has_alpha(AVPixelFormat format) {
  const AVPixFmtDescriptor* descriptor = av_pix_fmt_desc_get(format);
  return descriptor && (descriptor->flags & AV_PIX_FMT_FLAG_ALPHA);
}

// The deprecated "J" formats are full range whatever the frame says.
bool is_full_range(AVPixelFormat format, AVColorRange range) {
  return range == AVCOL_RANGE_JPEG || format == AV_PIX_FMT_YUVJ420P ||
         format == AV_PIX_FMT_YUVJ422P || format == AV_PIX_FMT_YUVJ444P ||
         format == AV_PIX_FMT_YUVJ440P || format == AV_PIX_FMT_YUVJ411P;
}

// Y'CbCr <-> RGB with the matrix and range the stream declares. Left to itself swscale assumes
// BT.601 and limited range: a full-range video would lose its blacks and whites and come out
// with its contrast squeezed, and saturated BT.709 colours would clip in RGB and shift.
void set_colour_details(SwsContext* context, AVPixelFormat yuv, AVColorSpace space,
                        AVColorRange range, bool yuv_is_source, const std::string& name) {
  if (!is_yuv(yuv)) return;
  const int* matrix = sws_getCoefficients(space);  // BT.601 when unspecified
  const int* rgb = sws_getCoefficients(SWS_CS_DEFAULT);
  const int full = is_full_range(yuv, range) ? 1 : 0;
  constexpr int kBrightness = 0, kContrast = 1 << 16, kSaturation = 1 << 16;
  const int set = yuv_is_source ? sws_setColorspaceDetails(context, matrix, full, rgb, 1,
                                                           kBrightness, kContrast, kSaturation)
                                : sws_setColorspaceDetails(context, rgb, 1, matrix, full,
                                                           kBrightness, kContrast, kSaturation);
  if (set < 0) {
    throw Error(name + ": cannot convert the colours of pixel format " + av_get_pix_fmt_name(yuv));
  }
}

// Decode -> RGB -> upscale -> encode for the video stream; packet copy for every other stream.
class Transcoder {
 public:
  Transcoder(const fs::path& input, const fs::path& output, const VideoOptions& options)
      : in_name_(input.string()), out_name_(output.string()), options_(options) {
    open_input(input);
    open_decoder();
    format_ = av_guess_format(nullptr, out_name_.c_str(), nullptr);
    if (!format_) throw Error(out_name_ + ": unknown video container (use e.g. .mp4 or .mkv)");
    codec_ = find_encoder();
    frames_per_part_ = choose_frames_per_part();
  }

  // What a resumed run must share with the run that left its parts: the input file, the frames
  // per part, the encoder settings and the upscaler.
  std::string manifest(const fs::path& input) const {
    // The encoder's output depends on its build and thread count (x264's does): a part is only
    // reused by the same ones.
    const std::string threads = options_.threads > 0
                                    ? std::to_string(options_.threads)
                                    : "auto, " + std::to_string(av_cpu_count()) + " cpus";
    return "quicksr video parts 2\ninput: " + file_identity(input) +
           "\nframes per part: " + std::to_string(frames_per_part_) + "\nencoder: " + codec_->name +
           "\nFFmpeg: libavcodec " + version_text(avcodec_version()) + ", libavformat " +
           version_text(avformat_version()) + ", libswscale " + version_text(swscale_version()) +
           "\nthreads: " + threads +
           "\ncrf: " + (options_.crf ? std::to_string(*options_.crf) : "default") +
           "\npixel format: " +
           (options_.pixel_format.empty() ? "default" : options_.pixel_format) +
           "\nupscaler: " + options_.upscaler_key + "\n";
  }

  // Frames in the first `parts` parts (the last part of a video may hold fewer).
  std::int64_t frames_in_parts(int parts) const {
    const std::int64_t frames = std::int64_t{parts} * frames_per_part_;
    const std::int64_t expected = expected_frames();
    return expected > 0 ? std::min(frames, expected) : frames;
  }

  void run(const fs::path& temp, const FrameUpscaler& upscaler, const VideoProgress& progress,
           PartStore& parts) {
    open_output(temp);
    upscaler_ = &upscaler;
    progress_ = &progress;
    parts_ = &parts;
    PacketPtr packet = new_packet();
    while (true) {
      const int status = av_read_frame(input_.get(), packet.get());
      if (status == AVERROR_EOF) break;
      check(status, in_name_, "cannot read");
      if (packet->stream_index == video_in_) {
        decode(packet.get());
      } else {
        copy(packet.get());
      }
      av_packet_unref(packet.get());
    }
    decode(nullptr);  // drains the decoder
    if (!encoder_) throw Error(in_name_ + ": the video stream has no decodable frame");
    end_part();
    check(av_write_trailer(output_.get()), out_name_, "cannot finish the file");
    check(avio_closep(&output_->pb), out_name_, "cannot write");
  }

 private:
  void open_input(const fs::path& input) {
    AVFormatContext* context = nullptr;
    check(avformat_open_input(&context, input.c_str(), nullptr, nullptr), in_name_,
          "cannot open as a video");
    input_.reset(context);
    check(avformat_find_stream_info(context, nullptr), in_name_, "cannot read the streams");
    video_in_ = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (video_in_ < 0) throw Error(in_name_ + ": no video stream");
  }

  AVStream* video_stream() const { return input_->streams[video_in_]; }

  void open_decoder() {
    const AVCodecParameters* parameters = video_stream()->codecpar;
    const AVCodec* codec = avcodec_find_decoder(parameters->codec_id);
    if (!codec) throw Error(in_name_ + ": no decoder for the video codec");
    decoder_.reset(avcodec_alloc_context3(codec));
    check(avcodec_parameters_to_context(decoder_.get(), parameters), in_name_, "bad video stream");
    decoder_->thread_count = options_.threads;
    decoder_->pkt_timebase = video_stream()->time_base;
    check(avcodec_open2(decoder_.get(), codec, nullptr), in_name_, "cannot open the decoder");
  }

  // The container (chosen by OUT's extension) with every stream but the video copied; the
  // video stream is added once the first frame tells the upscaled size.
  void open_output(const fs::path& temp) {
    const AVOutputFormat* format = format_;
    AVFormatContext* context = nullptr;
    check(avformat_alloc_output_context2(&context, format, nullptr, temp.c_str()), out_name_,
          "cannot create");
    output_.reset(context);
    av_dict_copy(&context->metadata, input_->metadata, 0);
    stream_map_.assign(input_->nb_streams, -1);
    for (unsigned i = 0; i < input_->nb_streams; ++i) {
      const AVStream* in = input_->streams[i];
      if (static_cast<int>(i) == video_in_) {
        video_out_ = add_stream(in);
        continue;
      }
      const AVMediaType type = in->codecpar->codec_type;
      if (type != AVMEDIA_TYPE_AUDIO && type != AVMEDIA_TYPE_SUBTITLE &&
          type != AVMEDIA_TYPE_DATA && type != AVMEDIA_TYPE_ATTACHMENT) {
        continue;  // further video streams (e.g. cover art) are left out
      }
      if (avformat_query_codec(format, in->codecpar->codec_id, FF_COMPLIANCE_NORMAL) != 1) {
        throw Error(out_name_ + ": the container cannot hold input stream " + std::to_string(i) +
                    " (" + avcodec_get_name(in->codecpar->codec_id) +
                    "); choose another extension, e.g. .mkv");
      }
      const int index = add_stream(in);
      AVStream* out = output_->streams[index];
      check(avcodec_parameters_copy(out->codecpar, in->codecpar), out_name_, "cannot copy");
      out->codecpar->codec_tag = 0;  // let the muxer pick the tag of its container
      stream_map_[i] = index;
    }
    check(avio_open(&context->pb, temp.c_str(), AVIO_FLAG_WRITE), out_name_, "cannot write");
  }

  int add_stream(const AVStream* in) {
    AVStream* out = avformat_new_stream(output_.get(), nullptr);
    if (!out) throw Error(out_name_ + ": out of memory adding a stream");
    out->time_base = in->time_base;
    out->disposition = in->disposition;
    av_dict_copy(&out->metadata, in->metadata, 0);
    return out->index;
  }

  // The output's video stream, from the first frame: its size, pixel format, colours, rotation and
  // HDR10 metadata, and the first part's encoder; then the header (with the copied streams'
  // packets that waited for it).
  void start_video_stream(const AVFrame* first) {
    const auto source = static_cast<AVPixelFormat>(first->format);
    buffer_format_ = buffer_format(source);
    source_width_ = first->width;
    source_height_ = first->height;
    // 4:2:0 and most encoders need even sizes: an odd last row/column is dropped.
    width_ = upscaler_->output_length(first->width) & ~1;
    height_ = upscaler_->output_length(first->height) & ~1;
    pixel_format_ = pick_pixel_format(codec_, source);
    source_format_ = source;
    const HdrMetadata hdr = hdr_metadata(first);
    // x265 prints its settings to stderr itself (not through FFmpeg's log): errors only. HDR10
    // metadata reaches its bitstream (SEI) only through its parameters.
    x265_params_ = "log-level=error" + x265_hdr10(hdr);
    encoder_ = new_encoder();
    AVStream* out = output_->streams[video_out_];
    check(avcodec_parameters_from_context(out->codecpar, encoder_.get()), out_name_, "bad encoder");
    out->avg_frame_rate = encoder_->framerate;
    copy_display_matrix(out);
    add_hdr_side_data(out, hdr);
    check(avformat_write_header(output_.get(), nullptr), out_name_, "cannot write the header");
    for (PacketPtr& packet : pending_) write(packet.get());
    pending_.clear();

    from_rgb_.reset(sws_getContext(width_, height_, rgb_format(), width_, height_, pixel_format_,
                                   SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!from_rgb_) throw Error(out_name_ + ": cannot convert RGB to the encoder's format");
    set_colour_details(from_rgb_.get(), pixel_format_, encoder_->colorspace, encoder_->color_range,
                       false, out_name_);
  }

  // An encoder of its own for each part, with the same settings: parts decode on their own, and
  // a resumed run writes the packets an uninterrupted one would.
  CodecPtr new_encoder() const {
    CodecPtr encoder(avcodec_alloc_context3(codec_));
    if (!encoder) throw Error(out_name_ + ": out of memory opening the encoder");
    encoder->width = width_;
    encoder->height = height_;
    encoder->pix_fmt = pixel_format_;
    encoder->time_base = video_stream()->time_base;
    encoder->framerate = av_guess_frame_rate(input_.get(), video_stream(), nullptr);
    encoder->sample_aspect_ratio = decoder_->sample_aspect_ratio;
    tag_colours(encoder.get(), source_format_);
    encoder->thread_count = options_.threads;
    if (format_->flags & AVFMT_GLOBALHEADER) encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(encoder->priv_data, "x265-params", x265_params_.c_str(), 0);
    const int crf = options_.crf.value_or(18);
    const int set = av_opt_set_int(encoder->priv_data, "crf", crf, 0);
    if (set < 0 && options_.crf) {
      throw Error(out_name_ + ": encoder '" + codec_->name + "' has no --crf setting");
    }
    check(avcodec_open2(encoder.get(), codec_, nullptr), out_name_, "cannot open the encoder");
    return encoder;
  }

  // A fresh encoder for the next part; its stream headers must be the first part's, which the
  // output's header holds.
  void renew_encoder() {
    encoder_ = new_encoder();
    const AVCodecParameters* stream = output_->streams[video_out_]->codecpar;
    if (encoder_->extradata_size != stream->extradata_size ||
        !std::equal(encoder_->extradata, encoder_->extradata + encoder_->extradata_size,
                    stream->extradata)) {
      throw Error(out_name_ + ": encoder '" + codec_->name +
                  "' gave a new part other stream headers than the first");
    }
    encoder_fresh_ = true;
  }

  // About ten seconds of video (x264's default keyframe interval at 25 fps): a resumed run loses
  // at most that much work, and each part's fresh encoder adds one keyframe. GIF and APNG
  // encoders start their output with a file header, so their parts cannot be joined: one part.
  int choose_frames_per_part() const {
    if (codec_->id == AV_CODEC_ID_GIF || codec_->id == AV_CODEC_ID_APNG) return INT_MAX;
    const AVRational rate = av_guess_frame_rate(input_.get(), video_stream(), nullptr);
    const double fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 25.0;
    constexpr double kSecondsPerPart = 10;
    return static_cast<int>(std::clamp(std::lround(fps * kSecondsPerPart), 1L, 100000L));
  }

  // --codec, else libx264 where the container takes H.264, else the container's own video encoder
  // (.gif: gif, .apng: apng), as the ffmpeg command chooses.
  const AVCodec* find_encoder() const {
    const AVOutputFormat* format = format_;
    const std::string name =
        !options_.codec.empty()                                                     ? options_.codec
        : avformat_query_codec(format, AV_CODEC_ID_H264, FF_COMPLIANCE_NORMAL) == 1 ? "libx264"
                                                                                    : "";
    const AVCodec* codec = name.empty() ? avcodec_find_encoder(format->video_codec)
                                        : avcodec_find_encoder_by_name(name.c_str());
    if (!codec || codec->type != AVMEDIA_TYPE_VIDEO) {
      throw Error(out_name_ + (name.empty() ? ": the container has no video encoder"
                                            : ": unknown video encoder '" + name + "'"));
    }
    return codec;
  }

  // --pix-fmt, else the encoder's format closest to the source's (the ffmpeg command's rule): the
  // source's chroma subsampling and bit depth where the encoder takes them.
  AVPixelFormat pick_pixel_format(const AVCodec* codec, AVPixelFormat source) const {
    if (options_.pixel_format.empty()) {
      if (!codec->pix_fmts) return AV_PIX_FMT_YUV420P;
      return avcodec_find_best_pix_fmt_of_list(codec->pix_fmts, source, has_alpha(source) ? 1 : 0,
                                               nullptr);
    }
    const AVPixelFormat wanted = av_get_pix_fmt(options_.pixel_format.c_str());
    if (wanted == AV_PIX_FMT_NONE) {
      throw Error(out_name_ + ": unknown pixel format '" + options_.pixel_format + "'");
    }
    if (!codec->pix_fmts) return wanted;
    std::string taken;
    for (const AVPixelFormat* f = codec->pix_fmts; *f != AV_PIX_FMT_NONE; ++f) {
      if (*f == wanted) return wanted;
      taken += std::string(taken.empty() ? "" : ", ") + av_get_pix_fmt_name(*f);
    }
    throw Error(out_name_ + ": encoder '" + codec->name + "' cannot take pixel format '" +
                options_.pixel_format + "' (it takes " + taken + ")");
  }

  // The output declares the matrix and range its pixels were converted with: the source's when
  // both are Y'CbCr, BT.709 (limited range unless a "J" format) for an RGB or gray source.
  void tag_colours(AVCodecContext* encoder, AVPixelFormat source) const {
    encoder->color_primaries = decoder_->color_primaries;
    encoder->color_trc = decoder_->color_trc;
    encoder->colorspace = decoder_->colorspace;
    encoder->color_range = decoder_->color_range;
    if (!is_yuv(encoder->pix_fmt)) return;
    if (!is_yuv(source)) {
      encoder->colorspace = AVCOL_SPC_BT709;
      encoder->color_range = AVCOL_RANGE_MPEG;
    }
    if (is_full_range(encoder->pix_fmt, AVCOL_RANGE_UNSPECIFIED)) {
      encoder->color_range = AVCOL_RANGE_JPEG;
    }
  }

  // Rotation is stored as a display matrix on the stream; decoders do not apply it, so the
  // upscaled frames keep the stored orientation and the matrix stays valid.
  void copy_display_matrix(AVStream* out) const {
    std::size_t size = 0;
    const std::uint8_t* matrix =
        av_stream_get_side_data(video_stream(), AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!matrix) return;
    std::uint8_t* copy = av_stream_new_side_data(out, AV_PKT_DATA_DISPLAYMATRIX, size);
    if (!copy) throw Error(out_name_ + ": out of memory copying the rotation");
    std::copy(matrix, matrix + size, copy);
  }

  // HDR10's mastering display and content light level, from the stream or else its first frame
  // (where decoders put the bitstream's SEI); null where absent.
  struct HdrMetadata {
    const AVMasteringDisplayMetadata* mastering = nullptr;
    const AVContentLightMetadata* light = nullptr;
  };

  HdrMetadata hdr_metadata(const AVFrame* first) const {
    const auto stream_data = [&](AVPacketSideDataType type) {
      return av_stream_get_side_data(video_stream(), type, nullptr);
    };
    const auto frame_data = [&](AVFrameSideDataType type) -> const std::uint8_t* {
      const AVFrameSideData* data = av_frame_get_side_data(first, type);
      return data ? data->data : nullptr;
    };
    const std::uint8_t* mastering = stream_data(AV_PKT_DATA_MASTERING_DISPLAY_METADATA);
    if (!mastering) mastering = frame_data(AV_FRAME_DATA_MASTERING_DISPLAY_METADATA);
    const std::uint8_t* light = stream_data(AV_PKT_DATA_CONTENT_LIGHT_LEVEL);
    if (!light) light = frame_data(AV_FRAME_DATA_CONTENT_LIGHT_LEVEL);
    HdrMetadata hdr;
    hdr.mastering = reinterpret_cast<const AVMasteringDisplayMetadata*>(mastering);
    if (hdr.mastering && !(hdr.mastering->has_primaries && hdr.mastering->has_luminance)) {
      hdr.mastering = nullptr;
    }
    hdr.light = reinterpret_cast<const AVContentLightMetadata*>(light);
    return hdr;
  }

  // ":master-display=G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min):max-cll=CLL,FALL" (x265's units:
  // chromaticity in 0.00002, luminance in 0.0001 cd/m^2).
  static std::string x265_hdr10(const HdrMetadata& hdr) {
    std::string params;
    const auto units = [](AVRational value, double per_unit) {
      return std::to_string(std::lround(av_q2d(value) / per_unit));
    };
    if (const AVMasteringDisplayMetadata* m = hdr.mastering) {
      const auto point = [&](const AVRational* xy) {
        return "(" + units(xy[0], 0.00002) + "," + units(xy[1], 0.00002) + ")";
      };
      params += ":master-display=G" + point(m->display_primaries[1]) + "B" +
                point(m->display_primaries[2]) + "R" + point(m->display_primaries[0]) + "WP" +
                point(m->white_point) + "L(" + units(m->max_luminance, 0.0001) + "," +
                units(m->min_luminance, 0.0001) + ")";
    }
    if (hdr.light) {
      params += ":max-cll=" + std::to_string(hdr.light->MaxCLL) + "," +
                std::to_string(hdr.light->MaxFALL);
    }
    return params;
  }

  // The same metadata on the output stream, for containers that carry it (Matroska, MP4).
  void add_hdr_side_data(AVStream* out, const HdrMetadata& hdr) const {
    const auto add = [&](AVPacketSideDataType type, const void* data, std::size_t size) {
      if (!data) return;
      auto* copy = av_stream_new_side_data(out, type, size);
      if (!copy) throw Error(out_name_ + ": out of memory copying the HDR metadata");
      std::memcpy(copy, data, size);
    };
    add(AV_PKT_DATA_MASTERING_DISPLAY_METADATA, hdr.mastering, sizeof(AVMasteringDisplayMetadata));
    add(AV_PKT_DATA_CONTENT_LIGHT_LEVEL, hdr.light, sizeof(AVContentLightMetadata));
  }

  void decode(const AVPacket* packet) {
    const int sent = avcodec_send_packet(decoder_.get(), packet);
    if (sent < 0 && sent != AVERROR_EOF) check(sent, in_name_, "cannot decode");
    FramePtr frame = new_frame();
    while (true) {
      const int status = avcodec_receive_frame(decoder_.get(), frame.get());
      if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return;
      check(status, in_name_, "cannot decode");
      take_frame(frame.get());
      av_frame_unref(frame.get());
    }
  }

  // The frames the upscaler sees: 16 bits per channel for sources of more than 8 (a 10-bit video
  // stays 10-bit), with alpha for sources that have it (an APNG's transparency stays).
  static PixelFormat buffer_format(AVPixelFormat source) {
    const AVPixFmtDescriptor* descriptor = av_pix_fmt_desc_get(source);
    const bool deep = descriptor && descriptor->comp[0].depth > 8;
    if (has_alpha(source)) {
      return deep ? PixelFormat::kRgba16 : PixelFormat::kRgba8;
    }
    return deep ? PixelFormat::kRgb16 : PixelFormat::kRgb8;
  }
  AVPixelFormat rgb_format() const {
    switch (buffer_format_) {
      case PixelFormat::kRgb16:
        return AV_PIX_FMT_RGB48;
      case PixelFormat::kRgba8:
        return AV_PIX_FMT_RGBA;
      case PixelFormat::kRgba16:
        return AV_PIX_FMT_RGBA64;
      default:
        return AV_PIX_FMT_RGB24;
    }
  }
  std::size_t rgb_pixel_bytes() const { return pixel_layout(buffer_format_).pixel_bytes(); }

  // The decoded frame as RGB (RGBA where it has alpha) in rgb_, of the first frame's size: frames
  // of a stream whose size changes (concatenated clips, a broadcast capture) are scaled to it, as
  // the ffmpeg command does.
  PixelBuffer<const void> to_rgb(const AVFrame* frame) {
    const auto format = static_cast<AVPixelFormat>(frame->format);
    const auto key =
        std::tuple(format, frame->width, frame->height, frame->colorspace, frame->color_range);
    if (!to_rgb_ || key != to_rgb_key_) {
      to_rgb_.reset(sws_getContext(frame->width, frame->height, format, source_width_,
                                   source_height_, rgb_format(), SWS_BICUBIC, nullptr, nullptr,
                                   nullptr));
      if (!to_rgb_) throw Error(in_name_ + ": cannot convert the frames to RGB");
      set_colour_details(to_rgb_.get(), format, frame->colorspace, frame->color_range, true,
                         in_name_);
      to_rgb_key_ = key;
    }
    const std::size_t row_bytes = static_cast<std::size_t>(source_width_) * rgb_pixel_bytes();
    rgb_.resize(row_bytes * source_height_);
    std::uint8_t* planes[1] = {rgb_.data()};
    const int strides[1] = {static_cast<int>(row_bytes)};
    sws_scale(to_rgb_.get(), frame->data, frame->linesize, 0, frame->height, planes, strides);
    return {rgb_.data(), source_width_, source_height_, row_bytes, buffer_format_};
  }

  // Frame number frames_taken_ of the video: copied from its finished part's packets, or upscaled
  // and encoded into the part being written.
  void take_frame(const AVFrame* decoded) {
    if (!encoder_) start_video_stream(decoded);
    const int part = static_cast<int>(frames_taken_ / frames_per_part_);
    if (part != part_) {
      end_part();
      begin_part(part);
    }
    const std::int64_t pts = increasing_pts(decoded->best_effort_timestamp);
    if (reader_) {
      replay_packet();  // one per frame, as the encoder gave them (the rest at the part's end)
    } else {
      upscale_and_encode(decoded, pts);
    }
    ++frames_taken_;
    if (*progress_ && !(*progress_)(frames_taken_, expected_frames())) throw interrupted();
  }

  Error interrupted() const {
    if (parts_->finished() == 0) return Error(out_name_ + ": interrupted; nothing was written");
    const std::int64_t kept = frames_in_parts(parts_->finished());
    return Error(out_name_ + ": interrupted; the first " + std::to_string(kept) +
                 " frames are kept in " + parts_->folder().string() +
                 " and the same command resumes from there");
  }

  void begin_part(int part) {
    part_ = part;
    if (part < parts_->finished()) {
      reader_.emplace(parts_->part_path(part));
      return;
    }
    if (!encoder_fresh_) renew_encoder();
    writer_.emplace(parts_->temp_path(part));
  }

  // Writes what is left of the part being copied, or flushes the part being encoded and keeps it.
  void end_part() {
    if (reader_) {
      while (replay_packet()) {
      }
      reader_.reset();
    } else if (writer_) {
      encode(nullptr);
      writer_->finish();
      writer_.reset();
      parts_->finish_part(part_);
    }
  }

  // The encoder and the muxer need increasing timestamps: a frame at or before the previous one
  // (overlapping concatenated clips) follows it by one tick instead of failing the video.
  std::int64_t increasing_pts(std::int64_t pts) {
    if (pts == AV_NOPTS_VALUE) return pts;
    if (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_ && last_pts_ < INT64_MAX) {
      pts = last_pts_ + 1;
    }
    last_pts_ = pts;
    return pts;
  }

  void upscale_and_encode(const AVFrame* decoded, std::int64_t pts) {
    const PixelBuffer<const void> rgb = to_rgb(decoded);
    const int width = upscaler_->output_length(rgb.width);
    const int height = upscaler_->output_length(rgb.height);
    const std::size_t row_bytes = static_cast<std::size_t>(width) * rgb_pixel_bytes();
    upscaled_rgb_.resize(row_bytes * height);
    upscaler_->upscale(rgb, {upscaled_rgb_.data(), width, height, row_bytes, buffer_format_});
    FramePtr frame = new_frame();
    frame->format = pixel_format_;
    frame->width = width_;
    frame->height = height_;
    check(av_frame_get_buffer(frame.get(), 0), out_name_, "out of memory");
    const std::uint8_t* planes[1] = {upscaled_rgb_.data()};
    const int strides[1] = {static_cast<int>(row_bytes)};  // wider than the (even) frame: cropped
    sws_scale(from_rgb_.get(), planes, strides, 0, height_, frame->data, frame->linesize);
    frame->pts = pts;
    frame->pict_type = AV_PICTURE_TYPE_NONE;
    encode(frame.get());
  }

  std::int64_t expected_frames() const {
    AVStream* stream = video_stream();
    if (stream->nb_frames > 0) return stream->nb_frames;
    const AVRational rate = av_guess_frame_rate(input_.get(), stream, nullptr);
    if (input_->duration <= 0 || rate.num <= 0) return 0;
    return av_rescale_q(input_->duration, AVRational{1, AV_TIME_BASE}, av_inv_q(rate));
  }

  void encode(const AVFrame* frame) {
    encoder_fresh_ = false;
    check(avcodec_send_frame(encoder_.get(), frame), out_name_, "cannot encode");
    while (true) {
      PacketPtr packet = new_packet();
      const int status = avcodec_receive_packet(encoder_.get(), packet.get());
      if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return;
      check(status, out_name_, "cannot encode");
      writer_->append(to_logged(*packet));
      write_video(packet.get());
    }
  }

  // The next packet of the finished part being copied into the output; false after its last.
  bool replay_packet() {
    LoggedPacket logged;
    if (!reader_->next(logged)) return false;
    PacketPtr packet = to_packet(logged);
    write_video(packet.get());
    return true;
  }

  static LoggedPacket to_logged(const AVPacket& packet) {
    LoggedPacket logged{packet.pts, packet.dts, packet.duration,
                        static_cast<std::uint32_t>(packet.flags)};
    logged.bytes.assign(packet.data, packet.data + packet.size);
    for (int i = 0; i < packet.side_data_elems; ++i) {
      const AVPacketSideData& side = packet.side_data[i];
      logged.side_data.push_back(
          {static_cast<std::uint32_t>(side.type), {side.data, side.data + side.size}});
    }
    return logged;
  }

  PacketPtr to_packet(const LoggedPacket& logged) const {
    PacketPtr packet = new_packet();
    check(av_new_packet(packet.get(), static_cast<int>(logged.bytes.size())), out_name_,
          "out of memory");
    std::copy(logged.bytes.begin(), logged.bytes.end(), packet->data);
    packet->pts = logged.pts;
    packet->dts = logged.dts;
    packet->duration = logged.duration;
    packet->flags = static_cast<int>(logged.flags);
    for (const LoggedSideData& side : logged.side_data) {
      std::uint8_t* data = av_packet_new_side_data(
          packet.get(), static_cast<AVPacketSideDataType>(side.type), side.bytes.size());
      if (!data) throw Error(out_name_ + ": out of memory");
      std::copy(side.bytes.begin(), side.bytes.end(), data);
    }
    return packet;
  }

  // A video packet in the encoder's time base into the output, its decoding timestamp kept
  // increasing across parts (joined_dts).
  void write_video(AVPacket* packet) {
    packet->stream_index = video_out_;
    av_packet_rescale_ts(packet, encoder_->time_base, output_->streams[video_out_]->time_base);
    if (packet->dts != AV_NOPTS_VALUE) {
      packet->dts = joined_dts(packet->dts, packet->pts, last_dts_);
      last_dts_ = packet->dts;
    }
    write(packet);
  }

  void copy(AVPacket* packet) {
    const int index = stream_map_[packet->stream_index];
    if (index < 0) return;
    av_packet_rescale_ts(packet, input_->streams[packet->stream_index]->time_base,
                         output_->streams[index]->time_base);
    packet->stream_index = index;
    packet->pos = -1;
    if (encoder_) {
      write(packet);
    } else {  // the header waits for the first video frame
      PacketPtr held = new_packet();
      check(av_packet_ref(held.get(), packet), out_name_, "out of memory");
      pending_.push_back(std::move(held));
    }
  }

  void write(AVPacket* packet) {
    check(av_interleaved_write_frame(output_.get(), packet), out_name_, "cannot write");
  }

  std::string in_name_;
  std::string out_name_;
  VideoOptions options_;
  std::unique_ptr<AVFormatContext, InputCloser> input_;
  std::unique_ptr<AVFormatContext, OutputCloser> output_;
  const AVOutputFormat* format_ = nullptr;  // OUT's container
  const AVCodec* codec_ = nullptr;          // the video encoder
  CodecPtr decoder_;
  CodecPtr encoder_;           // the current part's
  bool encoder_fresh_ = true;  // no frame sent to encoder_ yet
  int source_width_ = 0;       // of the first decoded frame, which every frame is converted to
  int source_height_ = 0;
  int width_ = 0;  // of the encoded frames
  int height_ = 0;
  AVPixelFormat pixel_format_ = AV_PIX_FMT_NONE;   // of the encoded frames
  AVPixelFormat source_format_ = AV_PIX_FMT_NONE;  // of the first decoded frame
  std::string x265_params_;
  std::unique_ptr<SwsContext, SwsFree> to_rgb_;
  std::tuple<AVPixelFormat, int, int, AVColorSpace, AVColorRange> to_rgb_key_;  // what it converts
  PixelFormat buffer_format_ = PixelFormat::kRgb8;  // set by the first frame
  std::unique_ptr<SwsContext, SwsFree> from_rgb_;
  int video_in_ = -1;
  int video_out_ = -1;
  std::vector<int> stream_map_;
  std::vector<PacketPtr> pending_;
  std::int64_t frames_taken_ = 0;  // decoded frames copied or upscaled
  int frames_per_part_ = 1;
  int part_ = -1;  // the part frames_taken_ belongs to
  PartStore* parts_ = nullptr;
  std::optional<PacketLogReader> reader_;   // the finished part being copied
  std::optional<PacketLogWriter> writer_;   // the part being encoded
  std::int64_t last_dts_ = AV_NOPTS_VALUE;  // of the last video packet written
  std::int64_t last_pts_ = AV_NOPTS_VALUE;  // of the last frame taken
  const FrameUpscaler* upscaler_ = nullptr;
  std::vector<std::uint8_t> rgb_;           // the decoded frame as RGB, reused
  std::vector<std::uint8_t> upscaled_rgb_;  // its upscaled frame, reused
  const VideoProgress* progress_ = nullptr;
};

}  // namespace

void upscale_video(const fs::path& input, const fs::path& output, const FrameUpscaler& upscaler,
                   const VideoOptions& options, const VideoProgress& progress) {
  check_regular_file(input);
  check_output_file(input, output, options.existing);
  av_log_set_callback(keep_ffmpeg_error);
  Transcoder transcoder(input, output, options);
  PartStore parts(output.string() + ".quicksr-parts", transcoder.manifest(input));
  if (options.on_resume && (parts.finished() > 0 || !parts.dropped().empty())) {
    const std::int64_t kept = std::min(transcoder.frames_in_parts(parts.finished()),
                                       static_cast<std::int64_t>(parts.kept_packets()));
    std::string message = parts.dropped().empty() ? "" : parts.dropped() + "; ";
    message += "resuming: " + std::to_string(kept) + " frames were upscaled before (kept in " +
               parts.folder().string() + ")";
    options.on_resume(kept, message);
  }
  try {
    write_atomically(
        output, [&](const fs::path& temp) { transcoder.run(temp, upscaler, progress, parts); },
        options.existing);
  } catch (const Error& error) {
    const std::string message = error.what();
    if (parts.finished() == 0 || message.find(parts.folder().string()) != std::string::npos) throw;
    throw Error(message + " (the finished parts stay in " + parts.folder().string() +
                " for the next run)");
  }
  sync_to_disk(output);  // before the parts that could make it again go
  parts.remove();
}

}  // namespace quicksr::video
