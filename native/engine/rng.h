// A seeded random number generator whose stream is the same on every platform
// and compiler (std::normal_distribution and friends are not), so that a seed
// names one initialisation and one sample everywhere.
#pragma once
#include <cmath>
#include <cstdint>

namespace tweetsmith {

class Rng {
public:
    explicit Rng(uint64_t seed) {
        // splitmix64 spreads any seed (0 included) over xoshiro256**'s state.
        uint64_t x = seed;
        for (auto & s : state_) {
            x += 0x9E3779B97F4A7C15ull;
            uint64_t z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            s = z ^ (z >> 31);
        }
    }

    uint64_t next_u64() {  // xoshiro256**
        const uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

    // Standard normal by Box-Muller (both values used).
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = 0.0;
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        spare_ = r * std::sin(2.0 * M_PI * u2);
        has_spare_ = true;
        return r * std::cos(2.0 * M_PI * u2);
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t state_[4];
    bool has_spare_ = false;
    double spare_ = 0.0;
};

}  // namespace tweetsmith
