//! Number-crunching loops compiled twice: for the baseline processor the build targets, and for
//! AVX2 where the processor running us has it (checked once, at run time). The loops are
//! written as plain array code; with AVX2 the compiler turns them into vector operations twice
//! as wide, and gives them three-operand instructions. Results are the same to the bit either
//! way: no operation is fused or reordered, only done more lanes at a time.

/// Values summed or compared side by side in the array loops: 8 f32 fill two SSE registers or
/// one AVX register, so both builds keep every lane busy.
pub(crate) const LANES: usize = 8;

/// Defines `fn $name` to run `$body` in its AVX2 build where the processor has AVX2, and in its
/// baseline build elsewhere.
macro_rules! wide_vectors {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn baseline($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) $(-> $ret)? {
                baseline($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            if $crate::detector::dsp::wide::avx2_allowed() {
                #[cfg(test)]
                $crate::detector::dsp::wide::tests::AVX2_RUNS.with(|n| n.set(n.get() + 1));
                // SAFETY: the processor has AVX2, as checked just above.
                return unsafe { avx2($($arg),*) };
            }
            baseline($($arg),*)
        }
    };
}

pub(crate) use wide_vectors;

/// Whether the AVX2 builds may run: the processor has AVX2 (std caches the answer).
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx2_allowed() -> bool {
    #[cfg(test)]
    if tests::BASELINE_ONLY.with(|b| b.get()) {
        return false;
    }
    std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    use crate::detector::dsp::fft::{power_spectrum, BINS};
    use crate::detector::frontend::{FrontEnd, HISTORY};
    use crate::detector::sound::voicing::Voicing;

    thread_local! {
        /// Set by a test to run the baseline builds on its thread.
        pub(super) static BASELINE_ONLY: Cell<bool> = const { Cell::new(false) };
        /// How many times an AVX2 build ran on this thread.
        pub(crate) static AVX2_RUNS: Cell<u64> = const { Cell::new(0) };
    }

    /// Everything the wide loops compute, for one stretch of noisy audio.
    fn crunch() -> Vec<u32> {
        let mut seed: u32 = 4242;
        let samples: Vec<i16> = (0..8000)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 16) as i16 / 3
            })
            .collect();
        let mut bits = Vec::new();
        let mut front = FrontEnd::new(8000);
        let mut voicing = Voicing::default();
        for chunk in samples.chunks(77) {
            front.push(chunk, &mut |f, stats| {
                bits.extend([stats.level, stats.rho1, stats.rho2].map(f32::to_bits));
                let mut block = [0.0f32; crate::detector::frontend::BLOCK];
                f.last_block(&mut block);
                bits.push(voicing.update(&block).to_bits());
                let mut window = [0.0f32; HISTORY];
                f.recent(&mut window);
                let mut power = [0.0f32; BINS];
                power_spectrum(&window, &mut power);
                bits.extend(power.map(f32::to_bits));
            });
        }
        bits
    }

    #[test]
    fn the_wide_builds_give_the_same_bits_as_the_baseline() {
        // Where the processor has no AVX2 both runs take the baseline build and this only
        // checks that the switch works.
        let wide = crunch();
        let wide_runs = AVX2_RUNS.with(|n| n.replace(0));
        BASELINE_ONLY.with(|b| b.set(true));
        let baseline = crunch();
        BASELINE_ONLY.with(|b| b.set(false));
        assert_eq!(AVX2_RUNS.with(|n| n.get()), 0, "the baseline run used the AVX2 builds");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(wide_runs > 0, std::arch::is_x86_feature_detected!("avx2"), "AVX2 builds ran {wide_runs} times");
        assert_eq!(wide.len(), baseline.len());
        assert!(wide == baseline, "the AVX2 build computed different values");
    }
}
