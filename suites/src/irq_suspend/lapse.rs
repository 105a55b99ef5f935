//! Telling a lapse the application caused from one the kernel caused: which IRQs of a
//! suspended window count against the kernel.
//!
//! While suspended, an epoll_wait whose busy poll finds nothing makes the kernel resume IRQs
//! (fs/eventpoll.c, ep_busy_loop → napi_resume_irqs); the call then blocks and the next IRQ
//! wakes it. So a lapse the application caused starts with IRQs inside an epoll_wait after a
//! quiet processing step, or with an epoll_wait that came back empty; that is correct
//! behaviour on a loaded host whose traffic paused (seen on Debian 7.3: one 250 ms slice of six
//! with 36 IRQs, every other slice 0). A suspension deadline that is not pushed ends at a moment
//! unrelated to the application's waits, so its first IRQ falls in the processing sleep
//! (40 ms of every ~43 ms step): that lapse, and every IRQ until the next clean step, is the
//! kernel's.

/// One processing step: the IRQs while the application slept (processing), the IRQs during its
/// next epoll_wait, whether that epoll_wait came back without events, and the slice each falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub sleep_slice: usize,
    pub in_sleep: u64,
    pub wait_slice: usize,
    pub in_wait: u64,
    pub empty: bool,
}

/// IRQs per slice that count against the kernel, and those excused as the application's lapses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub judged: Vec<u64>,
    pub excused: Vec<u64>,
}

/// Attribute each step's IRQs (pure). A lapse lasts until a clean step: events returned and no
/// IRQ in the step.
pub fn tally(steps: &[Step], slices: usize) -> Tally {
    let mut t = Tally { judged: vec![0; slices], excused: vec![0; slices] };
    // None: suspended; Some(true): a lapse the application caused; Some(false): the kernel's.
    let mut lapse: Option<bool> = None;
    for s in steps {
        let clean = !s.empty && s.in_sleep == 0 && s.in_wait == 0;
        if clean {
            lapse = None;
            continue;
        }
        let excused = *lapse.get_or_insert(s.in_sleep == 0);
        let bucket = if excused { &mut t.excused } else { &mut t.judged };
        bucket[s.sleep_slice.min(slices - 1)] += s.in_sleep;
        bucket[s.wait_slice.min(slices - 1)] += s.in_wait;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::{tally, Step};

    fn step(slice: usize, in_sleep: u64, in_wait: u64, empty: bool) -> Step {
        Step { sleep_slice: slice, in_sleep, wait_slice: slice, in_wait, empty }
    }

    #[test]
    fn an_empty_busy_poll_excuses_its_lapse_until_a_clean_step() {
        let steps = [
            step(0, 0, 0, false),
            step(0, 0, 1, false),
            step(0, 8, 1, false),
            step(1, 3, 0, false),
            step(1, 0, 0, false),
            step(1, 2, 0, false),
        ];
        let t = tally(&steps, 2);
        assert_eq!(t.excused, [10, 3]);
        assert_eq!(t.judged, [0, 2], "after the clean step, an IRQ in the sleep is the kernel's");
    }

    #[test]
    fn an_empty_wait_opens_an_excused_lapse() {
        let t = tally(&[step(0, 0, 0, true), step(0, 7, 1, false), step(0, 0, 0, false)], 1);
        assert_eq!((t.excused, t.judged), (vec![8], vec![0]));
    }

    #[test]
    fn a_deadline_that_lapses_on_its_own_is_judged_whole() {
        let steps = [step(0, 0, 0, false), step(1, 6, 0, false), step(1, 8, 1, false), step(1, 0, 0, false)];
        let t = tally(&steps, 2);
        assert_eq!((t.judged, t.excused), (vec![0, 15], vec![0, 0]));
    }

    #[test]
    fn an_empty_wait_inside_the_kernels_lapse_does_not_excuse_it() {
        let t = tally(&[step(0, 5, 0, false), step(0, 0, 0, true), step(0, 4, 0, false)], 1);
        assert_eq!(t.judged, [9]);
    }
}
