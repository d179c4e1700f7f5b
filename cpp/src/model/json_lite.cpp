// Strict JSON (RFC 8259) for the .nnc header: what Python's json.dumps writes, nothing more
// lenient. Bounded recursion, so a hostile header cannot exhaust the stack.
#include "json_lite.h"

#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace nncore {
namespace json {

namespace {

struct Parser {
  const char* s;
  std::size_t n;
  int max_depth;
  std::uint64_t max_nodes;
  std::size_t i = 0;
  std::uint64_t nodes = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at byte " + std::to_string(i));
  }
  void ws() {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool lit(const char* w) {
    std::size_t k = 0;
    while (w[k]) ++k;
    if (n - i < k) return false;
    for (std::size_t j = 0; j < k; ++j)
      if (s[i + j] != w[j]) return false;
    i += k;
    return true;
  }
  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }
  unsigned hex4() {
    if (n - i < 4) fail("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= unsigned(c - 'A' + 10);
      else
        fail("bad \\u escape");
    }
    return v;
  }
  std::string string() {
    ++i;  // opening quote
    std::string out;
    while (true) {
      if (i >= n) fail("unterminated string");
      const char c = s[i++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= n) fail("unterminated escape");
      const char e = s[i++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && n - i >= 6 && s[i] == '\\' && s[i + 1] == 'u') {
            i += 2;
            const unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }
  Value number() {
    const std::size_t start = i;
    bool integral = true;
    if (i < n && s[i] == '-') ++i;
    if (i >= n || !(s[i] >= '0' && s[i] <= '9')) fail("bad number");
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    if (i < n && s[i] == '.') {
      integral = false;
      ++i;
      if (i >= n || !(s[i] >= '0' && s[i] <= '9')) fail("bad number");
      while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
      integral = false;
      ++i;
      if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
      if (i >= n || !(s[i] >= '0' && s[i] <= '9')) fail("bad number");
      while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    }
    Value v;
    v.kind = Value::Kind::number;
    v.integral = integral;
    v.num = std::strtod(std::string(s + start, i - start).c_str(), nullptr);
    return v;
  }
  Value value(int depth) {
    ws();
    if (i >= n) fail("unexpected end");
    // depth counts the containers around this value; a container here makes it depth + 1 deep
    if (depth >= max_depth && (s[i] == '[' || s[i] == '{'))
      fail("nesting deeper than " + std::to_string(max_depth));
    if (++nodes > max_nodes) fail("more than " + std::to_string(max_nodes) + " values");
    Value v;
    const char c = s[i];
    if (c == '{') {
      ++i;
      v.kind = Value::Kind::object;
      ws();
      if (i < n && s[i] == '}') {
        ++i;
        return v;
      }
      while (true) {
        ws();
        if (i >= n || s[i] != '"') fail("expected a key");
        std::string key = string();
        ws();
        if (i >= n || s[i] != ':') fail("expected ':'");
        ++i;
        v.obj[key] = value(depth + 1);
        ws();
        if (i < n && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < n && s[i] == '}') {
          ++i;
          return v;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++i;
      v.kind = Value::Kind::array;
      ws();
      if (i < n && s[i] == ']') {
        ++i;
        return v;
      }
      while (true) {
        v.arr.push_back(value(depth + 1));
        ws();
        if (i < n && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < n && s[i] == ']') {
          ++i;
          return v;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind = Value::Kind::string;
      v.str = string();
      return v;
    }
    if (lit("true") || lit("false")) {
      v.kind = Value::Kind::boolean;
      v.b = s[i - 1] == 'e' && s[i - 2] == 'u';
      return v;
    }
    if (lit("null")) return v;
    v.kind = Value::Kind::number;  // Python's json writes these three
    if (lit("NaN")) {
      v.num = std::numeric_limits<double>::quiet_NaN();
      return v;
    }
    if (lit("Infinity")) {
      v.num = std::numeric_limits<double>::infinity();
      return v;
    }
    if (lit("-Infinity")) {
      v.num = -std::numeric_limits<double>::infinity();
      return v;
    }
    return number();
  }
};
}  // namespace

const Value* Value::find(const std::string& key) const {
  if (kind != Kind::object) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &it->second;
}

Value parse(const char* text, std::size_t n, int max_depth, std::uint64_t max_nodes) {
  Parser p{text, n, max_depth, max_nodes};
  Value v = p.value(0);
  p.ws();
  if (p.i != n) p.fail("trailing characters");
  return v;
}

}  // namespace json
}  // namespace nncore
