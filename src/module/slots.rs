//! Channel slots: how many calls may run detection at once (max_channels), in place of
//! mod_com_amd's licences.

use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Slots {
    max: AtomicUsize,
    allocated: AtomicUsize,
}

impl Slots {
    pub const fn new(max: usize) -> Slots {
        Slots { max: AtomicUsize::new(max), allocated: AtomicUsize::new(0) }
    }

    pub fn set_max(&self, max: usize) {
        self.max.store(max, Ordering::SeqCst);
    }

    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }

    pub fn allocated(&self) -> usize {
        self.allocated.load(Ordering::SeqCst)
    }

    pub fn available(&self) -> usize {
        self.max().saturating_sub(self.allocated())
    }

    /// Takes a slot if one is free.
    pub fn try_acquire(&self) -> bool {
        let max = self.max();
        self.allocated
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| if n < max { Some(n + 1) } else { None })
            .is_ok()
    }

    /// Gives a slot back (the caller makes sure it gives back only what it took).
    pub fn release(&self) {
        let _ = self
            .allocated
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_to_max_and_back() {
        let s = Slots::new(2);
        assert!(s.try_acquire());
        assert!(s.try_acquire());
        assert!(!s.try_acquire());
        assert_eq!((s.allocated(), s.available()), (2, 0));
        s.release();
        assert_eq!(s.available(), 1);
        s.release();
        s.release();
        assert_eq!(s.allocated(), 0);
        s.set_max(0);
        assert!(!s.try_acquire());
    }
}
