// int8 models in C++: the quantized plan against the fp32 network it came from, bitwise over
// threads; and nncore::Model loading an int8 file (format version 2, written here byte by byte
// as Python's QuantizedModel.save writes it) to the plan's bits, refusing it as version 1.
#include <cstring>
#include <random>
#include <string>

#include "model/sha256.h"
#include "nncore/model.h"
#include "nncore/network.h"
#include "nncore/threading.h"
#include "quant/quantized_network.h"
#include "testing.h"

using namespace nncore;

namespace {

LayerSpec layer(const char* type, std::map<std::string, double> num = {},
                std::map<std::string, std::string> str = {}) {
  LayerSpec s;
  s.type = type;
  s.num = std::move(num);
  s.str = std::move(str);
  return s;
}

std::vector<LayerSpec> specs() {
  return {layer("dense", {{"units", 24}}, {{"activation", "linear"}}), layer("batchnorm"),
          layer("activation", {}, {{"activation", "relu"}}),
          layer("dense", {{"units", 3}}, {{"activation", "linear"}})};
}

const char* kConfig =
    R"({"layers": [{"type": "dense", "units": 24, "activation": "linear"}, {"type": "batchnorm"},)"
    R"( {"type": "activation", "activation": "relu"}, {"type": "dense", "units": 3,)"
    R"( "activation": "linear"}], "input_dim": 10, "seed": 0})";

void append(std::vector<std::uint8_t>& v, const void* p, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  v.insert(v.end(), b, b + n);
}

// The .nnc bytes of net with a static int8 quantization (format version `version`).
std::vector<std::uint8_t> int8_file(Network& net, const std::vector<quant::ActQuant>& act,
                                    std::uint32_t version) {
  std::vector<std::uint8_t> section;
  std::string arrays;
  auto add = [&](const std::string& name, const char* dtype, const void* p, std::size_t count,
                 std::size_t item) {
    section.resize((section.size() + 63) / 64 * 64, 0);
    arrays += std::string(arrays.empty() ? "" : ", ") + R"({"name": ")" + name +
              R"(", "dtype": ")" + dtype + R"(", "shape": [)" + std::to_string(count) +
              R"(], "offset": )" + std::to_string(section.size()) + R"(, "nbytes": )" +
              std::to_string(count * item) + "}";
    append(section, p, count * item);
  };
  std::vector<float> scales;
  std::vector<std::int64_t> zps;
  for (const auto& a : act) {
    scales.push_back(a.scale);
    zps.push_back(a.zero_point);
  }
  add("params", "<f4", net.params(), std::size_t(net.num_params()), 4);
  add("buffers", "<f4", net.buffers(), std::size_t(net.num_buffers()), 4);
  add("quantization.input_scale", "<f4", scales.data(), scales.size(), 4);
  add("quantization.input_zero_point", "<i8", zps.data(), zps.size(), 8);
  const std::string header = std::string(R"({"config": )") + kConfig +
                             R"(, "quantization": {"scheme": "int8", "activations": "static", )"
                             R"("keep_last_fp32": true}, "arrays": [)" +
                             arrays + "]}";
  std::vector<std::uint8_t> f;
  append(f, "NNCORE\0\1", 8);
  append(f, &version, 4);
  const std::uint64_t hlen = header.size();
  append(f, &hlen, 8);
  append(f, header.data(), header.size());
  append(f, section.data(), section.size());
  const auto digest = sha256(f.data(), f.size());
  append(f, digest.data(), digest.size());
  return f;
}

}  // namespace

TEST(int8_plan_close_to_fp32_and_bitwise_over_threads) {
  Network net(10, specs(), 3);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  std::vector<float> x(200 * 10);
  for (auto& v : x) v = nd(rng);
  const auto act = quant::QuantizedNetwork::calibrate(net, {}, x.data(), 200);
  CHECK(act.size() == 1);
  quant::QuantizedNetwork q(net, {}, act);
  std::vector<float> fp32(200 * 3), ref(200 * 3), got(200 * 3);
  net.predict(x.data(), 200, fp32.data(), true);
  set_num_threads(1);
  q.predict(x.data(), 200, ref.data());
  double worst = 0;
  for (std::size_t i = 0; i < ref.size(); ++i)
    worst = std::max(worst, double(std::fabs(ref[i] - fp32[i])));
  CHECK(worst < 0.1);
  for (int nt : {2, 3}) {
    set_num_threads(nt);
    q.predict(x.data(), 200, got.data());
    CHECK(std::memcmp(got.data(), ref.data(), ref.size() * 4) == 0);
  }
  set_num_threads(0);
}

TEST(model_loads_an_int8_file_to_the_plans_bits) {
  Network net(10, specs(), 4);
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  std::vector<float> x(50 * 10);
  for (auto& v : x) v = nd(rng);
  const auto act = quant::QuantizedNetwork::calibrate(net, {}, x.data(), 50);
  quant::QuantizedNetwork q(net, {}, act);
  std::vector<float> want(50 * 3);
  q.predict(x.data(), 50, want.data());
  const auto bytes = int8_file(net, act, 2);
  Model m = Model::from_bytes(bytes.data(), bytes.size(), "int8.nnc");
  CHECK(m.quantized());
  const std::vector<float> got = m.predict(x);
  CHECK(got.size() == want.size() && std::memcmp(got.data(), want.data(), want.size() * 4) == 0);
  const auto v1 = int8_file(net, act, 1);  // a quantized model needs version 2
  CHECK_THROWS(Model::from_bytes(v1.data(), v1.size(), "v1.nnc"));
  auto bad = act;
  bad[0].zero_point = 256;
  const auto b = int8_file(net, bad, 2);
  CHECK_THROWS(Model::from_bytes(b.data(), b.size(), "bad.nnc"));
}
