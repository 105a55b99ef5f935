//! Kernel images: Debian catalogue, fetch, cache, bzImage facts and module sets.
