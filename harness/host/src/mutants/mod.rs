//! Mutation testing of the suites on real kernels: every one-line mutant under fixtures/patches
//! ([`manifest`]) is built on top of its base ([`pollcheck_images::build::mutation`]), the cases
//! of its area run on it, and [`kills`] says which of them told it apart from the unmutated
//! kernel; [`render`] makes the table the patch-set README carries.

pub mod kills;
pub mod manifest;
pub mod render;

pub use kills::{KillTable, MutantResult};
pub use manifest::{Family, Mutant};
