// nncore_predict MODEL.nnc INPUTS.f32: loads a model saved from Python (model.save) and prints
// its predictions for the inputs (raw little-endian float32, rows of the model's input width),
// one row per line, each value with 9 significant digits (enough to round-trip a float).
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include <nncore/model.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL.nnc INPUTS.f32\n", argv[0]);
    return 2;
  }
  try {
    const nncore::Model model = nncore::Model::load(argv[1]);
    std::ifstream f(argv[2], std::ios::binary);
    if (!f) {
      std::fprintf(stderr, "%s: cannot open\n", argv[2]);
      return 2;
    }
    std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<float> x(raw.size() / sizeof(float));
    std::copy(raw.begin(), raw.begin() + x.size() * sizeof(float),
              reinterpret_cast<char*>(x.data()));
    const std::vector<float> out = model.predict(x);  // throws if not whole rows
    const int k = model.output_dim();
    for (std::size_t i = 0; i < out.size(); ++i)
      std::printf("%.9g%c", out[i], (i + 1) % std::size_t(k) == 0 ? '\n' : ' ');
  } catch (const nncore::ModelError& e) {
    std::fprintf(stderr, "model error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
