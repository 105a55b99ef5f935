//! Thin, typed wrappers over the raw kernel interfaces the suites exercise.

pub mod epoll;
pub mod epoll_params;
