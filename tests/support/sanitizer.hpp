#pragma once
// QUICKSR_TEST_ASAN: defined when AddressSanitizer instruments this build. gcc defines
// __SANITIZE_ADDRESS__; clang before 16 only answers __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define QUICKSR_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QUICKSR_TEST_ASAN 1
#endif
#endif
