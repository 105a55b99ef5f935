//! The bisection itself, over any ordered list of candidates, with untestable ones skipped
//! (as `git bisect skip` does). Pure: the caller's oracle boots and judges.

/// What testing one candidate said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Good,
    Bad(String),
    /// Could not be judged (did not boot, every case skipped, …): bisection goes around it.
    Untestable(String),
}

/// One tested candidate, in test order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub index: usize,
    pub verdict: Verdict,
}

/// Where the change happened, as indexes into the candidates strictly between good and bad.
/// `None` for `last_good` means the known-good endpoint; `None` for `first_bad` the known-bad one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub last_good: Option<usize>,
    pub first_bad: Option<usize>,
    /// Untestable candidates left between the two: the change is somewhere in that range.
    pub untestable_between: Vec<usize>,
    pub steps: Vec<Step>,
}

/// Bisects `n` candidates that lie strictly between a good and a bad endpoint.
pub fn bisect(n: usize, mut oracle: impl FnMut(usize) -> Verdict) -> Outcome {
    // lo: index of the last known good (-1 = the good endpoint); hi: first known bad (n = bad endpoint).
    let (mut lo, mut hi) = (-1_i64, n as i64);
    let mut untestable: Vec<usize> = Vec::new();
    let mut steps = Vec::new();
    loop {
        let open: Vec<usize> = ((lo + 1)..hi).map(|i| i as usize).filter(|i| !untestable.contains(i)).collect();
        let Some(&pick) = open.iter().min_by_key(|&&i| ((2 * i as i64) - (lo + hi)).abs()) else { break };
        let verdict = oracle(pick);
        match &verdict {
            Verdict::Good => lo = pick as i64,
            Verdict::Bad(_) => hi = pick as i64,
            Verdict::Untestable(_) => untestable.push(pick),
        }
        steps.push(Step { index: pick, verdict });
    }
    let mut between: Vec<usize> = untestable.into_iter().filter(|&i| (i as i64) > lo && (i as i64) < hi).collect();
    between.sort_unstable();
    Outcome {
        last_good: (lo >= 0).then_some(lo as usize),
        first_bad: (hi < n as i64).then_some(hi as usize),
        untestable_between: between,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn oracle_first_bad_at(first_bad: usize, untestable: &'static [usize]) -> impl FnMut(usize) -> Verdict {
        move |i| {
            if untestable.contains(&i) {
                Verdict::Untestable("did not boot".into())
            } else if i >= first_bad {
                Verdict::Bad("params_pad failed".into())
            } else {
                Verdict::Good
            }
        }
    }

    #[rstest]
    #[case(10, 0)]
    #[case(10, 3)]
    #[case(10, 9)]
    #[case(10, 10)] // only the bad endpoint is bad
    #[case(1, 0)]
    #[case(1, 1)]
    #[case(0, 0)]
    fn finds_the_first_bad(#[case] n: usize, #[case] first_bad: usize) {
        let out = bisect(n, oracle_first_bad_at(first_bad, &[]));
        assert_eq!(out.first_bad, (first_bad < n).then_some(first_bad));
        assert_eq!(out.last_good, first_bad.checked_sub(1));
        assert!(out.steps.len() <= (n as f64 + 1.0).log2().ceil() as usize, "{} steps for {n}", out.steps.len());
    }

    #[test]
    fn goes_around_untestable_candidates() {
        let out = bisect(10, oracle_first_bad_at(6, &[4, 5]));
        assert_eq!(out.first_bad, Some(6));
        assert_eq!(out.last_good, Some(3));
        assert_eq!(out.untestable_between, vec![4, 5]);
    }

    #[test]
    fn an_untestable_neighbour_far_away_is_not_reported() {
        let out = bisect(10, oracle_first_bad_at(6, &[1]));
        assert_eq!((out.last_good, out.first_bad), (Some(5), Some(6)));
        assert!(out.untestable_between.is_empty());
    }
}
