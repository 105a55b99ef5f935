//! Thin, typed wrappers over the raw kernel interfaces the suites exercise.

pub mod epoll;
pub mod epoll_ctl;
pub mod epoll_params;
pub mod loopback;
pub mod sockopt;
pub mod task_state;
pub mod userpoll;
pub mod wakeup_policy;
