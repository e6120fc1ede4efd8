# Writes OUTPUT, a C++ source defining quicksr::builtin_model_bytes() over the bytes of INPUT
# (or an empty span when INPUT does not exist). Run with cmake -P at build time.
if(EXISTS "${INPUT}")
  file(READ "${INPUT}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  set(body "static const unsigned char kBytes[] = {${bytes}};\n  return {kBytes, sizeof kBytes};")
else()
  set(body "return {};")
endif()
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT}; do not edit.\n#include \"runtime/builtin_model.hpp\"\n\nnamespace quicksr {\n\nstd::span<const unsigned char> builtin_model_bytes() {\n  ${body}\n}\n\n}  // namespace quicksr\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
