// The one description of what the core can build: each layer kind, activation, loss, initialiser
// and optimizer, with its hyper-parameters (type, default, limits), its tensors, its workspace
// and how inference folds it. The factories validate against it, the bindings expose it
// (_core.schema()) and the Python classes validate from it. It describes; it does not compute:
// sizes come from the Layer objects, which a test holds to the shapes written here.
#pragma once
#include <string>
#include <vector>

#include "nncore/activations.h"
#include "nncore/layer.h"
#include "nncore/losses.h"

namespace nncore::schema {

// What a hyper-parameter accepts; check() writes the test and its message once for every user.
enum class Limit {
  finite,        // any finite number
  ge0,           // finite, >= 0
  gt0,           // finite, > 0
  unit_open,     // [0, 1)
  unit_closed,   // [0, 1]
  flag,          // 0 or 1 (a boolean)
  positive_int,  // an integer >= 1
  choice,        // one of `choices` (a string)
  int_list,      // a list of integers >= 0 (LayerSpec::list; the layer checks what else it needs)
};
const char* limit_name(Limit l);

struct Param {
  std::string name;
  Limit limit;
  double def = 0;         // numeric default (flags: 0/1); unused for choices
  std::string def_str;    // default of a choice
  bool optional = false;  // may be absent (Python None): the core reads 0 / the activation's own
  std::vector<std::string> choices;
  std::string doc;
};

// A tensor of a layer: name and shape over in/out ("(out, in)"), and when it exists.
struct Tensor {
  std::string name, shape, when;
};

// How the folded inference plan (inference.cpp) treats a layer in evaluation mode.
enum class Fold {
  gemm,         // starts a packed GEMM step (its weight, bias and activation)
  scale_shift,  // a per-feature affine map folded into the preceding GEMM's weight and bias
  epilogue,     // an elementwise function moved into the preceding GEMM's epilogue
  identity,     // nothing to do in evaluation mode
  none,         // not expressible: a network with it predicts layer by layer
  block,        // a residual block: its layers fold as a sequence, then the skip is added
};
const char* fold_name(Fold f);

struct LayerKind {
  std::string type;   // the spec's "type"
  std::string title;  // the name in messages and Python ("Dense")
  std::vector<Param> params;
  std::vector<Tensor> tensors;                     // trainable, in arena order
  std::vector<Tensor> buffers;                     // saved with the model, not trained
  std::string workspace_per_row, workspace_fixed;  // floats kept from forward to backward
  Fold fold;
};

struct ActivationKind {
  Act act;
  std::string name;
  float default_alpha;    // leaky_relu's slope, elu's alpha; 0 when alpha is unused
  bool backward_needs_z;  // otherwise y = f(z) is enough
  bool elementwise;       // false for the row-wise softmax
};

struct LossKind {
  Loss loss;
  std::string name;
  std::vector<std::string> aliases;  // Keras spellings also accepted
  std::string targets;
  std::vector<Param> params;       // its numbers (LossOptions' fields of the same names)
  std::vector<std::string> lists;  // its list options: class_weight, quantiles
  Act output = Act::linear;        // what predict applies to the logits (softmax, sigmoid)
};

struct OptimizerKind {
  std::string name;
  std::vector<Param> params;        // its own, then the common ones (clipnorm, ...)
  std::vector<std::string> states;  // every state it may keep (some only with an option)
  std::vector<std::string> fixed;   // hyper-parameters set_hparam may not change
};

const std::vector<LayerKind>& layers();
const std::vector<ActivationKind>& activations();  // in Act order
const std::vector<LossKind>& losses();             // in Loss order
const std::vector<std::string>& initializers();    // in Init order
const std::vector<OptimizerKind>& optimizers();

// Lookups; unknown names throw std::invalid_argument listing the known ones.
const LayerKind& layer(const std::string& type);
const OptimizerKind& optimizer(const std::string& name);
const Param& param(const std::vector<Param>& params, const std::string& name,
                   const std::string& owner);
// "a, b, c": the names of a table, for messages.
std::string names(const std::vector<std::string>& v);

// Throws std::invalid_argument "<head>: <name> must be ..., got <v>" unless v fits p.
void check(const std::string& head, const Param& p, double v);
// Validates every numeric hyper-parameter a spec gives against its kind's table.
void check_layer_spec(const LayerSpec& spec);
// The spec's value of a numeric hyper-parameter, or the table's default.
double layer_num(const LayerSpec& spec, const std::string& name);

}  // namespace nncore::schema
