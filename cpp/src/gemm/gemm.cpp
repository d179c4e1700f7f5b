// PLACEHOLDER sgemm: forwards to the naive twin until the blocked framework lands.
#include <cstring>
#include <vector>

#include "nncore/gemm.h"

namespace nncore {

struct PackedB::Impl {
  int K = 0, N = 0;
  std::vector<float> b;  // K×N row-major copy
};

PackedB::PackedB() : impl_(new Impl) {}
PackedB::~PackedB() = default;
PackedB::PackedB(PackedB&&) noexcept = default;
PackedB& PackedB::operator=(PackedB&&) noexcept = default;
int PackedB::K() const { return impl_->K; }
int PackedB::N() const { return impl_->N; }
bool PackedB::empty() const { return impl_->b.empty(); }

void PackedB::pack(Trans tb, int K, int N, const float* B, int ldb) {
  impl_->K = K;
  impl_->N = N;
  impl_->b.resize((size_t)K * N);
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < N; ++j)
      impl_->b[(size_t)k * N + j] = tb == Trans::N ? B[(size_t)k * ldb + j] : B[(size_t)j * ldb + k];
}

void sgemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc, const Epilogue* ep) {
  sgemm_naive(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ep);
}

void sgemm_packed(Trans ta, int M, float alpha, const float* A, int lda, const PackedB& B,
                  float beta, float* C, int ldc, const Epilogue* ep) {
  sgemm_naive(ta, Trans::N, M, B.N(), B.K(), alpha, A, lda, B.impl()->b.data(), B.N(), beta, C,
              ldc, ep);
}

}  // namespace nncore
