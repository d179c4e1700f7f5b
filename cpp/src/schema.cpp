// The tables of nncore/schema.h and the one check of a hyper-parameter against its limit.
// Adding a layer kind, activation, loss or optimizer starts here (CONTRIBUTING.md).
#include "nncore/schema.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "nncore/common.h"

namespace nncore::schema {

namespace {

Param num(const char* name, Limit limit, double def, const char* doc) {
  Param p;
  p.name = name;
  p.limit = limit;
  p.def = def;
  p.doc = doc;
  return p;
}
Param optional(Param p) {
  p.optional = true;
  return p;
}
Param choice(const char* name, const std::vector<std::string>& choices, const char* def,
             const char* doc) {
  Param p;
  p.name = name;
  p.limit = Limit::choice;
  p.def_str = def;
  p.choices = choices;
  p.doc = doc;
  return p;
}

std::vector<std::string> activation_names() {
  std::vector<std::string> v;
  for (const auto& a : activations()) v.push_back(a.name);
  return v;
}

Param activation_param() {
  return choice("activation", activation_names(), "linear", "the activation's name");
}
Param alpha_param() {
  return optional(num("alpha", Limit::finite, 0,
                      "leaky_relu's slope / elu's alpha (absent: the activation's default)"));
}

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

const char* limit_name(Limit l) {
  switch (l) {
    case Limit::finite: return "finite";
    case Limit::ge0: return "ge0";
    case Limit::gt0: return "gt0";
    case Limit::unit_open: return "unit_open";
    case Limit::unit_closed: return "unit_closed";
    case Limit::flag: return "flag";
    case Limit::positive_int: return "positive_int";
    case Limit::choice: return "choice";
    case Limit::int_list: return "int_list";
  }
  return "?";
}

const char* fold_name(Fold f) {
  switch (f) {
    case Fold::gemm: return "gemm";
    case Fold::scale_shift: return "scale_shift";
    case Fold::epilogue: return "epilogue";
    case Fold::identity: return "identity";
    case Fold::none: return "none";
    case Fold::block: return "block";
  }
  return "?";
}

const std::vector<ActivationKind>& activations() {
  static const std::vector<ActivationKind> t = {
      {Act::linear, "linear", 0.f, false, true},
      {Act::relu, "relu", 0.f, false, true},
      {Act::leaky_relu, "leaky_relu", 0.01f, false, true},
      {Act::elu, "elu", 1.0f, false, true},
      {Act::selu, "selu", 0.f, false, true},
      {Act::gelu, "gelu", 0.f, true, true},
      {Act::sigmoid, "sigmoid", 0.f, false, true},
      {Act::tanh, "tanh", 0.f, false, true},
      {Act::softplus, "softplus", 0.f, true, true},
      {Act::silu, "silu", 0.f, true, true},
      {Act::softmax, "softmax", 0.f, false, false},
  };
  return t;
}

const std::vector<LossKind>& losses() {
  static const std::vector<LossKind> t = [] {
    const Param gamma = num("gamma", Limit::ge0, 2.0, "focusing exponent: (1 - p_t)^gamma");
    return std::vector<LossKind>{
        {Loss::mse, "mse", {"mean_squared_error"}, "float (n, k)", {}, {}},
        {Loss::mae, "mae", {"mean_absolute_error"}, "float (n, k)", {}, {}},
        {Loss::huber,
         "huber",
         {},
         "float (n, k)",
         {num("delta", Limit::gt0, 1.0, "where the quadratic part ends")},
         {}},
        {Loss::cross_entropy,
         "cross_entropy",
         {"categorical_crossentropy", "sparse_categorical_crossentropy"},
         "integer labels (n) or class probabilities (n, k)",
         {num("label_smoothing", Limit::unit_closed, 0.0,
              "PyTorch's: the target becomes (1 - e)·target + e/k")},
         {"class_weight"},
         Act::softmax},
        {Loss::binary_cross_entropy,
         "binary_cross_entropy",
         {"binary_crossentropy"},
         "float (n, k) in [0, 1]",
         {},
         {"class_weight"},
         Act::sigmoid},
        // half Poisson deviance with a log link: the output is log(mean), so predictions are
        // exp(output) (scikit-learn's MLPRegressor(loss="poisson"))
        {Loss::poisson, "poisson", {}, "float (n, k) >= 0 (counts)", {}, {}},
        {Loss::focal, "focal", {}, "integer labels (n)", {gamma}, {"class_weight"}, Act::softmax},
        {Loss::binary_focal,
         "binary_focal",
         {},
         "float (n, k) in [0, 1]",
         {gamma, num("alpha", Limit::finite, 0.25,
                     "weight of positives, 1 - alpha of negatives (<= 1; < 0: none)")},
         {"class_weight"},
         Act::sigmoid},
        {Loss::quantile,
         "quantile",
         {"pinball"},
         "float (n, k); one column is repeated for several quantiles",
         {},
         {"quantiles"}},
    };
  }();
  return t;
}

const std::vector<std::string>& initializers() {
  static const std::vector<std::string> t = {"auto",       "xavier_uniform", "xavier_normal",
                                             "he_uniform", "he_normal",      "lecun_normal",
                                             "orthogonal", "zeros"};
  return t;
}

const std::vector<LayerKind>& layers() {
  static const std::vector<LayerKind> t = {
      {"dense",
       "Dense",
       {num("units", Limit::positive_int, 0, "output width (required)"), activation_param(),
        choice("init", initializers(), "auto", "weight initialiser"),
        num("use_bias", Limit::flag, 1, "learn a bias"),
        num("l1", Limit::ge0, 0, "l1 penalty on the weight"),
        num("l2", Limit::ge0, 0, "l2 penalty on the weight"),
        optional(num("max_norm", Limit::gt0, 0,
                     "max L2 norm of each unit's incoming weights (absent or 0: none)")),
        alpha_param()},
       {{"weight", "(out, in)", ""}, {"bias", "(out)", "use_bias"}},
       {},
       "out if the activation's backward needs z, else 0",
       "0",
       Fold::gemm},
      {"activation",
       "Activation",
       {activation_param(), alpha_param()},
       {},
       {},
       "0",
       "0",
       Fold::epilogue},
      {"batchnorm",
       "BatchNorm",
       {num("momentum", Limit::unit_closed, 0.1, "running-statistics update rate"),
        num("eps", Limit::gt0, 1e-5, "added to the variance"),
        num("affine", Limit::flag, 1, "learn a per-feature scale and shift"),
        num("batch1", Limit::flag, 0,
            "a training batch of one row uses the running statistics instead of failing")},
       {{"weight", "(in)", "affine"}, {"bias", "(in)", "affine"}},
       {{"running_mean", "(in)", ""}, {"running_var", "(in)", ""}},
       "0",
       "2 * in (mean, invstd)",
       Fold::scale_shift},
      // nc.LayerNorm (torch.nn.LayerNorm over the features); layers/layernorm.cpp. Not folded
      // into a GEMM: its statistics are the row's own, so a network with it predicts layer by
      // layer.
      {"layernorm",
       "LayerNorm",
       {num("eps", Limit::gt0, 1e-5, "added to the variance"),
        num("elementwise_affine", Limit::flag, 1, "learn a per-feature scale (and shift: bias)"),
        num("bias", Limit::flag, 1, "learn the per-feature shift (with elementwise_affine)")},
       {{"weight", "(in)", "elementwise_affine"}, {"bias", "(in)", "elementwise_affine and bias"}},
       {},
       "3 (mean as a float pair, rstd)",
       "0",
       Fold::none},
      {"dropout",
       "Dropout",
       {num("rate", Limit::unit_open, 0.5, "probability of zeroing a value")},
       {},
       {},
       "ceil(in / 32) (the mask, one bit per value)",
       "0",
       Fold::identity},
      // nc.Embedding (one table shared by every code column) and nc.TabularInput (one table per
      // column, numeric columns passed through first); layers/embedding.cpp.
      {"embedding",
       "Embedding",
       {num("reserve", Limit::flag, 0,
            "a code outside [0, cardinality) or NaN reads an extra last row instead of raising"),
        optional(num("numeric", Limit::int_list, 0,
                     "columns passed through first, in order (absent: every column not in "
                     "columns, when columns is given)")),
        optional(num("columns", Limit::int_list, 0,
                     "columns of integer codes (absent: every column not in numeric)")),
        num("cardinality", Limit::int_list, 0, "codes of each table: 0 .. cardinality - 1"),
        num("dim", Limit::int_list, 0, "vector width of each table"),
        optional(num("table", Limit::int_list, 0,
                     "table of each code column (absent: one shared table, or one per column)"))},
       {{"weight", "(cardinality + reserve, dim)", "one_table"},
        {"weight_<t>", "(cardinality[t] + reserve, dim[t])", "tables"}},
       {},
       "number of code columns (the row each one read)",
       "0",
       Fold::none},
      // y = f(x) + skip(x): f is the block's layers (the spec's children, "body.<j>.<name>" in
      // the arenas), skip the identity or a bias-free linear map (ResNet's 1x1 shortcut).
      {"residual",
       "Residual",
       {choice("projection", {"auto", "always", "never"}, "auto",
               "skip path: x·Pᵀ when the block changes the width (auto), always, or never "
               "(the identity: the widths must match)")},
       {{"body.<j>.<tensor>", "each layer's own", ""}, {"proj.weight", "(out, in)", "projection"}},
       {{"body.<j>.<buffer>", "each layer's own", ""}},
       "the layers' outputs and workspace per row + 2 * max width (backward scratch)",
       "the layers' fixed workspace",
       Fold::block},
  };
  return t;
}

const std::vector<OptimizerKind>& optimizers() {
  static const std::vector<OptimizerKind> t = [] {
    const Param lr = num("lr", Limit::ge0, 1e-3, "learning rate");
    const Param beta1 = num("beta1", Limit::unit_open, 0.9, "first-moment decay");
    const Param beta2 = num("beta2", Limit::unit_open, 0.999, "second-moment decay");
    const Param eps = num("eps", Limit::gt0, 1e-8, "added to the denominator");
    const Param wd = num("weight_decay", Limit::ge0, 0, "L2 penalty added to the gradient");
    const Param decoupled = num("decoupled_weight_decay", Limit::flag, 0,
                                "AdamW-style decay of the parameters instead");
    auto with = [](Param p, double def) {
      p.def = def;
      return p;
    };
    std::vector<OptimizerKind> v = {
        {"sgd",
         {with(lr, 0.01), num("momentum", Limit::ge0, 0, "momentum factor"),
          num("dampening", Limit::finite, 0, "dampening of the momentum"), wd,
          num("nesterov", Limit::flag, 0, "Nesterov momentum")},
         {"momentum_buffer"},
         {"nesterov"}},
        {"adagrad",
         {with(lr, 0.01), num("lr_decay", Limit::ge0, 0, "learning-rate decay per step"), wd,
          num("initial_accumulator_value", Limit::ge0, 0, "start of the squared-gradient sum"),
          with(eps, 1e-10)},
         {"sum"},
         {"initial_accumulator_value"}},
        {"rmsprop",
         {with(lr, 0.01), num("alpha", Limit::ge0, 0.99, "smoothing constant"), eps, wd,
          num("momentum", Limit::ge0, 0, "momentum factor"),
          num("centered", Limit::flag, 0, "normalise by the gradient's variance estimate")},
         {"square_avg", "momentum_buffer", "grad_avg"},
         {"centered"}},
        {"adam",
         {lr, beta1, beta2, eps, wd, num("amsgrad", Limit::flag, 0, "AMSGrad variant"), decoupled,
          num("raw_eps", Limit::flag, 0,
              "eps is added to sqrt(v) before the bias correction (scikit-learn's, Keras' Adam)")},
         {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
         {"amsgrad", "decoupled_weight_decay"}},
        {"adamw",
         {lr, beta1, beta2, eps, with(wd, 1e-2), num("amsgrad", Limit::flag, 0, "AMSGrad variant")},
         {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
         {"amsgrad"}},
        {"nadam",
         {with(lr, 2e-3), beta1, beta2, eps, wd,
          num("momentum_decay", Limit::ge0, 4e-3, "momentum schedule rate"), decoupled},
         {"exp_avg", "exp_avg_sq", "mu_product"},
         {"decoupled_weight_decay"}},
        {"adadelta",
         {with(lr, 1.0), num("rho", Limit::unit_closed, 0.9, "decay of both running averages"),
          with(eps, 1e-6), wd},
         {"square_avg", "acc_delta"},
         {}},
    };
    const std::vector<Param> common = {
        optional(num("clipnorm", Limit::gt0, 0, "clip the global gradient norm (0: off)")),
        optional(num("clipvalue", Limit::gt0, 0, "clamp each gradient value (0: off)")),
        num("skip_nonfinite", Limit::flag, 1, "skip a step whose gradient is not finite"),
        num("maximize", Limit::flag, 0, "ascend instead of descend")};
    for (auto& o : v) o.params.insert(o.params.end(), common.begin(), common.end());
    return v;
  }();
  return t;
}

std::string names(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& n : v) s += (s.empty() ? "" : ", ") + n;
  return s;
}

const LayerKind& layer(const std::string& type) {
  std::vector<std::string> known;
  for (const auto& k : layers()) {
    if (k.type == type) return k;
    known.push_back(k.type);
  }
  fail("unknown layer type '" + type + "': expected " + names(known));
}

const OptimizerKind& optimizer(const std::string& name) {
  std::vector<std::string> known;
  for (const auto& k : optimizers()) {
    if (k.name == name) return k;
    known.push_back(k.name);
  }
  fail("unknown optimizer '" + name + "' (choose from " + names(known) + ")");
}

const Param& param(const std::vector<Param>& params, const std::string& name,
                   const std::string& owner) {
  std::vector<std::string> known;
  for (const auto& p : params) {
    if (p.name == name) return p;
    known.push_back(p.name);
  }
  fail("unknown hyper-parameter '" + name + "' for " + owner + " (valid: " + names(known) + ")");
}

void check(const std::string& head, const Param& p, double v) {
  const std::string what = head + ": " + p.name + " must be ";
  const std::string got = ", got " + fmt(v);
  const bool finite = std::isfinite(v);
  switch (p.limit) {
    case Limit::finite: nncore::check(finite, what + "a finite number" + got); break;
    case Limit::ge0: nncore::check(finite && v >= 0, what + "a finite number >= 0" + got); break;
    case Limit::gt0:
      // Optional positive values use 0 for "none" in the core (Python's None).
      nncore::check(finite && (v > 0 || (p.optional && v == 0)),
                    what + "a finite number > 0" + (p.optional ? " (or 0 for none)" : "") + got);
      break;
    case Limit::unit_open: nncore::check(v >= 0 && v < 1, what + "in [0, 1)" + got); break;
    case Limit::unit_closed: nncore::check(v >= 0 && v <= 1, what + "in [0, 1]" + got); break;
    case Limit::flag: nncore::check(v == 0 || v == 1, what + "0 or 1 (a boolean)" + got); break;
    case Limit::positive_int:
      nncore::check(finite && v >= 1 && v == std::floor(v), what + "a positive integer" + got);
      break;
    case Limit::choice: fail(what + "one of " + names(p.choices) + got);
    case Limit::int_list:
      nncore::check(finite && v >= 0 && v == std::floor(v) && v < 2147483648.0,
                    what + "a list of integers >= 0" + got);
      break;
  }
}

void check_layer_spec(const LayerSpec& spec) {
  const LayerKind& k = layer(spec.type);
  for (const auto& p : k.params) {
    if (p.limit == Limit::choice) continue;  // parse_act / parse_init name the choices
    if (p.limit == Limit::int_list) {
      auto it = spec.list.find(p.name);
      if (it == spec.list.end())
        nncore::check(p.optional, k.title + ": " + p.name + " is required");
      else
        for (double v : it->second) check(k.title, p, v);
      continue;
    }
    auto it = spec.num.find(p.name);
    if (it != spec.num.end())
      check(k.title, p, it->second);
    else
      nncore::check(p.optional || p.limit != Limit::positive_int,
                    k.title + ": " + p.name + " is required");
  }
}

double layer_num(const LayerSpec& spec, const std::string& name) {
  const LayerKind& k = layer(spec.type);
  return spec.get(name, param(k.params, name, k.title).def);
}

}  // namespace nncore::schema
