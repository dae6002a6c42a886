// The constants of the row kernels' exp and erfc (and of the GELUs built on
// them), shared by the avx2, avx512 and neon row kernels so that every
// level computes the same function, bit for bit where the instructions
// allow. Plain numbers: each level writes its own vector code around them.
//
// exp and erfc are polynomial approximations fitted for this engine (near-
// minimax Chebyshev fits, mpmath, 40 digits):
//   exp(x):  x = k ln2 + r, |r| <= ln2/2, e^r = 1 + r + r^2 g(r) with g of
//            degree 4 (fit error 6.7e-8 in g, under 1e-8 relative in e^r);
//            measured in float: at most 8.8e-8 relative over [-87, 88].
//   erfc(a): a >= 0, t = 1 / (1 + 0.4 a), erfc(a) = e^(-a^2) t P(t), P of
//            degree 8 fitted for a in [0, 6] (max |error| of P 1.4e-8).
#pragma once

namespace nystrom::approx {

// exp: inputs are clamped to [kExpLo, kExpHi] so 2^k stays a normal float
// (k in [-126, 127]). Below kExpLo the result is 0, as e^x is then under
// 1.7e-38 (this also maps -inf and the -1e30 of masked logits to 0); above
// kExpHi it stays e^88, which only the GELUs reach, as a divisor.
constexpr float kExpLo = -87.0f, kExpHi = 88.0f;
constexpr float kLog2e = 1.44269504088896341f;
// ln 2 in two parts for the reduction r = x - k ln2: with a fused multiply-
// subtract, x - k*kLn2Hi is exact (for k != 0 both terms lie on the 2^-25
// grid and their difference is under 0.35, so it fits in 24 bits); only the
// kLn2Lo step rounds.
constexpr float kLn2Hi = 0.693147182464599609375f;  // float(ln 2)
constexpr float kLn2Lo = -1.904654299957768e-09f;   // ln 2 - kLn2Hi
// g(r), lowest degree first.
constexpr float kExpG0 = 0.5f, kExpG1 = 0.166665752174f, kExpG2 = 0.0416665524032f,
                kExpG3 = 0.00836347272216f, kExpG4 = 0.00139265504285f;

// erfc polynomial P(t), lowest degree first.
constexpr float kErfcP[9] = {0.225403576299f,  0.229934369046f,  0.179436584852f,
                             0.273534780701f,  -0.0940677525195f, 0.322810919567f,
                             -0.109284223237f, -0.0516067122943f, 0.0238384706309f};
constexpr float kErfcT = 0.4f;     // t = 1 / (1 + kErfcT a)
constexpr float kErfcAMax = 6.0f;  // P was fitted for a <= 6; erfc(6) = 2e-17

// The GELUs: tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), erf
// form x Phi(x) with Phi from erfc(|x| / sqrt 2).
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluTanhC = 0.044715f;
constexpr float kInvSqrt2 = 0.70710678118654752f;

}  // namespace nystrom::approx
