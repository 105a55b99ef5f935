//! One session's schedule, decided before anything boots: the cases whose outcome is already
//! known (the kernel's config rules them out, or an earlier guest's probes did), and the guests
//! that run the rest, grouped by shape (vCPUs), fewest vCPUs first.

use pollcheck_images::KernelConfig;
use pollcheck_proto::{CaseMeta, Feature, Outcome, ProbeAnswer, Probed};
use std::collections::BTreeMap;

/// The cases of one guest shape, by position in the session's case list, in run order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub cpus: u32,
    pub cases: Vec<usize>,
}

/// What to boot and what is already decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Outcomes known without booting, by position.
    pub decided: Vec<(usize, Outcome)>,
    /// Guest shapes to boot, in order.
    pub groups: Vec<Group>,
}

impl Schedule {
    /// Plans `cases`: those `config` (when known) rules out are decided as Skips naming the
    /// options; the others are grouped by `cpus_for`, stable in their list order.
    pub fn new(cases: &[CaseMeta], config: Option<&KernelConfig>, cpus_for: impl Fn(&CaseMeta) -> u32) -> Self {
        let mut decided = Vec::new();
        let mut by_cpus: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (pos, meta) in cases.iter().enumerate() {
            match config.and_then(|c| config_gap(meta, c)) {
                Some(outcome) => decided.push((pos, outcome)),
                None => by_cpus.entry(cpus_for(meta)).or_default().push(pos),
            }
        }
        let groups = by_cpus.into_iter().map(|(cpus, cases)| Group { cpus, cases }).collect();
        Self { decided, groups }
    }

    /// Takes out of groups `from..` the cases that `answers` (from a guest of this kernel) rule
    /// out, and returns their outcomes (a group may be left empty: nothing boots for it).
    pub fn drop_by_probes(
        &mut self,
        from: usize,
        cases: &[CaseMeta],
        answers: &BTreeMap<String, Probed>,
    ) -> Vec<(usize, Outcome)> {
        let mut out = Vec::new();
        for group in self.groups.iter_mut().skip(from) {
            group.cases.retain(|&pos| match probe_gap(&cases[pos], answers) {
                Some(outcome) => {
                    out.push((pos, outcome));
                    false
                }
                None => true,
            });
        }
        out
    }

    /// How many cases will boot a guest.
    pub fn to_run(&self) -> usize {
        self.groups.iter().map(|g| g.cases.len()).sum()
    }
}

/// The Skip of a case whose options `config` lacks: the options, where they were read, and the
/// feature they belong to. None when the config has them all.
pub fn config_gap(meta: &CaseMeta, config: &KernelConfig) -> Option<Outcome> {
    let missing = config.missing(&meta.requires.kconfig);
    if missing.is_empty() {
        return None;
    }
    let feature = feature_of_options(meta, &missing);
    let reason = format!("the kernel's config lacks {} (read from {})", missing.join(", "), config.path().display());
    Some(Outcome::Skip { reason, feature })
}

/// The case's feature whose promise needs one of `missing` (`CONFIG_`-prefixed), else its first.
fn feature_of_options(meta: &CaseMeta, missing: &[String]) -> Option<Feature> {
    let needs = |f: &Feature| f.promise().kconfig.iter().any(|k| missing.iter().any(|m| m == &format!("CONFIG_{k}")));
    meta.features.iter().copied().find(needs).or_else(|| meta.features.first().copied())
}

/// The Skip of a case, going by the answers an earlier guest of the same kernel gave to the
/// agent's probes: the first probe it requires that answered no. A yes, an unknown answer or
/// no answer decides nothing (the case runs and judges for itself).
pub fn probe_gap(meta: &CaseMeta, answers: &BTreeMap<String, Probed>) -> Option<Outcome> {
    meta.requires.probes.iter().find_map(|name| {
        let probed = answers.get(name)?;
        match &probed.answer {
            ProbeAnswer::No(why) => Some(Outcome::absent(
                probed.feature,
                format!("{why} (probe {name}, answered by a guest of this kernel)"),
            )),
            ProbeAnswer::Yes | ProbeAnswer::Unknown(_) => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::meta;

    fn answers(pairs: &[(&str, ProbeAnswer)]) -> BTreeMap<String, Probed> {
        pairs
            .iter()
            .map(|(k, a)| ((*k).to_owned(), Probed { feature: Feature::ThreadedBusyPoll, answer: a.clone() }))
            .collect()
    }

    #[test]
    fn config_gap_names_missing_options_and_their_feature() {
        let mut c = meta("busy_poll", "scoping");
        c.requires.kconfig = vec!["EPOLL".into(), "NET_RX_BUSY_POLL".into(), "NETDEVSIM".into()];
        c.features = vec![Feature::EpollParams, Feature::Netdevsim];
        let with = KernelConfig::parse("/k/config", "CONFIG_EPOLL=y\nCONFIG_NET_RX_BUSY_POLL=y\nCONFIG_NETDEVSIM=m\n");
        assert_eq!(config_gap(&c, &with), None);
        let without = KernelConfig::parse("/k/config", "CONFIG_EPOLL=y\nCONFIG_NET_RX_BUSY_POLL=y\n");
        assert_eq!(
            config_gap(&c, &without),
            Some(Outcome::Skip {
                reason: "the kernel's config lacks CONFIG_NETDEVSIM (read from /k/config)".into(),
                feature: Some(Feature::Netdevsim),
            })
        );
    }

    #[test]
    fn groups_by_cpus_keep_list_order_and_decided_cases_stay_out() {
        let mut two = meta("t", "two");
        two.requires.cpus = 2;
        let mut nsim = meta("n", "nsim");
        nsim.requires.kconfig = vec!["NETDEVSIM".into()];
        let cases = vec![meta("a", "x"), two, nsim, meta("b", "y")];
        let config = KernelConfig::parse("/c", "CONFIG_EPOLL=y\n");
        let s = Schedule::new(&cases, Some(&config), |m| m.requires.cpus.max(1));
        assert_eq!(s.decided.iter().map(|(p, _)| *p).collect::<Vec<_>>(), [2]);
        assert_eq!(s.groups, [Group { cpus: 1, cases: vec![0, 3] }, Group { cpus: 2, cases: vec![1] }]);
        assert_eq!(s.to_run(), 3);
        let unknown = Schedule::new(&cases, None, |_| 1);
        assert_eq!((unknown.decided.len(), unknown.to_run()), (0, 4), "without a config every case runs");
    }

    #[test]
    fn only_a_no_rules_a_case_out_and_only_in_later_groups() {
        let mut spin = meta("napi_threaded", "busy_poll_spin");
        spin.requires.probes = vec!["napi_threaded".into(), "napi_threaded_busy_poll".into()];
        spin.requires.cpus = 2;
        assert_eq!(probe_gap(&spin, &answers(&[])), None, "unanswered probes decide nothing");
        let unknown = answers(&[("napi_threaded_busy_poll", ProbeAnswer::Unknown("EPERM".into()))]);
        assert_eq!(probe_gap(&spin, &unknown), None, "an unknown answer runs the case");
        let no = answers(&[
            ("napi_threaded", ProbeAnswer::Yes),
            ("napi_threaded_busy_poll", ProbeAnswer::No("ERANGE".into())),
        ]);
        assert_eq!(
            probe_gap(&spin, &no),
            Some(Outcome::absent(
                Feature::ThreadedBusyPoll,
                "ERANGE (probe napi_threaded_busy_poll, answered by a guest of this kernel)"
            ))
        );
        let cases = vec![meta("a", "x"), spin];
        let mut s = Schedule::new(&cases, None, |m| m.requires.cpus.max(1));
        assert!(s.drop_by_probes(2, &cases, &no).is_empty(), "groups already run are left alone");
        let dropped = s.drop_by_probes(1, &cases, &no);
        assert_eq!(dropped.iter().map(|(p, _)| *p).collect::<Vec<_>>(), [1]);
        assert_eq!(s.to_run(), 1);
    }
}
