// A minimal test runner for the core (no external framework): each test registers itself,
// main runs them all and reports "N passed, N failed".
#include "testing.h"

#include <cstdio>

int main() {
  int passed = 0, failed = 0;
  for (auto& t : nncore_test::registry()) {
    nncore_test::current_failures() = 0;
    try {
      t.fn();
    } catch (const std::exception& e) {
      std::printf("  exception: %s\n", e.what());
      ++nncore_test::current_failures();
    }
    if (nncore_test::current_failures() == 0) {
      ++passed;
    } else {
      ++failed;
      std::printf("FAILED %s\n", t.name);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
