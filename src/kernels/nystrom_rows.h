// Which rows the Nystrom-specific kernels combine, shared by the SIMD
// levels' segment_means and depthwise_conv_add (the reference kernels in
// ref/attention_parts.cpp spell the same rules out on their own).
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

}  // namespace nystrom
