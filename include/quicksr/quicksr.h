#ifndef QUICKSR_QUICKSR_H
#define QUICKSR_QUICKSR_H
/* The quicksr C API: QuickSRNet super-resolution on 8- or 16-bit RGB/RGBA pixel buffers.
 *
 *   quicksr_model* model = NULL;
 *   int out_width, out_height;
 *   if (quicksr_model_load_builtin(2.0, 0, &model) != QUICKSR_OK) {
 *     fprintf(stderr, "quicksr: %s\n", quicksr_last_error());
 *     return 1;
 *   }
 *   if (quicksr_output_size(model, width, height, &out_width, &out_height) != QUICKSR_OK ||
 *       quicksr_upscale(model, QUICKSR_RGBA8, pixels, width, height, stride, out_pixels,
 *                       out_stride) != QUICKSR_OK) {  // out_stride >= out_width * 4
 *     fprintf(stderr, "quicksr: %s\n", quicksr_last_error());
 *     quicksr_model_free(model);
 *     return 1;
 *   }
 *   quicksr_model_free(model);
 *
 * Colour goes through the network, alpha is interpolated (bicubic). No function throws: every
 * failure returns a status and sets a message for quicksr_last_error().
 *
 * Thread safety: a model may be used from several threads at once (quicksr_upscale,
 * quicksr_output_size and the getters only read it). Calls on one model share its worker threads,
 * so they run one after the other; load one model per thread for parallel calls.
 * quicksr_model_free must not race with other calls on the same model. */
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum quicksr_status {
  QUICKSR_OK = 0,
  QUICKSR_ERROR_ARGUMENT = 1, /* a null pointer, a bad size, stride, format, scale or thread
                                 count, or overlapping buffers */
  QUICKSR_ERROR_FILE = 2,     /* the model file cannot be opened or is not a regular file */
  QUICKSR_ERROR_MODEL = 3,    /* a malformed or unsupported model, or no built-in of that scale */
  QUICKSR_ERROR_MEMORY = 4,   /* out of memory */
  QUICKSR_ERROR_INTERNAL = 5  /* a bug: please report it with the message */
} quicksr_status;

/* Interleaved pixels; 16-bit samples are uint16_t in the machine's byte order. The BGR orders
 * are OpenCV's cv::Mat (CV_8UC3 / CV_8UC4) and the B8G8R8A8 swapchains and bitmaps of Direct3D,
 * Vulkan and Windows, upscaled where they are, without a conversion pass. */
typedef enum quicksr_format {
  QUICKSR_RGB8 = 0,
  QUICKSR_RGBA8 = 1,
  QUICKSR_RGB16 = 2,
  QUICKSR_RGBA16 = 3,
  QUICKSR_BGR8 = 4,
  QUICKSR_BGRA8 = 5
} quicksr_format;

typedef struct quicksr_model quicksr_model;

/* "0.1.0" */
const char* quicksr_version(void);

/* The message of the last failed call made by this thread ("" if none). Valid until this
 * thread's next failing call. */
const char* quicksr_last_error(void);

/* A short constant description of a status ("ok", "bad argument", ...). */
const char* quicksr_status_string(quicksr_status status);

/* Loads a quicksr model file (.safetensors). threads: worker threads, 0 for all cores, at most
 * 1024 (more is QUICKSR_ERROR_ARGUMENT). A folder or another non-regular file is
 * QUICKSR_ERROR_FILE. */
quicksr_status quicksr_model_load(const char* path, int threads, quicksr_model** model);

/* The QuickSRNet-Small built into the library for scale 2, 3, 4 or 1.5. threads: as for
 * quicksr_model_load. */
quicksr_status quicksr_model_load_builtin(double scale, int threads, quicksr_model** model);

/* Frees a model; NULL is allowed. */
void quicksr_model_free(quicksr_model* model);

/* The upscaling factor (2.0, 3.0, 4.0, 1.5...) and the model's name; 0 / "" for NULL. The name
 * lives as long as the model. */
double quicksr_model_scale(const quicksr_model* model);
const char* quicksr_model_name(const quicksr_model* model);

/* The size quicksr_upscale writes for a width x height input. */
quicksr_status quicksr_output_size(const quicksr_model* model, int width, int height,
                                   int* out_width, int* out_height);

/* Upscales `input` (width x height pixels of `format`, rows `input_stride` bytes apart) into
 * `output` (quicksr_output_size pixels, rows `output_stride` bytes apart, same format). Strides
 * are positive byte counts, at least the row size; negative strides (bottom-up bitmaps) are not
 * supported, and a buffer spanning more than PTRDIFF_MAX bytes, as one with a negative stride
 * cast to size_t does, is QUICKSR_ERROR_ARGUMENT. Bytes between a row's end and the next row are
 * not touched. The buffers' address ranges, each from the first byte of its first row to the last
 * byte of its last row, must not overlap (QUICKSR_ERROR_ARGUMENT): rows interleaved in each
 * other's padding count as overlapping. Models on 8-bit formats run on the buffers themselves
 * (INT8 ones compute on the bytes, fp32 ones convert rows as they read and write them); 16-bit
 * formats and models the engine cannot run go through float frames (12 bytes per input and output
 * pixel) that the model keeps for the next call. */
quicksr_status quicksr_upscale(const quicksr_model* model, quicksr_format format, const void* input,
                               int width, int height, size_t input_stride, void* output,
                               size_t output_stride);

#ifdef __cplusplus
}
#endif

#endif /* QUICKSR_QUICKSR_H */
