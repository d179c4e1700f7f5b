// The layer registry: spec type name -> factory. Every numeric hyper-parameter is checked here
// against the schema's limits, so the layer constructors only read their values.
#include <stdexcept>

#include "nncore/layer.h"
#include "nncore/schema.h"

namespace nncore {

std::unique_ptr<Layer> make_layer(const LayerSpec& spec, int in_dim) {
  const schema::LayerKind& kind = schema::layer(spec.type);  // throws naming the known types
  if (in_dim <= 0) fail("layer '" + spec.type + "': input width must be positive");
  schema::check_layer_spec(spec);
  if (!spec.children.empty() && spec.type != "residual")
    fail("layer '" + kind.type + "' takes no nested layers (only a residual block does)");
  if (spec.type == "dense") return make_dense_layer(spec, in_dim);
  if (spec.type == "activation") return make_activation_layer(spec, in_dim);
  if (spec.type == "batchnorm") return make_batchnorm_layer(spec, in_dim);
  if (spec.type == "layernorm") return make_layernorm_layer(spec, in_dim);
  if (spec.type == "dropout") return make_dropout_layer(spec, in_dim);
  if (spec.type == "embedding") return make_embedding_layer(spec, in_dim);
  if (spec.type == "residual") return make_residual_layer(spec, in_dim);
  fail("layer type '" + kind.type + "' is in the schema but has no factory");
}

}  // namespace nncore
