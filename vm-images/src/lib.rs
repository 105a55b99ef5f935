//! Kernel images: Debian catalogue, fetch, cache, bzImage facts and module sets.

pub mod apt;
pub mod build;
pub mod bzimage;
pub mod cache;
pub mod catalogue;
pub mod control;
pub mod debversion;
mod error;
mod fetch;
pub mod kconfig;
pub mod modules;
mod progress;
mod resolve;
pub mod spec;
pub mod vmlinux;

pub use bzimage::{read_bzimage, BzImageInfo};
pub use cache::Cache;
pub use error::ImageError;
pub use kconfig::KernelConfig;
pub use modules::{resolve_modules, Module, ModuleSet};
pub use progress::{NoProgress, Progress, StderrProgress};
pub use resolve::{resolve, KernelImage};
