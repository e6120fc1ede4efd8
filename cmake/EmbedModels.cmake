# Writes OUTPUT, a C++ source defining quicksr::builtin_model_files() over the bytes of the
# comma-separated INPUTS. Run with cmake -P at build time.
string(REPLACE "," ";" inputs "${INPUTS}")
set(arrays "")
set(entries "")
set(index 0)
foreach(input IN LISTS inputs)
  file(READ "${input}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  get_filename_component(name "${input}" NAME)
  string(APPEND arrays "const unsigned char kModel${index}[] = {${bytes}};\n")
  string(APPEND entries "      {\"${name}\", {kModel${index}, sizeof kModel${index}}},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE "${OUTPUT}.tmp" "// Generated from models/; do not edit.
#include \"runtime/builtin_models.hpp\"

namespace quicksr {
namespace {

${arrays}
}  // namespace

std::span<const EmbeddedFile> builtin_model_files() {
  static const EmbeddedFile kFiles[] = {
${entries}  };
  return kFiles;
}

}  // namespace quicksr
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
