//! Stories (in progress).
