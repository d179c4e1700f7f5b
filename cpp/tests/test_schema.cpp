// The schema's tables index the core's enums: each row must sit at its enum's position, and every
// name must parse back to it (act_name / loss_name / init_name read the tables by position).
#include <string>

#include "nncore/init.h"
#include "nncore/optim.h"
#include "nncore/schema.h"
#include "testing.h"

using namespace nncore;

TEST(schema_tables_follow_the_enums) {
  const auto& acts = schema::activations();
  for (std::size_t i = 0; i < acts.size(); ++i) {
    CHECK(static_cast<std::size_t>(acts[i].act) == i);
    CHECK(parse_act(acts[i].name) == acts[i].act);
    CHECK(act_name(acts[i].act) == acts[i].name);
  }
  CHECK(acts.size() == static_cast<std::size_t>(Act::softmax) + 1);
  const auto& losses = schema::losses();
  for (std::size_t i = 0; i < losses.size(); ++i) {
    CHECK(static_cast<std::size_t>(losses[i].loss) == i);
    CHECK(parse_loss(losses[i].name) == losses[i].loss);
    for (const auto& alias : losses[i].aliases) CHECK(parse_loss(alias) == losses[i].loss);
  }
  const auto& inits = schema::initializers();
  for (std::size_t i = 0; i < inits.size(); ++i)
    CHECK(parse_init(inits[i]) == static_cast<Init>(i) &&
          init_name(static_cast<Init>(i)) == inits[i]);
  CHECK(inits.size() == static_cast<std::size_t>(Init::zeros) + 1);
}

TEST(schema_defaults_pass_their_own_limits) {
  for (const auto& k : schema::layers())
    for (const auto& p : k.params)
      if (p.limit != schema::Limit::choice && p.limit != schema::Limit::positive_int)
        schema::check(k.title, p, p.def);  // throws (failing the test) if a default is outside
  for (const auto& o : schema::optimizers()) {
    for (const auto& p : o.params) schema::check(o.name, p, p.def);
    auto opt = make_optimizer(o.name, {});
    for (const auto& s : opt->state_names()) {
      bool listed = false;
      for (const auto& t : o.states) listed = listed || s == t;
      CHECK(listed);
    }
  }
}
