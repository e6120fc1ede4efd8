// upscale_png IN OUT.png: the C++ API (quicksr::Upscaler) of the installed library.
#include <iostream>
#include <quicksr/error.hpp>
#include <quicksr/upscaler.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: upscale_png IN OUT.png\n";
    return 2;
  }
  try {
    const quicksr::Upscaler upscaler = quicksr::Upscaler::builtin();
    const quicksr::Image image = quicksr::read_image(argv[1]);
    const quicksr::Image result = upscaler.upscale(image);
    quicksr::write_image(result, argv[2]);
    std::cout << argv[1] << " (" << image.width << "x" << image.height << ") -> " << argv[2] << " ("
              << result.width << "x" << result.height << ") with " << upscaler.name() << "\n";
  } catch (const quicksr::Error& e) {  // thrown inside libquicksr.so, caught here
    std::cerr << "quicksr: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
