# quicksr_warnings(target): warnings are errors for project code (not for third-party headers).
function(quicksr_warnings target)
  # GCC 12 false positives: -Wrestrict inside std::string concatenation (GCC bug 105329) and
  # -Wmissing-field-initializers on C++20 designated initializers of members with defaults.
  # (clang, used by the fuzz build, has neither false positive nor -Wrestrict.)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
                         -Wno-error=deprecated-declarations $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
                         -Wno-missing-field-initializers)
endfunction()

# quicksr_library(name SOURCES...): a static module library with the public include dir.
function(quicksr_library name)
  add_library(${name} STATIC ${ARGN})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include PRIVATE ${PROJECT_SOURCE_DIR}/src)
  quicksr_warnings(${name})
  quicksr_fuzz_coverage(${name})
endfunction()

# quicksr_fuzz_coverage(target): libFuzzer's coverage instrumentation in fuzz builds, for the code
# whose paths the fuzz inputs choose: the decoders, the model loader and graph checker, the ONNX
# importer. The engine, runtime and quantization code the model fuzzer then runs stays under ASan +
# UBSan without it: its loops follow the shapes the checker accepted, and the coverage callbacks
# in them made an engine sanitizer test (built in the same build-asan/) 4x slower.
function(quicksr_fuzz_coverage target)
  if(QUICKSR_FUZZ AND target MATCHES "^quicksr_(common|image|model|onnx)$")
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# quicksr_fuzz_coverage_sources(files...): the same for single parsers inside other libraries
# (the AIMET encodings reader in quicksr_quant).
function(quicksr_fuzz_coverage_sources)
  if(QUICKSR_FUZZ)
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# quicksr_test(name SOURCES... LIBS libs... [LABELS labels...] [ONE_PROCESS] [CLI]
#              [SANITIZER_COST seconds]): a GoogleTest executable registered with CTest, one CTest
# test (and process) per case; with ONE_PROCESS the executable is one CTest test, for many short
# cases behind a slow start: LibTorch loads in 0.7 s, so train_unit_test's 103 cases took 91 s as
# 103 processes and 7 s of CPU as one.
# Under the sanitizers every executable is one CTest test: a sanitized process takes 0.1-0.4 s to
# start and check for leaks, 94 of the 582 s of sanitizer test time in CI (onnx_test's 193 cases:
# 39 s). GoogleTest's summary still names each failed case. SANITIZER_COST is the executable's
# seconds under the sanitizers (CI, quiet machine): CTest starts the costliest first, so a long one
# does not end the run alone (a clean clone has no CTest timing data).
# CLI: the test runs the quicksr command (built first; its path in QUICKSR_BINARY).
# A test that links a module this configuration lacks (QUICKSR_RUNTIME_ONLY) is left out, with a
# configure message; so are "heavy" tests under the sanitizers, whose run leaves them out.
function(quicksr_test name)
  cmake_parse_arguments(T "ONE_PROCESS;CLI" "SANITIZER_COST" "SOURCES;LIBS;LABELS" ${ARGN})
  foreach(lib ${T_LIBS})
    if(lib MATCHES "^quicksr_" AND NOT TARGET ${lib})
      message(STATUS "${name} not built: this configuration has no ${lib}")
      return()
    endif()
  endforeach()
  if(QUICKSR_SANITIZE AND "heavy" IN_LIST T_LABELS)
    return()
  endif()
  add_executable(${name} ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE QUICKSR_SHARED_DIR="${QUICKSR_SHARED_DIR}"
                                             QUICKSR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(CMAKE_CROSSCOMPILING_EMULATOR)
    # Tests that bound CPU time use their small sizes under emulation (scripts/cross_aarch64.sh).
    target_compile_definitions(${name} PRIVATE QUICKSR_TEST_EMULATED)
  endif()
  quicksr_warnings(${name})
  if(T_CLI)
    add_dependencies(${name} quicksr)
    target_compile_definitions(${name} PRIVATE QUICKSR_BINARY="$<TARGET_FILE:quicksr>")
  endif()
  # One translation unit per test executable: its sources share the parse and the instantiation of
  # GoogleTest, the standard library and JSON (five executables: 105.6 -> 54.5 s of CPU). So the
  # helpers of an executable's sources need distinct names, or one shared header.
  set_target_properties(${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 0)
  if(QUICKSR_SANITIZE)
    # Test code is template-heavy (GoogleTest, JSON) and not hot: -O0 compiles it 3x faster.
    target_compile_options(${name} PRIVATE -O0)
  elseif(CMAKE_BUILD_TYPE STREQUAL "Release")
    # The code under test is in the libraries, at -O3; the tests' own code (not hot) at -O1:
    # 517 -> 423 s of CPU for the 65 test sources of a clean build, the same floats (no
    # -ffast-math, no FMA at the baseline ISA).
    target_compile_options(${name} PRIVATE -O1)
  endif()
  if(T_ONE_PROCESS OR QUICKSR_SANITIZE)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
    if(QUICKSR_SANITIZE AND T_SANITIZER_COST)
      set_tests_properties(${name} PROPERTIES COST ${T_SANITIZER_COST})
    endif()
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
