// nncore::Model (nncore/model.h): reads the .nnc format exactly as python/nncore/io.py writes
// it, validating everything io.read() validates before anything is built:
//   bytes 0..7 magic "NNCORE\0\1" | 8..11 version (uint32 LE, 1) | 12..19 header length H
//   (uint64 LE) | H bytes of UTF-8 JSON | the data section (arrays at 64-byte aligned offsets)
//   | the last 32 bytes: SHA-256 of everything before them.
#include "nncore/model.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "json_lite.h"
#include "nncore/network.h"
#include "sha256.h"

namespace nncore {

namespace {

const char kMagic[8] = {'N', 'N', 'C', 'O', 'R', 'E', '\0', '\1'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint64_t kMaxHeader = 64ull << 20;  // io.py's _MAX_HEADER
constexpr double kMaxIndex = 2147483647.0;         // the core's int indexing

using json::Value;

struct Bad {  // builds "<name>: <reason>" errors
  const std::string& name;
  [[noreturn]] void operator()(const std::string& why) const {
    throw ModelError(name + ": " + why);
  }
};

std::uint64_t le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::uint64_t non_negative_int(const Value* v, const char* what, const Bad& bad) {
  if (!v || v->kind != Value::Kind::number || !v->integral || !(v->num >= 0) || v->num > 9.0e15)
    bad(std::string(what) + " must be a non-negative integer");
  return std::uint64_t(v->num);
}

struct ArrayRef {
  const std::uint8_t* data = nullptr;
  std::uint64_t count = 0;  // elements
  bool f32 = false;
};

LayerSpec to_spec(const Value& v, const std::string& where, const Bad& bad) {
  if (v.kind != Value::Kind::object) bad(where + ": expected an object");
  LayerSpec s;
  for (const auto& kv : v.obj) {
    const Value& x = kv.second;
    if (kv.first == "type") {
      if (x.kind != Value::Kind::string) bad(where + ": 'type' must be a string");
      s.type = x.str;
    } else if (kv.first == "layers" && x.kind == Value::Kind::array) {
      // a residual block's layers; json_lite's depth limit bounds the nesting
      if (x.arr.empty()) bad(where + ": a block needs at least one layer");
      for (std::size_t j = 0; j < x.arr.size(); ++j)
        s.children.push_back(to_spec(x.arr[j], where + ".layers[" + std::to_string(j) + "]", bad));
    } else if (x.kind == Value::Kind::string) {
      s.str[kv.first] = x.str;
    } else if (x.kind == Value::Kind::number) {
      if (!std::isfinite(x.num) || std::fabs(x.num) > 3.0e38)
        bad(where + ": " + kv.first + " must be a finite number");
      s.num[kv.first] = x.num;
    } else if (x.kind == Value::Kind::boolean) {
      s.num[kv.first] = x.b ? 1.0 : 0.0;
    } else if (x.kind == Value::Kind::array) {  // the embedding's columns and table sizes
      std::vector<double>& out = s.list[kv.first];
      for (const Value& e : x.arr) {
        if (e.kind != Value::Kind::number || !std::isfinite(e.num) || std::fabs(e.num) > 3.0e38)
          bad(where + ": " + kv.first + " must be a list of numbers");
        out.push_back(e.num);
      }
    } else if (x.kind != Value::Kind::null) {
      bad(where + ": " + kv.first + " must be a number or a string");
    }
  }
  if (s.type.empty()) bad(where + ": no 'type'");
  // The keys Python's layers write (layers.py, spec()); anything else is not an nncore file.
  static const std::map<std::string, std::vector<std::string>> known = {
      {"dense", {"units", "activation", "init", "use_bias", "l1", "l2", "max_norm", "alpha"}},
      {"activation", {"activation", "alpha"}},
      {"batchnorm", {"momentum", "eps", "affine", "batch1"}},
      {"layernorm", {"eps", "elementwise_affine", "bias"}},
      {"dropout", {"rate"}},
      {"residual", {"projection", "layers"}},
      {"embedding", {"numeric", "columns", "cardinality", "dim", "table", "reserve"}}};
  auto kinds = known.find(s.type);
  if (kinds == known.end()) bad(where + ": unknown layer type '" + s.type + "'");
  for (const auto& kv : v.obj) {
    if (kv.first == "type") continue;
    bool ok = false;
    for (const auto& k : kinds->second) ok = ok || k == kv.first;
    if (!ok) bad(where + " (" + s.type + "): unknown parameter '" + kv.first + "'");
  }
  if (s.type == "residual" && s.children.empty()) bad(where + ": a block needs its 'layers'");
  return s;
}

// Adds the parameter and buffer counts of `specs` on inputs of width dim to p and b; returns
// the output width. Checked against the core's limits before the network allocates anything
// (so a hostile header cannot ask for terabytes).
double add_sizes(double dim, const std::vector<LayerSpec>& specs, const std::string& where,
                 double& p, double& b, const Bad& bad) {
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const LayerSpec& s = specs[i];
    const std::string at = where + std::to_string(i) + " (" + s.type + ")";
    if (s.type == "dense") {
      const double units = s.get("units", 0);
      if (!(units >= 1 && units <= kMaxIndex && units == std::floor(units)))
        bad(at + ": units must be a positive integer");
      if (units * dim > kMaxIndex) bad(at + ": more than 2**31-1 weights");
      p += units * dim + (s.get("use_bias", 1) != 0 ? units : 0);
      dim = units;
    } else if (s.type == "batchnorm") {
      if (s.get("affine", 1) != 0) p += 2 * dim;
      b += 2 * dim;
    } else if (s.type == "layernorm") {  // weight with elementwise_affine, then bias with bias
      if (s.get("elementwise_affine", 1) != 0) p += (s.get("bias", 1) != 0 ? 2 : 1) * dim;
    } else if (s.type == "residual") {
      const double out = add_sizes(dim, s.children, where + std::to_string(i) + ".", p, b, bad);
      const std::string mode = s.get_str("projection", "auto");
      if (mode == "always" || (mode == "auto" && out != dim)) {
        if (out * dim > kMaxIndex) bad(at + ": more than 2**31-1 projection weights");
        p += out * dim;
      }
      dim = out;
    } else if (s.type == "embedding") {
      // The layer checks its lists (columns in range, positive sizes) and allocates nothing.
      if (i != 0 || where != "layer ") bad(at + ": must be the first layer of the model");
      std::unique_ptr<Layer> L;
      try {
        L = make_layer(s, int(dim));
      } catch (const std::invalid_argument& e) {
        bad(at + ": " + e.what());
      }
      for (const auto& t : L->params()) p += double(t.size());
      dim = L->out_dim();
    } else if (s.type != "activation" && s.type != "dropout") {
      bad(at + ": unknown layer type");
    }
  }
  return dim;
}

void expected_sizes(int input_dim, const std::vector<LayerSpec>& specs, std::uint64_t& params,
                    std::uint64_t& buffers, const Bad& bad) {
  double p = 0, b = 0;
  add_sizes(input_dim, specs, "layer ", p, b, bad);
  params = std::uint64_t(p);
  buffers = std::uint64_t(b);
}

}  // namespace

Model::Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

int Model::input_dim() const { return net_->input_dim(); }
int Model::output_dim() const { return net_->output_dim(); }

Model Model::load(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ModelError(path + ": is a directory, not an nncore model file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(path + ": cannot open the file");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) throw ModelError(path + ": cannot read the file (a directory?)");
  f.seekg(0, std::ios::beg);
  std::vector<std::uint8_t> data(static_cast<std::size_t>(size));
  if (size > 0 && !f.read(reinterpret_cast<char*>(data.data()), size))
    throw ModelError(path + ": cannot read the file");
  return from_bytes(data.data(), data.size(), path);
}

Model Model::from_bytes(const void* bytes, std::size_t size, const std::string& name) {
  const Bad bad{name};
  const auto* d = static_cast<const std::uint8_t*>(bytes);
  if (size < sizeof(kMagic) + 12 + 32)
    bad("too short to be an nncore model file (" + std::to_string(size) + " bytes)");
  if (std::memcmp(d, kMagic, sizeof(kMagic)) != 0)
    bad("not an nncore model file (bad magic bytes)");
  const std::uint64_t version = le(d + 8, 4), hlen = le(d + 12, 8);
  if (version != kVersion)
    bad("format version " + std::to_string(version) + " is not supported (this nncore reads " +
        std::to_string(kVersion) + ")");
  const std::size_t body = size - 32;
  if (sha256(d, body) != *reinterpret_cast<const std::array<std::uint8_t, 32>*>(d + body))
    bad("checksum mismatch (the file is truncated or corrupted)");
  const std::size_t start = sizeof(kMagic) + 12;
  if (hlen > kMaxHeader || hlen > body - start)
    bad("header length " + std::to_string(hlen) + " exceeds the file size or the limit");
  Value header;
  try {
    header = json::parse(reinterpret_cast<const char*>(d + start), std::size_t(hlen));
  } catch (const std::runtime_error& e) {
    bad(std::string("unreadable header (") + e.what() + ")");
  }
  const Value* table = header.find("arrays");
  if (!table || table->kind != Value::Kind::array) bad("header lacks the array table");
  const std::uint8_t* section = d + start + hlen;
  const std::uint64_t section_size = body - start - hlen;
  ArrayRef params, buffers;
  for (const Value& e : table->arr) {
    const Value* nm = e.find("name");
    const Value* dt = e.find("dtype");
    const Value* shape = e.find("shape");
    if (!nm || nm->kind != Value::Kind::string || !dt || dt->kind != Value::Kind::string ||
        (dt->str != "<f4" && dt->str != "<i8") || !shape || shape->kind != Value::Kind::array ||
        shape->arr.size() > 8)
      bad("malformed array entry");
    double count = 1;
    for (const Value& s : shape->arr)
      count *= double(non_negative_int(&s, "an array dimension", bad));
    const std::uint64_t off = non_negative_int(e.find("offset"), "an array offset", bad);
    const std::uint64_t nbytes = non_negative_int(e.find("nbytes"), "an array size", bad);
    const double item = dt->str == "<f4" ? 4 : 8;
    if (off > section_size || nbytes > section_size - off || count * item != double(nbytes))
      bad("array '" + nm->str + "' is out of bounds or inconsistent");
    ArrayRef ref{section + off, std::uint64_t(count), dt->str == "<f4"};
    if (nm->str == "params") params = ref;
    if (nm->str == "buffers") buffers = ref;
  }

  const Value* config = header.find("config");
  const Value* layers = config ? config->find("layers") : nullptr;
  if (!layers || layers->kind != Value::Kind::array || layers->arr.empty())
    bad("header lacks the model configuration");
  const Value* in = config->find("input_dim");
  const std::uint64_t input_dim = non_negative_int(in, "input_dim", bad);
  if (input_dim < 1 || double(input_dim) > kMaxIndex) bad("input_dim must be in [1, 2**31-1]");
  const Value* seed_v = config->find("seed");
  const double seed = seed_v && seed_v->kind == Value::Kind::number ? seed_v->num : 0.0;
  std::vector<LayerSpec> specs;
  for (std::size_t i = 0; i < layers->arr.size(); ++i)
    specs.push_back(to_spec(layers->arr[i], "layer " + std::to_string(i), bad));

  Model m;
  const Value* comp = config->find("compile");
  const Value* loss = comp ? comp->find("loss") : nullptr;
  if (loss) {
    static const char* const kLosses[] = {"mse", "mae", "huber", "cross_entropy",
                                          "binary_cross_entropy"};
    bool ok = false;
    for (const char* l : kLosses) ok = ok || (loss->kind == Value::Kind::string && loss->str == l);
    if (!ok) bad("unknown loss in the compile settings");
    m.loss_ = loss->str;
  }
  // Python's Sequential folds a final softmax/sigmoid into a matching loss and applies it as the
  // output transform (model.py, _core_specs): the same here, for the same bits.
  Act transform = Act::linear;
  if (m.loss_ == "cross_entropy") transform = Act::softmax;
  if (m.loss_ == "binary_cross_entropy") transform = Act::sigmoid;
  if (transform != Act::linear) {
    LayerSpec& last = specs.back();
    const char* want = transform == Act::softmax ? "softmax" : "sigmoid";
    if ((last.type == "dense" || last.type == "activation") &&
        last.get_str("activation", "linear") == want)
      last.str["activation"] = "linear";
  }

  std::uint64_t np = 0, nb = 0;
  expected_sizes(int(input_dim), specs, np, nb, bad);
  if (!params.f32 || params.count != np)
    bad("array 'params' does not match the architecture (" + std::to_string(np) + " values)");
  if (nb && (!buffers.f32 || buffers.count != nb))
    bad("array 'buffers' does not match the architecture (" + std::to_string(nb) + " values)");
  try {
    m.net_ = std::make_unique<Network>(int(input_dim), specs,
                                       seed >= 0 && seed < 1.8e19 ? std::uint64_t(seed) : 0);
  } catch (const std::invalid_argument& e) {
    bad(std::string("invalid model description (") + e.what() + ")");
  }
  Network& net = *m.net_;
  if (net.num_params() != np || net.num_buffers() != nb) bad("the architecture's sizes disagree");
  if (np) std::memcpy(net.params(), params.data, np * sizeof(float));  // little-endian hosts
  if (nb) {
    std::memcpy(net.buffers(), buffers.data, nb * sizeof(float));
    for (std::uint64_t i = 0; i < nb; ++i)
      if (!std::isfinite(net.buffers()[i])) bad("array 'buffers' holds non-finite values");
  }
  net.params_changed();
  net.set_output_transform(transform);
  return m;
}

void Model::predict(const float* x, std::int64_t n, float* out) const {
  if (n < 0) throw std::invalid_argument("predict: n must be >= 0");
  if (n == 0) return;
  if (!x || !out) throw std::invalid_argument("predict: null input or output pointer");
  net_->predict(x, n, out, /*fold_batchnorm=*/true);  // as Python's predict by default
}

std::vector<float> Model::predict(const std::vector<float>& x) const {
  const std::size_t d = std::size_t(input_dim());
  if (x.size() % d != 0)
    throw std::invalid_argument("predict: " + std::to_string(x.size()) +
                                " values are not whole rows of " + std::to_string(d));
  std::vector<float> out(x.size() / d * std::size_t(output_dim()));
  predict(x.data(), std::int64_t(x.size() / d), out.data());
  return out;
}

}  // namespace nncore
