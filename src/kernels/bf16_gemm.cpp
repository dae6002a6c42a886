// The bf16 GEMM's loops: operands converted to pairs once per call, then the
// level's MR x NR micro-kernel over row tiles (outer) and column panels
// (inner), each call over the whole depth.
#include "kernels/bf16_gemm.h"

#include <algorithm>

namespace nystrom {

namespace {
int round_up(int a, int b) { return (a + b - 1) / b * b; }
}  // namespace

void Bf16ScratchSize::grow_to(const Bf16ScratchSize& o) {
  a = std::max(a, o.a), b = std::max(b, o.b), rows = std::max(rows, o.rows);
}

Bf16ScratchSize bf16_scratch_size(const KernelTable& t, int M, int N, int K, bool trans_b) {
  Bf16ScratchSize z;
  if (M <= 0 || N <= 0 || K <= 0) return z;
  const size_t P = (size_t)(K + 1) / 2;
  z.a = (size_t)round_up(M, t.bf16.mr) * P;
  z.b = P * (size_t)round_up(N, t.bf16.nr);
  z.rows = trans_b ? (size_t)t.bf16.nr * P : 0;
  return z;
}

void gemm_bf16(const KernelTable& t, int M, int N, int K, const float* a, int lda, const float* b, int ldb,
               bool trans_b, float* c, int ldc, Bf16GemmScratch& s) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int i = 0; i < M; ++i) std::fill(c + (size_t)i * ldc, c + (size_t)i * ldc + N, 0.0f);
    return;
  }
  const int MR = t.bf16.mr, NR = t.bf16.nr, P = (K + 1) / 2;
  const int Mp = round_up(M, MR), Np = round_up(N, NR);
  // The sizes the plan reserved (bf16_scratch_size); grown only past them.
  const Bf16ScratchSize need = bf16_scratch_size(t, M, N, K, trans_b);
  if (s.a.size() < need.a) s.a.resize(need.a);
  if (s.b.size() < need.b) s.b.resize(need.b);
  if (s.rows.size() < need.rows) s.rows.resize(need.rows);

  // A: Mp rows of P pairs, the rows past M zero (the kernel reads whole tiles).
  for (int i = 0; i < M; ++i) t.bf16_convert_row(a + (size_t)i * lda, K, &s.a[(size_t)i * P]);
  std::fill(s.a.begin() + (size_t)M * P, s.a.begin() + (size_t)Mp * P, 0u);

  // B: pair t of column j at bp[t * ldbp + j] for panel bp. Not transposed,
  // rows 2t and 2t + 1 interleave into one row of Np pairs (panels are
  // column slices of it); transposed, each row of b (a column of op(B))
  // becomes P pairs, and the level's panel packing (a transpose of 32-bit
  // words, which it moves without arithmetic) lays NR of them side by side.
  size_t panel_step, ldbp;
  if (!trans_b) {
    for (int p = 0; p < P; ++p) {
      uint32_t* row = &s.b[(size_t)p * Np];
      const float* hi = 2 * p + 1 < K ? b + (size_t)(2 * p + 1) * ldb : nullptr;
      t.bf16_interleave_rows(b + (size_t)(2 * p) * ldb, hi, N, row);
      std::fill(row + N, row + Np, 0u);
    }
    panel_step = NR, ldbp = Np;
  } else {
    for (int j0 = 0; j0 < N; j0 += NR) {  // a panel's rows at a time, while they are in L1
      const int rows = std::min(NR, N - j0);
      for (int j = 0; j < rows; ++j) t.bf16_convert_row(b + (size_t)(j0 + j) * ldb, K, &s.rows[(size_t)j * P]);
      t.pack_panel(reinterpret_cast<const float*>(s.rows.data()), P, rows, NR, P,
                   reinterpret_cast<float*>(&s.b[(size_t)j0 * P]));
    }
    panel_step = (size_t)NR * P, ldbp = NR;
  }

  for (int i0 = 0; i0 < M; i0 += MR) {
    const int mr = std::min(MR, M - i0);
    for (int j0 = 0, p = 0; j0 < N; j0 += NR, ++p)
      t.gemm_bf16_ukernel(P, &s.a[(size_t)i0 * P], P, &s.b[p * panel_step], ldbp, c + (size_t)i0 * ldc + j0, ldc,
                          mr, std::min(NR, N - j0));
  }
}

}  // namespace nystrom
