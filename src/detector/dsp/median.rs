//! The median of three: one odd value among three (a spike in a level, a jump in a pitch) never
//! reaches it, while a real change shows after two.

/// The middle one of three values (finite; it is always one of them).
pub fn median_of_three(a: f32, b: f32, c: f32) -> f32 {
    a.max(b).min(a.min(b).max(c))
}

#[cfg(test)]
mod tests {
    use super::median_of_three;

    #[test]
    fn every_order_gives_the_middle_value() {
        for (a, b, c) in [(1.0, 2.0, 3.0), (1.0, 3.0, 2.0), (2.0, 1.0, 3.0), (2.0, 3.0, 1.0), (3.0, 1.0, 2.0), (3.0, 2.0, 1.0)] {
            assert_eq!(median_of_three(a, b, c), 2.0, "{a} {b} {c}");
        }
        assert_eq!(median_of_three(5.0, 5.0, -1.0), 5.0);
        assert_eq!(median_of_three(-1.0, 7.0, 7.0), 7.0);
    }
}
