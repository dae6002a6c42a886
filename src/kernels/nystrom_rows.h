// Which rows the Nystrom-specific kernels combine, and in what order, shared
// by the SIMD levels' segment_means and depthwise_conv_add (the reference
// kernels in ref/attention_kernels.cpp spell the same rules out on their own).
#pragma once

namespace nystrom {

// SPEC 2 step 1: n rows in m landmark segments. With s = n / m and
// r = (s+1)m - n, the first r segments hold s rows and the other m - r hold
// s + 1 (all s when m divides n).
struct Segments {
  int s, r;
  Segments(int n, int m) : s(n / m), r(n % m == 0 ? m : (s + 1) * m - n) {}
  int length(int j) const { return j < r ? s : s + 1; }
};

// The taps k0 <= k < k1 of a K-tap convolution centred on row t (tap k
// reads row t + k - K/2) that fall on rows 0 .. n-1.
struct ConvTaps {
  int k0, k1;
  ConvTaps(int t, int n, int K)
      : k0(t < K / 2 ? K / 2 - t : 0),           // skip taps before row 0
        k1(n - t + K / 2 < K ? n - t + K / 2 : K) {}  // and after row n-1
};

// The order of work of depthwise_conv_add over output rows [t0, t1) of
// `heads` column groups: one_row(t, h) for a row near either end (fewer
// taps), four_rows(t, h) for rows t .. t+3 that see every tap. Every head of
// a row (or four) before the next, so V is read along whole rows: one head's
// columns are 256 bytes of each 3 KiB row at D = 768, and running down them
// head by head read V from memory at a fifth of the speed.
template <typename OneRow, typename FourRows>
void conv_rows(int n, int t0, int t1, int heads, int K, OneRow one_row, FourRows four_rows) {
  const int half = K / 2;
  const int interior_end = n + half - K + 1;  // rows [half, n + half - K] see every tap
  const int four_end = t1 < interior_end ? t1 : interior_end;
  int t = t0;
  for (; t < t1 && t < half; ++t)
    for (int h = 0; h < heads; ++h) one_row(t, h);
  for (; t + 4 <= four_end; t += 4)
    for (int h = 0; h < heads; ++h) four_rows(t, h);
  for (; t < t1; ++t)
    for (int h = 0; h < heads; ++h) one_row(t, h);
}

}  // namespace nystrom
