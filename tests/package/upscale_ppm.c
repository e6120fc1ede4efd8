/* upscale_ppm IN.ppm OUT.ppm [SCALE]: the C API on a binary PPM (P6, 8-bit) with the built-in
 * model of SCALE (2 by default). The C recipe of docs/usage.md. */
#include <quicksr/quicksr.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned char* read_ppm(const char* path, int* width, int* height) {
  FILE* file = fopen(path, "rb");
  int max_value = 0;
  unsigned char* pixels = NULL;
  if (!file) return NULL;
  if (fscanf(file, "P6 %d %d %d", width, height, &max_value) == 3 && max_value == 255 &&
      *width > 0 && *height > 0 && fgetc(file) != EOF) {
    size_t size = (size_t)*width * *height * 3;
    pixels = malloc(size);
    if (pixels && fread(pixels, 1, size, file) != size) {
      free(pixels);
      pixels = NULL;
    }
  }
  fclose(file);
  return pixels;
}

int main(int argc, char** argv) {
  quicksr_model* model = NULL;
  int width, height, out_width, out_height;
  unsigned char *input, *output;
  FILE* out;
  if (argc < 3) {
    fprintf(stderr, "usage: upscale_ppm IN.ppm OUT.ppm [SCALE]\n");
    return 2;
  }
  input = read_ppm(argv[1], &width, &height);
  if (!input) {
    fprintf(stderr, "%s: not an 8-bit binary PPM\n", argv[1]);
    return 1;
  }
  if (quicksr_model_load_builtin(argc > 3 ? atof(argv[3]) : 2.0, 0, &model) != QUICKSR_OK ||
      quicksr_output_size(model, width, height, &out_width, &out_height) != QUICKSR_OK) {
    fprintf(stderr, "quicksr: %s\n", quicksr_last_error());
    return 1;
  }
  output = malloc((size_t)out_width * out_height * 3);
  if (!output || quicksr_upscale(model, QUICKSR_RGB8, input, width, height, (size_t)width * 3,
                                 output, (size_t)out_width * 3) != QUICKSR_OK) {
    fprintf(stderr, "quicksr: %s\n", output ? quicksr_last_error() : "out of memory");
    return 1;
  }
  out = fopen(argv[2], "wb");
  if (!out || fprintf(out, "P6\n%d %d\n255\n", out_width, out_height) < 0 ||
      fwrite(output, 3, (size_t)out_width * out_height, out) != (size_t)out_width * out_height ||
      fclose(out) != 0) {
    fprintf(stderr, "%s: cannot write\n", argv[2]);
    return 1;
  }
  printf("%s (%dx%d) -> %s (%dx%d) with %s, quicksr %s\n", argv[1], width, height, argv[2],
         out_width, out_height, quicksr_model_name(model), quicksr_version());
  quicksr_model_free(model);
  free(input);
  free(output);
  return 0;
}
