// quicksr_test_pch's one source (cmake/QuicksrTarget.cmake): the target exists to compile the
// precompiled header the test executables share; CMake needs a source to attach it to.
