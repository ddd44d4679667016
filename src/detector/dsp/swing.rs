//! How far a level has swung (highest minus lowest) over the last few hundred ms, in O(1) per
//! block: the window is kept as a few sub-windows' extremes rather than every value.

const PARTS: usize = 4;

#[derive(Debug, Clone)]
pub struct Swing {
    part_blocks: u32,
    lows: [f32; PARTS],
    highs: [f32; PARTS],
    low: f32,
    high: f32,
    filled: u32,
}

impl Swing {
    /// A window of about `PARTS * part_blocks` blocks (it slides a sub-window at a time).
    pub fn new(part_blocks: u32) -> Swing {
        Swing {
            part_blocks: part_blocks.max(1),
            lows: [f32::MAX; PARTS],
            highs: [f32::MIN; PARTS],
            low: f32::MAX,
            high: f32::MIN,
            filled: 0,
        }
    }

    /// Adds one block's value and returns the swing over the window so far.
    pub fn update(&mut self, value: f32) -> f32 {
        self.low = self.low.min(value);
        self.high = self.high.max(value);
        self.filled += 1;
        let low = self.lows.iter().fold(self.low, |a, &b| a.min(b));
        let high = self.highs.iter().fold(self.high, |a, &b| a.max(b));
        if self.filled == self.part_blocks {
            self.lows.rotate_left(1);
            self.highs.rotate_left(1);
            self.lows[PARTS - 1] = self.low;
            self.highs[PARTS - 1] = self.high;
            self.low = f32::MAX;
            self.high = f32::MIN;
            self.filled = 0;
        }
        high - low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_the_swing_and_forgets_it_after_the_window() {
        let mut s = Swing::new(10);
        assert_eq!(s.update(50.0), 0.0);
        assert_eq!(s.update(30.0), 20.0);
        let mut last = 0.0;
        for _ in 0..38 {
            last = s.update(40.0);
        }
        assert_eq!(last, 20.0, "still inside the window");
        // Its sub-window leaves the window once four newer ones have filled.
        last = s.update(40.0);
        for _ in 0..10 {
            assert_eq!(last, 20.0);
            last = s.update(40.0);
        }
        assert_eq!(last, 0.0, "forgotten a window later");
    }
}
