// PLACEHOLDER until the dropout layer lands.
#include "nncore/layer.h"

namespace nncore {
std::unique_ptr<Layer> make_dropout_layer(const LayerSpec&, int) {
  fail("dropout is not implemented yet");
}
}  // namespace nncore
