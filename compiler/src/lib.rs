//! Kiln compiler.
