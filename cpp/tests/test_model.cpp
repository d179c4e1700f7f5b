// The C++ inference API's building blocks: SHA-256 known answers (FIPS 180-4 examples), the
// strict JSON reader, and Model's refusal of non-model bytes.
#include <cstring>
#include <string>

#include "model/json_lite.h"
#include "model/sha256.h"
#include "nncore/model.h"
#include "testing.h"

using namespace nncore;

static std::string hex(const std::array<std::uint8_t, 32>& d) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto b : d) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

static std::string sha(const std::string& m) {
  return hex(sha256(reinterpret_cast<const std::uint8_t*>(m.data()), m.size()));
}

TEST(sha256_known_answers) {
  CHECK(sha("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 55, 56 and 64 bytes: the padding boundaries
  CHECK(sha(std::string(55, 'x')).size() == 64 &&
        sha(std::string(56, 'x')) != sha(std::string(55, 'x')));
}

TEST(json_reader_strict_and_bounded) {
  auto ok = [](const std::string& s, int depth = 512, std::uint64_t nodes = 1000) {
    try {
      json::parse(s.data(), s.size(), depth, nodes);
      return true;
    } catch (const std::runtime_error&) {
      return false;
    }
  };
  const std::string doc = R"({"a": [1, 2.5, -3e2, true, false, null, "x\n\u00e9"], "b": {}})";
  json::Value v = json::parse(doc.data(), doc.size(), 2, 10);
  CHECK(v.find("a") && v.find("a")->arr.size() == 7);
  CHECK(v.find("a")->arr[0].integral && !v.find("a")->arr[1].integral);
  CHECK(v.find("a")->arr[6].str == "x\n\xc3\xa9");
  CHECK(!ok("{"));
  CHECK(!ok("[1,]"));
  CHECK(!ok("01x"));
  CHECK(!ok("\"\x01\""));
  CHECK(!ok(std::string(100000, '[')));  // depth-limited, no stack overflow
  CHECK(!ok("{} x"));
  // the limits are exact: depth = containers in containers, nodes = values (keys not counted)
  CHECK(ok("[[[]]]", 3) && !ok("[[[[]]]]", 3) && ok("[[[1]]]", 3));
  CHECK(ok("[1, 2, {\"a\": []}]", 8, 5) && !ok("[1, 2, {\"a\": []}]", 8, 4));
  CHECK(!ok(doc, 2, 9) && !ok(doc, 1, 10));
}

TEST(model_refuses_non_model_bytes) {
  const char junk[] = "GIF89a but certainly not a model file, long enough to pass the size check";
  bool threw = false;
  try {
    Model::from_bytes(junk, sizeof(junk), "junk");
  } catch (const ModelError& e) {
    threw = std::string(e.what()).find("junk: not an nncore model file") == 0;
  }
  CHECK(threw);
}
