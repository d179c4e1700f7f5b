// The test registry and CHECK macros used by cpp/tests/*.cpp.
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <vector>

namespace nncore_test {
struct Test {
  const char* name;
  std::function<void()> fn;
};
inline std::vector<Test>& registry() {
  static std::vector<Test> r;
  return r;
}
inline int& current_failures() {
  static int f = 0;
  return f;
}
struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, fn}); }
};
}  // namespace nncore_test

#define NNC_CAT2(a, b) a##b
#define NNC_CAT(a, b) NNC_CAT2(a, b)
#define TEST(name)                                               \
  static void name();                                            \
  static nncore_test::Register NNC_CAT(reg_, name)(#name, name); \
  static void name()

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++nncore_test::current_failures();                                     \
    }                                                                        \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                   \
  do {                                                                                          \
    double _a = (a), _b = (b);                                                                  \
    if (!(std::fabs(_a - _b) <= (tol))) {                                                       \
      std::printf("  %s:%d: %s = %g vs %s = %g (tol %g)\n", __FILE__, __LINE__, #a, _a, #b, _b, \
                  double(tol));                                                                 \
      ++nncore_test::current_failures();                                                        \
    }                                                                                           \
  } while (0)

#define CHECK_THROWS(expr)                                                   \
  do {                                                                       \
    bool _threw = false;                                                     \
    try {                                                                    \
      expr;                                                                  \
    } catch (const std::exception&) {                                        \
      _threw = true;                                                         \
    }                                                                        \
    if (!_threw) {                                                           \
      std::printf("  %s:%d: %s did not throw\n", __FILE__, __LINE__, #expr); \
      ++nncore_test::current_failures();                                     \
    }                                                                        \
  } while (0)
