// A minimal test runner for the core (no external framework): each test registers itself,
// main runs them all and reports "N passed, N failed".
// Arguments: substrings of test names to run (none: all). NNCORE_TEST_TIMES=1 prints each
// test's wall time, to keep the binary's run time in check; NNCORE_TEST_FAILFAST=1 stops at the
// first failing test (tools/mutants.sh).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "testing.h"

int main(int argc, char** argv) {
  const bool times = std::getenv("NNCORE_TEST_TIMES") != nullptr;
  const bool failfast = std::getenv("NNCORE_TEST_FAILFAST") != nullptr;
  int passed = 0, failed = 0;
  for (auto& t : nncore_test::registry()) {
    bool wanted = argc < 2;
    for (int a = 1; a < argc; ++a) wanted = wanted || std::strstr(t.name, argv[a]) != nullptr;
    if (!wanted) continue;
    nncore_test::current_failures() = 0;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      t.fn();
    } catch (const std::exception& e) {
      std::printf("  exception: %s\n", e.what());
      ++nncore_test::current_failures();
    }
    if (times)
      std::printf("%8.3f s  %s\n",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                  t.name);
    if (nncore_test::current_failures() == 0) {
      ++passed;
    } else {
      ++failed;
      std::printf("FAILED %s\n", t.name);
      if (failfast) break;
    }
    std::fflush(stdout);
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
