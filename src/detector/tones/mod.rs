//! Steady tones followed alongside talk: beeps, fax CED/CNG and SIT; the fax's V.21 control
//! channel; a ring tone still on the line after the answer.

pub mod ringback;
pub mod tone;
pub mod v21;
