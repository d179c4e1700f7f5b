// The layer registry: spec type name -> factory.
#include <stdexcept>

#include "nncore/layer.h"

namespace nncore {

std::unique_ptr<Layer> make_layer(const LayerSpec& spec, int in_dim) {
  if (in_dim <= 0) fail("layer '" + spec.type + "': input width must be positive");
  if (spec.type == "dense") return make_dense_layer(spec, in_dim);
  if (spec.type == "activation") return make_activation_layer(spec, in_dim);
  if (spec.type == "batchnorm") return make_batchnorm_layer(spec, in_dim);
  if (spec.type == "dropout") return make_dropout_layer(spec, in_dim);
  fail("unknown layer type '" + spec.type + "': expected dense, activation, batchnorm, dropout");
}

}  // namespace nncore
