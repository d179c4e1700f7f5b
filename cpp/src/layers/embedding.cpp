// Embedding layer: columns of the input that hold integer codes each read one row of a learned
// table; numeric columns pass through first. One kind serves nc.Embedding (one table shared by
// every code column, torch.nn.Embedding applied to each column) and nc.TabularInput (one table
// per column). Its input is the raw X, so the network only accepts it as the first layer.
//
// Backward is a scatter-add into the tables. Each thread owns a fixed slice of every table's
// rows and adds the batch's rows into its slice in row order, so a gradient row is the same sum
// in the same order for any thread count (and every ISA: plain float adds, no FMA contraction).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>

#include "nncore/layer.h"
#include "nncore/schema.h"
#include "nncore/threading.h"

#if NNCORE_HAVE_OPENMP
#include <omp.h>
#endif

namespace nncore {

namespace {

std::vector<int> ints(const LayerSpec& s, const char* key) {
  std::vector<int> v;
  auto it = s.list.find(key);
  if (it != s.list.end())
    for (double d : it->second) v.push_back(int(d));  // integers >= 0 (check_layer_spec)
  return v;
}

class Embedding final : public Layer {
 public:
  Embedding(const LayerSpec& s, int in_dim) {
    in_dim_ = in_dim;
    reserve_ = schema::layer_num(s, "reserve") != 0;
    numeric_ = ints(s, "numeric");
    card_ = ints(s, "cardinality");
    dim_ = ints(s, "dim");
    const std::string head = "Embedding: ";
    check(!card_.empty() && card_.size() == dim_.size(),
          head + "cardinality and dim need one entry per table, got " +
              std::to_string(card_.size()) + " and " + std::to_string(dim_.size()));
    for (std::size_t t = 0; t < card_.size(); ++t) {
      check(card_[t] >= 1, head + "cardinality must be >= 1, got " + std::to_string(card_[t]));
      // float32 holds every integer code exactly only up to 2**24.
      check(card_[t] <= (1 << 24),
            head + "cardinality must be <= 2**24, got " + std::to_string(card_[t]));
      check(dim_[t] >= 1, head + "dim must be >= 1, got " + std::to_string(dim_[t]));
      const double size = (double(card_[t]) + reserve_) * double(dim_[t]);
      check(size < 2147483648.0, head + "a table of " + std::to_string(card_[t]) + " x " +
                                     std::to_string(dim_[t]) + " exceeds 2**31-1 values");
    }
    std::set<int> seen;
    for (int c : numeric_) {
      check(c < in_dim, head + "numeric column " + std::to_string(c) +
                            " is out of range for an input of " + std::to_string(in_dim) +
                            " columns");
      check(seen.insert(c).second, head + "numeric column " + std::to_string(c) + " is repeated");
    }
    const bool numeric_given = s.list.count("numeric") != 0;
    if (s.list.count("columns")) {
      cols_ = ints(s, "columns");
      std::set<int> cat;
      for (int c : cols_) {
        check(c < in_dim, head + "categorical column " + std::to_string(c) +
                              " is out of range for an input of " + std::to_string(in_dim) +
                              " columns");
        check(!seen.count(c),
              head + "column " + std::to_string(c) + " is both numeric and categorical");
        check(cat.insert(c).second,
              head + "categorical column " + std::to_string(c) + " is repeated");
      }
      // numeric absent: every other column, in order (nc.TabularInput(numeric=None)).
      if (!numeric_given)
        for (int c = 0; c < in_dim; ++c)
          if (!cat.count(c)) numeric_.push_back(c);
    } else {
      for (int c = 0; c < in_dim; ++c)
        if (!seen.count(c)) cols_.push_back(c);
    }
    check(!cols_.empty(), head + "no categorical columns (every input column is numeric)");
    const int ntab = int(card_.size());
    if (s.list.count("table")) {
      table_ = ints(s, "table");
      check(table_.size() == cols_.size(), head + "table needs one entry per categorical column (" +
                                               std::to_string(cols_.size()) + "), got " +
                                               std::to_string(table_.size()));
      for (int t : table_)
        check(t < ntab, head + "table index " + std::to_string(t) + " is out of range for " +
                            std::to_string(ntab) + " tables");
    } else {
      check(ntab == 1 || ntab == int(cols_.size()),
            head + "with " + std::to_string(ntab) + " tables and " + std::to_string(cols_.size()) +
                " categorical columns, give table=");
      for (std::size_t k = 0; k < cols_.size(); ++k) table_.push_back(ntab == 1 ? 0 : int(k));
    }
    double width = double(numeric_.size());
    for (int t : table_) {
      out_off_.push_back(int(width));
      width += dim_[std::size_t(t)];
    }
    check(width < 1073741824.0, head + "output width exceeds 2**30");
    out_dim_ = int(width);
    std::size_t off = 0;
    for (std::size_t t = 0; t < card_.size(); ++t) {
      tab_off_.push_back(off);
      off += std::size_t(rows(int(t))) * std::size_t(dim_[t]);
    }
  }

  std::string type() const override { return "embedding"; }
  bool first_only() const override { return true; }
  std::vector<TensorInfo> params() const override {
    if (card_.size() == 1) return {{"weight", {rows(0), dim_[0]}}};
    std::vector<TensorInfo> p;
    for (std::size_t t = 0; t < card_.size(); ++t)
      p.push_back({"weight_" + std::to_string(t), {rows(int(t)), dim_[t]}});
    return p;
  }
  void bind(float* p, float* g, float*) override {
    w_ = p;
    gw_ = g;
  }
  // N(0, 1) as torch.nn.Embedding; the reserved row starts at zero, so a code never seen in
  // training adds nothing until the row is trained.
  void init(Rng& rng) override {
    for (std::size_t t = 0; t < card_.size(); ++t) {
      float* tab = w_ + tab_off_[t];
      const std::size_t drawn = std::size_t(card_[t]) * std::size_t(dim_[t]);
      for (std::size_t e = 0; e < drawn; ++e) tab[e] = float(rng.normal());
      if (reserve_) std::memset(tab + drawn, 0, sizeof(float) * std::size_t(dim_[t]));
    }
  }
  // The row each code column read, as int32 in float-sized slots, for backward.
  std::size_t saved_per_row() const override { return cols_.size(); }
  bool writes_all_grads() const override { return true; }

  void forward(const float* x, float* y, int n, float* saved, const StepContext&) override {
    std::int32_t* idx = reinterpret_cast<std::int32_t*>(saved);
    const int ncat = int(cols_.size());
    const int nblocks = (n + kBlock - 1) / kBlock;
    int bad = 0;
    const bool par = std::int64_t(n) * out_dim_ > (1 << 14);
#pragma omp parallel for num_threads(num_threads()) if (par) schedule(static) reduction(| : bad)
    for (int b = 0; b < nblocks; ++b) {
      const int i0 = b * kBlock, i1 = std::min(n, i0 + kBlock);
      // Codes of a block first, with a prefetch of each table row: the lookups into big tables
      // are cache misses, and issuing them together overlaps their latency.
      for (int i = i0; i < i1; ++i) {
        const float* xr = x + std::size_t(i) * in_dim_;
        for (int k = 0; k < ncat; ++k) {
          const int t = table_[std::size_t(k)];
          const int r = row_of(xr[cols_[std::size_t(k)]], t);
          idx[std::size_t(i) * ncat + k] = r;
          bad |= r < 0;
          if (r >= 0) prefetch(row_ptr(t, r));
        }
      }
      for (int i = i0; i < i1; ++i) copy_row(x, y, idx, i);
    }
    if (bad) report_unknown(x, n);
  }

  void backward(const float*, const float*, float* dy, float* dx, int n, float* saved,
                const StepContext& ctx) override {
    const std::int32_t* idx = reinterpret_cast<const std::int32_t*>(saved);
    const int ncat = int(cols_.size()), ntab = int(card_.size());
    const int nt = num_threads();
    const bool par = std::int64_t(n) * out_dim_ > (1 << 14);
#pragma omp parallel num_threads(nt) if (par)
    {
      const int th = par ? omp_thread() : 0, T = par ? nt : 1;
      for (int t = 0; t < ntab; ++t) {
        const std::int64_t lo = own_begin(t, th, T), hi = own_begin(t, th + 1, T);
        const std::size_t d = std::size_t(dim_[std::size_t(t)]);
        float* g = gw_ + tab_off_[std::size_t(t)];
        if (ctx.overwrite_grads && hi > lo)
          std::memset(g + lo * d, 0, sizeof(float) * std::size_t(hi - lo) * d);
      }
      for (int i = 0; i < n; ++i) {
        const float* dyr = dy + std::size_t(i) * out_dim_;
        for (int k = 0; k < ncat; ++k) {
          const int t = table_[std::size_t(k)];
          const std::int64_t r = idx[std::size_t(i) * ncat + k];
          if (r < own_begin(t, th, T) || r >= own_begin(t, th + 1, T)) continue;
          const std::size_t d = std::size_t(dim_[std::size_t(t)]);
          float* g = gw_ + tab_off_[std::size_t(t)] + std::size_t(r) * d;
          const float* src = dyr + out_off_[std::size_t(k)];
          for (std::size_t e = 0; e < d; ++e) g[e] += src[e];
        }
      }
    }
    if (!dx) return;
    // Codes are piecewise constant: their derivative is 0. Numeric columns pass dy through.
    std::memset(dx, 0, sizeof(float) * std::size_t(n) * in_dim_);
    for (int i = 0; i < n; ++i)
      for (std::size_t j = 0; j < numeric_.size(); ++j)
        dx[std::size_t(i) * in_dim_ + numeric_[j]] += dy[std::size_t(i) * out_dim_ + j];
  }

 private:
  static constexpr int kBlock = 16;  // rows whose table lookups are prefetched together
  int rows(int t) const { return card_[std::size_t(t)] + (reserve_ ? 1 : 0); }
  const float* row_ptr(int t, int r) const {
    return w_ + tab_off_[std::size_t(t)] + std::size_t(r) * std::size_t(dim_[std::size_t(t)]);
  }
  static void prefetch(const float* p) {
#if defined(__GNUC__)
    __builtin_prefetch(p);
#endif
  }
  // Output row i: the numeric columns, then each code's table row (skipped for unknown codes:
  // forward raises after the loop).
  void copy_row(const float* x, float* y, const std::int32_t* idx, int i) const {
    const float* xr = x + std::size_t(i) * in_dim_;
    float* yr = y + std::size_t(i) * out_dim_;
    for (std::size_t j = 0; j < numeric_.size(); ++j) yr[j] = xr[numeric_[j]];
    const std::size_t ncat = cols_.size();
    for (std::size_t k = 0; k < ncat; ++k) {
      const int r = idx[std::size_t(i) * ncat + k], t = table_[k];
      if (r >= 0)
        std::memcpy(yr + out_off_[k], row_ptr(t, r),
                    sizeof(float) * std::size_t(dim_[std::size_t(t)]));
    }
  }
  // The table row of a code, or -1 for an unknown code without a reserved row.
  int row_of(float v, int t) const {
    const int c = card_[std::size_t(t)];
    if (v >= 0.f && v < float(c) && v == std::floor(v)) return int(v);
    return reserve_ ? c : -1;
  }
  // First row of table t that thread th of T owns (rows split in proportion, as the optimizer's
  // chunk owners split a tensor).
  std::int64_t own_begin(int t, int th, int T) const { return std::int64_t(rows(t)) * th / T; }
  static int omp_thread() {
#if NNCORE_HAVE_OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
  }
  [[noreturn]] void report_unknown(const float* x, int n) const {
    for (int i = 0; i < n; ++i)
      for (std::size_t k = 0; k < cols_.size(); ++k) {
        const float v = x[std::size_t(i) * in_dim_ + cols_[k]];
        const int t = table_[k];
        if (row_of(v, t) >= 0) continue;
        std::string shown = std::isnan(v) ? std::string("nan") : std::to_string(double(v));
        shown.erase(shown.find_last_not_of('0') + 1);
        if (!shown.empty() && shown.back() == '.') shown.pop_back();
        fail("Embedding: column " + std::to_string(cols_[k]) + " holds " + shown + " at row " +
             std::to_string(i) + ", not a code in [0, " + std::to_string(card_[std::size_t(t)]) +
             ") (cardinality " + std::to_string(card_[std::size_t(t)]) +
             "); codes are integers 0 .. cardinality - 1, or set unknown='reserve'");
      }
    fail("Embedding: unknown code");  // not reached: forward saw one
  }

  bool reserve_ = false;
  std::vector<int> numeric_, cols_, card_, dim_, table_, out_off_;
  std::vector<std::size_t> tab_off_;
  float *w_ = nullptr, *gw_ = nullptr;
};

}  // namespace

std::unique_ptr<Layer> make_embedding_layer(const LayerSpec& s, int in_dim) {
  return std::make_unique<Embedding>(s, in_dim);
}

}  // namespace nncore
