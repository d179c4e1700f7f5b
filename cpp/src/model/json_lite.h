// A small strict JSON reader for the .nnc header (objects, arrays, strings, numbers, true,
// false, null), bounded in nesting depth and in the values it allocates (so a header of "[],"
// repeated costs what its limit allows, not gigabytes); throws std::runtime_error with the byte
// offset. Private.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nncore {
namespace json {

struct Value {
  enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
  bool b = false;
  double num = 0;
  bool integral = false;  // written without fraction or exponent
  std::string str;
  std::vector<Value> arr;
  std::map<std::string, Value> obj;

  const Value* find(const std::string& key) const;  // null unless an object with key
};

// max_depth: containers inside containers; max_nodes: values of any kind (keys not counted).
Value parse(const char* text, std::size_t n, int max_depth, std::uint64_t max_nodes);

}  // namespace json
}  // namespace nncore
