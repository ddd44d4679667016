//! Is this block somebody at the phone, or the line's background? The background's level and the
//! block's periodicity (with mains hum taken out where the line has it).

pub mod mains_hum;
pub mod noise_floor;
pub mod voicing;
