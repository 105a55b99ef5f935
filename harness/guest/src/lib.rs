//! Guest runtime.
