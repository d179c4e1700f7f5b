// A small strict JSON reader for the .nnc header (objects, arrays, strings, numbers, true,
// false, null), with a depth limit; throws std::runtime_error with the byte offset. Private.
#pragma once
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

Value parse(const char* text, std::size_t n);

}  // namespace json
}  // namespace nncore
