// Validation of a .nnc file (python/nncore/io.py documents the layout) before anything is built:
// every declared size is compared with the arrays present and with ModelFileLimits, and the
// layers come from the same factory as Network's, so there is no second copy of the schema here.
#include "model_file.h"

#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "json_lite.h"
#include "nncore/model.h"
#include "nncore/network.h"
#include "nncore/schema.h"
#include "sha256.h"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define NNCORE_POSIX_FILES 1
#else
#include <filesystem>
#include <fstream>
#endif

namespace nncore {

// Bytes from the file (a layer type, a key) and the path are shown as printable ASCII, with
// \xNN for the rest: a message is then valid UTF-8 and one line, whatever the file holds.
std::string printable(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

const char kMagic[8] = {'N', 'N', 'C', 'O', 'R', 'E', '\0', '\1'};
// Version 2 adds int8 models (a "quantization" header and its two arrays); nncore writes 1 for
// every other model, so older readers still read them, and reads both.
constexpr std::uint32_t kMinVersion = 1, kVersion = 2;
constexpr double kMaxIndex = 2147483647.0;  // the core's int indexing
using L = ModelFileLimits;
using json::Value;

struct Bad {  // builds "<name>: <reason>" errors
  const std::string& name;
  [[noreturn]] void operator()(const std::string& why) const {
    throw ModelError(printable(name + ": " + why));
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

bool is_param(const schema::LayerKind& kind, const std::string& key) {
  for (const auto& p : kind.params)
    if (p.name == key) return true;
  return false;
}

// A layer's JSON object -> its spec. Which keys a layer takes is the schema's (schema.cpp), so a
// layer added there loads here unchanged; the values' limits are checked by the factory.
LayerSpec to_spec(const Value& v, const std::string& where, const Bad& bad) {
  if (v.kind != Value::Kind::object) bad(where + ": expected an object");
  const Value* type = v.find("type");
  if (!type || type->kind != Value::Kind::string) bad(where + ": no 'type' string");
  LayerSpec s;
  s.type = type->str;
  const schema::LayerKind* kind = nullptr;
  try {
    kind = &schema::layer(s.type);
  } catch (const std::exception& e) {
    bad(where + ": " + e.what());
  }
  for (const auto& kv : v.obj) {
    const Value& x = kv.second;
    if (kv.first == "type") continue;
    if (kv.first == "layers" && kind->type == "residual") {
      // a block's layers; the JSON depth limit bounds the nesting
      if (x.kind != Value::Kind::array || x.arr.empty())
        bad(where + ": a block needs a list of at least one layer");
      for (std::size_t j = 0; j < x.arr.size(); ++j)
        s.children.push_back(to_spec(x.arr[j], where + ".layers[" + std::to_string(j) + "]", bad));
      continue;
    }
    if (!is_param(*kind, kv.first))
      bad(where + " (" + s.type + "): unknown parameter '" + kv.first + "'");
    if (x.kind == Value::Kind::string) {
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
      bad(where + ": " + kv.first + " must be a number, a string or a list");
    }
  }
  if (kind->type == "residual" && s.children.empty()) bad(where + ": a block needs its 'layers'");
  return s;
}

struct ArrayRef {
  const std::uint8_t* data = nullptr;
  std::uint64_t count = 0;  // elements
  bool f32 = false;
};

// An int8 model's settings (format version 2): scheme, activation mode, whether the last layer
// stays fp32, and per int8 layer its input's scale (finite, > 0) and zero point ([0, 255]).
// The layers must be a chain of Dense (with BatchNorm, activations, Dropout); the quantized
// plan's own checks (the fold) run when Model builds it.
void check_quantization(const Value& header, std::uint64_t version, CheckedModel& m,
                        const ArrayRef& qscale, const ArrayRef& qzero, const Bad& bad) {
  const Value* q = header.find("quantization");
  if (!q || q->kind == Value::Kind::null) {
    if (qscale.data || qzero.data) bad("quantization arrays without quantization settings");
    return;
  }
  if (version < 2) bad("a quantized model needs format version 2");
  if (q->kind != Value::Kind::object) bad("the quantization settings must be an object");
  const Value* scheme = q->find("scheme");
  const Value* acts = q->find("activations");
  const Value* keep = q->find("keep_last_fp32");
  if (!scheme || scheme->kind != Value::Kind::string || scheme->str != "int8")
    bad("unknown quantization scheme");
  if (!acts || acts->kind != Value::Kind::string ||
      (acts->str != "static" && acts->str != "dynamic"))
    bad("quantization activations must be 'static' or 'dynamic'");
  if (!keep || keep->kind != Value::Kind::boolean) bad("keep_last_fp32 must be a boolean");
  std::uint64_t dense = 0;
  for (const LayerSpec& s : m.specs) {
    if (s.type == "dense")
      ++dense;
    else if (s.type != "batchnorm" && s.type != "activation" && s.type != "dropout")
      bad("a quantized model holds a '" + s.type + "' layer (int8 takes Dense chains only)");
  }
  m.quantized = true;
  m.quant_dynamic = acts->str == "dynamic";
  m.keep_last_fp32 = keep->b;
  const std::uint64_t int8_layers = dense - (m.keep_last_fp32 ? 1 : 0);
  if (dense == 0 || int8_layers == 0) bad("a quantized model without int8 layers");
  const std::uint64_t want = m.quant_dynamic ? 0 : int8_layers;
  const std::uint64_t have = qscale.data ? qscale.count : 0;
  if (have != want || (qzero.data ? qzero.count : 0) != want ||
      (want && (!qscale.f32 || qzero.f32)))
    bad("quantization arrays do not match the " + std::to_string(want) +
        " int8 layers' input scales (float32) and zero points (int64)");
  for (std::uint64_t i = 0; i < want; ++i) {
    float s;
    std::int64_t z;
    std::memcpy(&s, qscale.data + 4 * i, 4);  // little-endian hosts
    std::memcpy(&z, qzero.data + 8 * i, 8);
    if (!(s > 0.f) || !std::isfinite(s) || z < 0 || z > 255)
      bad("quantization: an input scale is not finite and > 0, or a zero point is outside "
          "[0, 255]");
    m.input_scales.push_back(s);
    m.input_zero_points.push_back(int(z));
  }
}

}  // namespace

CheckedModel check_model_file(const std::uint8_t* d, std::size_t size, const std::string& name) {
  const Bad bad{name};
  if (size < sizeof(kMagic) + 12 + 32)
    bad("too short to be an nncore model file (" + std::to_string(size) + " bytes)");
  if (std::memcmp(d, kMagic, sizeof(kMagic)) != 0)
    bad("not an nncore model file (bad magic bytes)");
  const std::uint64_t version = le(d + 8, 4), hlen = le(d + 12, 8);
  if (version < kMinVersion || version > kVersion)
    bad("format version " + std::to_string(version) + " is not supported (this nncore reads " +
        std::to_string(kMinVersion) + " to " + std::to_string(kVersion) + ")");
  // before hashing: a header over the limit is refused whatever the checksum says
  if (hlen > L::max_header_bytes)
    bad("header length " + std::to_string(hlen) + " exceeds the file size or the limit");
  const std::size_t body = size - 32;
  std::array<std::uint8_t, 32> stored;
  std::memcpy(stored.data(), d + body, 32);
  if (sha256(d, body) != stored) bad("checksum mismatch (the file is truncated or corrupted)");
  const std::size_t start = sizeof(kMagic) + 12;
  if (hlen > L::max_header_bytes || hlen > body - start)
    bad("header length " + std::to_string(hlen) + " exceeds the file size or the limit");
  Value header;
  try {
    header = json::parse(reinterpret_cast<const char*>(d + start), std::size_t(hlen),
                         L::max_json_depth, L::max_json_nodes);
  } catch (const std::runtime_error& e) {
    bad(std::string("unreadable header (") + e.what() + ")");
  }
  const Value* table = header.find("arrays");
  if (!table || table->kind != Value::Kind::array) bad("header lacks the array table");
  const std::uint8_t* section = d + start + hlen;
  const std::uint64_t section_size = body - start - hlen;
  ArrayRef params, buffers, qscale, qzero;
  double held = 0;  // float values the file holds (what a width may cost)
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
    if (nm->str == "quantization.input_scale") qscale = ref;
    if (nm->str == "quantization.input_zero_point") qzero = ref;
    held += count;
  }

  const Value* config = header.find("config");
  const Value* layers = config ? config->find("layers") : nullptr;
  if (!layers || layers->kind != Value::Kind::array || layers->arr.empty())
    bad("header lacks the model configuration");
  CheckedModel m;
  const std::uint64_t input_dim = non_negative_int(config->find("input_dim"), "input_dim", bad);
  if (input_dim < 1 || double(input_dim) > kMaxIndex) bad("input_dim must be in [1, 2**31-1]");
  // A layer may hold a list per input column (Embedding): a width the file's arrays do not pay
  // for would let a few bytes ask for gigabytes.
  if (input_dim > L::free_width && double(input_dim) > held)
    bad("input_dim " + std::to_string(input_dim) + " is wider than the " +
        std::to_string(std::uint64_t(held)) + " values the file holds");
  m.input_dim = int(input_dim);
  const Value* seed_v = config->find("seed");
  if (seed_v && seed_v->kind == Value::Kind::number && seed_v->num >= 0 && seed_v->num < 1.8e19)
    m.seed = std::uint64_t(seed_v->num);
  if (layers->arr.size() > L::max_layers) bad("more than 65536 layers");
  for (std::size_t i = 0; i < layers->arr.size(); ++i)
    m.specs.push_back(to_spec(layers->arr[i], "layer " + std::to_string(i), bad));
  std::uint64_t count = 0;
  for (const LayerSpec& s : m.specs) count += std::uint64_t(s.count());
  if (count > L::max_layers) bad("more than 65536 layers (blocks' layers included)");

  const Value* comp = config->find("compile");
  const Value* loss = comp ? comp->find("loss") : nullptr;
  if (comp && comp->kind != Value::Kind::object && comp->kind != Value::Kind::null)
    bad("the compile settings must be an object");
  if (loss) {
    if (loss->kind != Value::Kind::string) bad("the compile settings' loss must be a name");
    const schema::LossKind* kind = nullptr;
    for (const auto& k : schema::losses()) {
      bool match = k.name == loss->str;
      for (const auto& a : k.aliases) match = match || a == loss->str;
      if (match) kind = &k;
    }
    if (!kind) bad("unknown loss '" + loss->str + "' in the compile settings");
    m.loss = kind->name;
    m.transform = kind->output;
  }
  // Python's Sequential folds a final softmax/sigmoid into a matching loss and applies it as the
  // output transform (model.py, _core_specs): the same here, for the same bits.
  if (m.transform != Act::linear) {
    LayerSpec& last = m.specs.back();
    const char* want = m.transform == Act::softmax ? "softmax" : "sigmoid";
    if ((last.type == "dense" || last.type == "activation") &&
        last.get_str("activation", "linear") == want)
      last.str["activation"] = "linear";
  }

  // The layers from Network's own factory: checked hyper-parameters, sizes asked of the layers,
  // nothing allocated in proportion to them yet.
  double np = 0, nb = 0;
  try {
    const auto built = Network::make_layers(m.input_dim, m.specs);
    for (const auto& layer : built) {
      for (const auto& t : layer->params()) np += double(t.size());
      for (const auto& t : layer->buffers()) nb += double(t.size());
    }
  } catch (const std::bad_alloc&) {
    bad("invalid model description (more than this machine can hold)");
  } catch (const std::exception& e) {
    bad(std::string("invalid model description (") + e.what() + ")");
  }
  if (!params.f32 || double(params.count) != np)
    bad("array 'params' does not match the architecture (" + std::to_string(std::uint64_t(np)) +
        " values)");
  if (nb && (!buffers.f32 || double(buffers.count) != nb))
    bad("array 'buffers' does not match the architecture (" + std::to_string(std::uint64_t(nb)) +
        " values)");
  m.params = params.data;
  m.num_params = params.count;
  m.buffers = buffers.data;
  m.num_buffers = std::uint64_t(nb);
  for (std::uint64_t i = 0; i < m.num_buffers; ++i) {
    float v;
    std::memcpy(&v, m.buffers + 4 * i, 4);  // little-endian hosts
    if (!std::isfinite(v)) bad("array 'buffers' holds non-finite values");
  }
  check_quantization(header, version, m, qscale, qzero, bad);
  return m;
}

std::vector<std::uint8_t> read_model_file(const std::string& path, std::uint64_t max_bytes) {
  const Bad bad{path};
  const auto too_big = [&](std::uint64_t size) {
    bad(std::to_string(size) + " bytes is more than the limit of " + std::to_string(max_bytes) +
        " (raise it with max_bytes)");
  };
#if NNCORE_POSIX_FILES
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat on the open descriptor then says
  // what was opened (no race with a rename in between).
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) bad(std::string("cannot open the file (") + std::strerror(errno) + ")");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) bad("cannot read the file");
  if (S_ISDIR(st.st_mode)) bad("is a directory, not an nncore model file");
  if (!S_ISREG(st.st_mode)) bad("is not a regular file (a device, FIFO or socket)");
  const std::uint64_t size = std::uint64_t(st.st_size);
  if (size > max_bytes) too_big(size);
  std::vector<std::uint8_t> data(size);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t r = ::read(fd, data.data() + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) bad("cannot read the file (it shrank while being read)");
    got += std::size_t(r);
  }
  std::uint8_t extra;
  if (::read(fd, &extra, 1) > 0) bad("the file grew while being read");
  return data;
#else
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) bad("is a directory, not an nncore model file");
  if (!std::filesystem::is_regular_file(path, ec)) bad("is not a regular file");
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) bad("cannot read the file");
  if (size > max_bytes) too_big(size);
  std::ifstream f(path, std::ios::binary);
  if (!f) bad("cannot open the file");
  std::vector<std::uint8_t> data(static_cast<std::size_t>(size));
  if (size > 0 && !f.read(reinterpret_cast<char*>(data.data()), std::streamsize(size)))
    bad("cannot read the file");
  return data;
#endif
}

}  // namespace nncore
