//! The real path (to be written).
