//! Thin, typed wrappers over the raw kernel interfaces the suites exercise.

pub mod epoll_params;
pub mod userpoll;
