//! From "this 10 ms block has sound" to words and talk segments, with mod_com_amd's timers:
//! a word needs `noise_min_length` of sound, `noise_inter_silence` of quiet ends it, and
//! `silent_max_session` of quiet ends the talk segment (the Stop Talking edge).
//!
//! Over steady loud noise a word can reach the caller as loose syllables, only its vowels
//! standing out of the noise, none as long as `noise_min_length`. There, syllables that follow
//! one another closely enough to be one greeting make its first word together once their sound
//! adds up to `noise_min_length`.

use crate::detector::frontend::BLOCK_MS;

/// Sound shorter than this (a click, a pop) does not interrupt a silence.
const ACTIVITY_MIN_MS: u64 = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalkEdge {
    Start { at_ms: u64 },
    Stop { at_ms: u64 },
}

/// Before the first word: the syllables heard so far with no long gap between them, which the
/// first word then carries on.
#[derive(Debug, Clone, Copy)]
struct Lead {
    start_ms: u64,
    end_ms: u64,
    syllables: u32,
    /// Their sound in ms, the gaps inside them not counted.
    sound_ms: u64,
}

#[derive(Debug, Clone)]
pub struct TalkTracker {
    min_word_ms: u64,
    word_gap_ms: u64,
    segment_gap_ms: u64,
    /// Quiet that parts the greeting from sound before it (silent_after_intro).
    lead_gap_ms: u64,
    /// A sound run is open (it may have short gaps in it).
    run_start: Option<u64>,
    run_counted: bool,
    /// The open run has lasted long enough to be a syllable of the lead.
    run_in_lead: bool,
    quiet_ms: u64,
    talking: bool,
    /// End of the last block with sound in a counted word.
    last_sound_end: Option<u64>,
    first_word_start: Option<u64>,
    lead: Option<Lead>,
    greeting_start: Option<u64>,
    /// End of the last block with any sound after the first word, short runs included.
    last_activity_end: Option<u64>,
    words: u32,
    /// Longest counted word so far, and the length of the word now going on.
    longest_word_ms: u64,
}

impl TalkTracker {
    pub fn new(min_word_ms: u32, word_gap_ms: u32, segment_gap_ms: u32, lead_gap_ms: u32) -> TalkTracker {
        TalkTracker {
            min_word_ms: u64::from(min_word_ms),
            word_gap_ms: u64::from(word_gap_ms).max(BLOCK_MS),
            segment_gap_ms: u64::from(segment_gap_ms).max(BLOCK_MS),
            lead_gap_ms: u64::from(lead_gap_ms).max(BLOCK_MS),
            run_start: None,
            run_counted: false,
            run_in_lead: false,
            quiet_ms: 0,
            talking: false,
            last_sound_end: None,
            first_word_start: None,
            lead: None,
            greeting_start: None,
            last_activity_end: None,
            words: 0,
            longest_word_ms: 0,
        }
    }

    /// Feeds one block ending at `end_ms`; returns a talking edge if one happened.
    /// `syllables_join`: the background is steady noise, so the lead's syllables may make the
    /// first word together.
    pub fn update(&mut self, end_ms: u64, sound: bool, syllables_join: bool) -> Option<TalkEdge> {
        let start_ms = end_ms.saturating_sub(BLOCK_MS);
        let mut edge = None;
        if sound {
            self.quiet_ms = 0;
            let run_start = *self.run_start.get_or_insert(start_ms);
            if end_ms - run_start >= ACTIVITY_MIN_MS {
                if self.first_word_start.is_some() {
                    self.last_activity_end = Some(end_ms);
                } else {
                    let lead = self.lead.get_or_insert(Lead { start_ms: run_start, end_ms, syllables: 0, sound_ms: 0 });
                    lead.end_ms = end_ms;
                    if self.run_in_lead {
                        lead.sound_ms += BLOCK_MS;
                    } else {
                        self.run_in_lead = true;
                        lead.syllables += 1;
                        lead.sound_ms += end_ms - run_start;
                    }
                }
            }
            let long_enough = end_ms - run_start >= self.min_word_ms.max(BLOCK_MS);
            let new_word = !self.run_counted && (long_enough || (syllables_join && self.lead_adds_up_to_a_word()));
            if new_word {
                self.run_counted = true;
                self.words += 1;
                if self.first_word_start.is_none() {
                    self.first_word_start = Some(run_start);
                    self.greeting_start = Some(self.lead.map_or(run_start, |lead| lead.start_ms.min(run_start)));
                }
            }
            if self.run_counted {
                self.last_sound_end = Some(end_ms);
                self.longest_word_ms = self.longest_word_ms.max(end_ms - run_start);
                if !self.talking {
                    self.talking = true;
                    // A new word's segment starts with the word. An old one's reopens here: a
                    // segment can close inside a word when silent_max_session is shorter than
                    // noise_inter_silence, and the word going on opens the next one.
                    let at_ms = if new_word { run_start } else { start_ms };
                    edge = Some(TalkEdge::Start { at_ms });
                }
            }
        } else {
            self.quiet_ms += BLOCK_MS;
            if self.lead.is_some_and(|lead| end_ms - lead.end_ms >= self.lead_gap_ms) {
                self.lead = None;
            }
            // A greeting right at the answer can be over before the background is known to be
            // steady noise; its syllables make the word then, as long as they still lead into one.
            if syllables_join && self.lead_adds_up_to_a_word() {
                if let Some(Lead { start_ms: start, end_ms: end, .. }) = self.lead {
                    self.first_word_start = Some(start);
                    self.greeting_start = Some(start);
                    self.words += 1;
                    self.run_counted = self.run_start.is_some();
                    self.last_sound_end = Some(end);
                    self.longest_word_ms = end - start;
                    self.talking = true;
                    return Some(TalkEdge::Start { at_ms: start });
                }
            }
            if self.run_start.is_some() && self.quiet_ms >= self.word_gap_ms {
                self.run_start = None;
                self.run_counted = false;
                self.run_in_lead = false;
            }
            if self.talking {
                if let Some(last) = self.last_sound_end {
                    if end_ms - last >= self.segment_gap_ms {
                        self.talking = false;
                        edge = Some(TalkEdge::Stop { at_ms: last });
                    }
                }
            }
        }
        edge
    }

    /// Drops the syllables heard before the first word: they were the onset of something that
    /// turned out to be no voice (a ring tone).
    pub fn forget_lead(&mut self) {
        if self.first_word_start.is_none() {
            self.lead = None;
            self.run_in_lead = false;
        }
    }

    /// The lead holds two syllables or more whose sound adds up to a word, and no word came yet.
    fn lead_adds_up_to_a_word(&self) -> bool {
        self.first_word_start.is_none() && self.lead.is_some_and(|lead| lead.syllables >= 2 && lead.sound_ms >= self.min_word_ms)
    }

    /// Inside a talk segment (between its Start and Stop edges).
    pub fn is_talking(&self) -> bool {
        self.talking
    }

    pub fn words(&self) -> u32 {
        self.words
    }

    /// The longest word heard so far (the one going on included), in ms.
    pub fn longest_word_ms(&self) -> u64 {
        self.longest_word_ms
    }

    /// Where the greeting began: its first word, or the syllables that led into it.
    pub fn greeting_start(&self) -> Option<u64> {
        self.greeting_start
    }

    pub fn first_word_start(&self) -> Option<u64> {
        self.first_word_start
    }

    /// End of the last sound heard since the greeting began, even sound too short for a word:
    /// the silence after a greeting is measured from here.
    pub fn last_activity_end(&self) -> Option<u64> {
        self.last_activity_end.max(self.last_sound_end)
    }

    pub fn last_sound_end(&self) -> Option<u64> {
        self.last_sound_end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tracker: &mut TalkTracker, pattern: &[(bool, u64)]) -> Vec<TalkEdge> {
        run_over(tracker, pattern, false)
    }

    /// `steady_noise`: the background lets syllables join into a word.
    fn run_over(tracker: &mut TalkTracker, pattern: &[(bool, u64)], steady_noise: bool) -> Vec<TalkEdge> {
        run_over_from(tracker, 0, pattern, steady_noise)
    }

    /// Goes on from `t` ms, where an earlier run stopped.
    fn run_over_from(tracker: &mut TalkTracker, mut t: u64, pattern: &[(bool, u64)], steady_noise: bool) -> Vec<TalkEdge> {
        let mut edges = Vec::new();
        for &(sound, ms) in pattern {
            for _ in 0..ms / BLOCK_MS {
                t += BLOCK_MS;
                edges.extend(tracker.update(t, sound, steady_noise));
            }
        }
        edges
    }

    #[test]
    fn clicks_are_not_words() {
        let mut tr = TalkTracker::new(120, 30, 200, 750);
        let edges = run(&mut tr, &[(false, 100), (true, 50), (false, 500)]);
        assert!(edges.is_empty());
        assert_eq!(tr.words(), 0);
    }

    #[test]
    fn words_and_segments() {
        let mut tr = TalkTracker::new(120, 30, 200, 750);
        let edges = run(&mut tr, &[(false, 100), (true, 300), (false, 100), (true, 200), (false, 300)]);
        assert_eq!(edges, vec![TalkEdge::Start { at_ms: 100 }, TalkEdge::Stop { at_ms: 700 }]);
        assert_eq!(tr.words(), 2);
        assert_eq!(tr.first_word_start(), Some(100));
        assert_eq!(tr.last_sound_end(), Some(700));
    }

    #[test]
    fn a_segment_closed_inside_a_word_reopens_when_it_goes_on() {
        // silent_max_session 10 ms, noise_inter_silence 50 ms: a 30 ms gap ends the segment
        // but not the word.
        let mut tr = TalkTracker::new(120, 50, 10, 750);
        let edges = run(&mut tr, &[(false, 1000), (true, 300), (false, 30), (true, 300), (false, 30), (true, 300), (false, 300)]);
        assert_eq!(
            edges,
            vec![
                TalkEdge::Start { at_ms: 1000 },
                TalkEdge::Stop { at_ms: 1300 },
                TalkEdge::Start { at_ms: 1330 },
                TalkEdge::Stop { at_ms: 1630 },
                TalkEdge::Start { at_ms: 1660 },
                TalkEdge::Stop { at_ms: 1960 },
            ]
        );
        assert_eq!(tr.words(), 1);
    }

    #[test]
    fn short_gaps_stay_inside_a_word() {
        let mut tr = TalkTracker::new(120, 30, 200, 750);
        run(&mut tr, &[(true, 200), (false, 20), (true, 200), (false, 40), (true, 200), (false, 300)]);
        assert_eq!(tr.words(), 2);
    }

    #[test]
    fn syllables_leading_into_the_first_word_start_the_greeting() {
        // Loud noise leaves only 60 ms syllables of a greeting's first words above it.
        let mut tr = TalkTracker::new(120, 30, 200, 750);
        run(&mut tr, &[(false, 100), (true, 60), (false, 300), (true, 60), (false, 500), (true, 200), (false, 300)]);
        assert_eq!(tr.first_word_start(), Some(1020));
        assert_eq!(tr.greeting_start(), Some(100));
    }

    #[test]
    fn over_steady_noise_syllables_that_add_up_to_a_word_make_the_first_word() {
        // 60 and 70 ms syllables 300 ms apart, then nothing: no single run is a word.
        let pattern = [(false, 100), (true, 60), (false, 300), (true, 70), (false, 1000)];
        let mut apart = TalkTracker::new(120, 30, 200, 750);
        run(&mut apart, &pattern);
        assert_eq!(apart.words(), 0, "without the noise's leave each is a blip");

        let mut joined = TalkTracker::new(120, 30, 200, 750);
        let edges = run_over(&mut joined, &pattern, true);
        assert_eq!(joined.words(), 1);
        assert_eq!(joined.greeting_start(), Some(100));
        // The second syllable's first 60 ms complete the 120 ms of sound at 520; its run is the
        // first word, and it goes on to 530.
        assert_eq!(joined.first_word_start(), Some(460));
        assert_eq!(joined.last_sound_end(), Some(530));
        assert_eq!(edges, vec![TalkEdge::Start { at_ms: 460 }, TalkEdge::Stop { at_ms: 530 }]);
    }

    #[test]
    fn syllables_heard_before_the_background_was_known_make_the_word_once_it_is() {
        // The syllables of a greeting at the answer, and the background judged steady noise
        // only 200 ms after them: still within silent_after_intro, so they lead into a word.
        let mut tr = TalkTracker::new(120, 30, 200, 750);
        let mut edges = run(&mut tr, &[(false, 20), (true, 90), (false, 140), (true, 70), (false, 200)]);
        assert_eq!(tr.words(), 0);
        edges.extend(run_over_from(&mut tr, 520, &[(false, 300)], true));
        assert_eq!(tr.words(), 1);
        assert_eq!(tr.greeting_start(), Some(20));
        assert_eq!(tr.last_sound_end(), Some(320));
        assert_eq!(edges, vec![TalkEdge::Start { at_ms: 20 }, TalkEdge::Stop { at_ms: 320 }]);

        // Heard as steady noise only after silent_after_intro: the syllables led nowhere.
        let mut late = TalkTracker::new(120, 30, 200, 750);
        run(&mut late, &[(false, 20), (true, 90), (false, 140), (true, 70), (false, 760)]);
        run_over_from(&mut late, 1080, &[(false, 300)], true);
        assert_eq!(late.words(), 0);
    }

    #[test]
    fn syllables_too_far_apart_or_too_short_do_not_add_up() {
        for pattern in [
            // A gap of silent_after_intro between them: two utterances, not one greeting.
            [(false, 100), (true, 60), (false, 750), (true, 70), (false, 1000)],
            // 30 ms clicks are not syllables.
            [(false, 100), (true, 30), (false, 100), (true, 30), (false, 1000)],
        ] {
            let mut tr = TalkTracker::new(120, 30, 200, 750);
            run_over(&mut tr, &pattern, true);
            assert_eq!(tr.words(), 0, "{pattern:?}");
        }
    }

    #[test]
    fn sound_long_before_the_first_word_is_not_the_greeting() {
        let mut tr = TalkTracker::new(120, 30, 200, 750);
        run(&mut tr, &[(false, 100), (true, 60), (false, 750), (true, 200), (false, 300)]);
        assert_eq!(tr.greeting_start(), Some(910));
        let mut clicks = TalkTracker::new(120, 30, 200, 750);
        run(&mut clicks, &[(false, 100), (true, 30), (false, 100), (true, 200), (false, 300)]);
        assert_eq!(clicks.greeting_start(), Some(230), "a click is not a syllable");
    }
}
