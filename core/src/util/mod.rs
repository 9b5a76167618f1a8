//! Small crate-private helpers with no knowledge of policies or data: hex text, the civil
//! calendar and clock, and the one switch between rayon and sequential iteration.

pub(crate) mod calendar;
pub(crate) mod hex;
pub(crate) mod par;
