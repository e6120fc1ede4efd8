# Cross build for 64-bit Arm Linux with Debian's cross compiler and arm64 (multiarch) libraries,
# tests run under qemu-user: scripts/cross_aarch64.sh installs the packages and runs it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# CTest and gtest_discover_tests start the test executables through the emulator. No `-L
# /usr/aarch64-linux-gnu`: that loader (libc6-arm64-cross) with the multiarch libc (libc6:arm64,
# which the libraries need) is a mismatched pair, and the tests hung in glibc.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
# Libraries and headers of the target; programs (protoc, pkg-config) of the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
