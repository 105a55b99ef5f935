//! Choosing which cases run: name filters, exact matches, and suggestions for typos.

use pollcheck_images::KernelConfig;
use pollcheck_proto::CaseMeta;
use std::collections::BTreeMap;

/// Suites that run only when a filter names them: the harness's own misbehaving cases, and the
/// measurements `pollcheck bench` runs.
pub const HIDDEN_SUITES: &[&str] = &["selftest", "netbench", "userpollbench"];

/// Cases whose full name contains any of `filters` (all cases when there are none), or equals
/// one of them when `exact`. Hidden suites need a filter that mentions them.
pub fn select<'a>(cases: &'a [CaseMeta], filters: &[String], skip: &[String], exact: bool) -> Vec<&'a CaseMeta> {
    cases
        .iter()
        .filter(|c| !HIDDEN_SUITES.contains(&c.id.suite.as_str()) || filters.iter().any(|f| f.contains(&c.id.suite)))
        .filter(|c| {
            let name = c.id.to_string();
            let hit = filters.is_empty()
                || filters.iter().any(|f| if exact { &name == f } else { name.contains(f.as_str()) });
            let skipped = skip.iter().any(|s| if exact { &name == s } else { name.contains(s.as_str()) });
            hit && !skipped
        })
        .collect()
}

/// [`select`], or the error naming the filter and the closest case when nothing matches.
pub fn select_some(cases: &[CaseMeta], filters: &[String], exact: bool) -> Result<Vec<CaseMeta>, crate::HostError> {
    let selected: Vec<CaseMeta> = select(cases, filters, &[], exact).into_iter().cloned().collect();
    if !selected.is_empty() {
        return Ok(selected);
    }
    let hint =
        filters.first().and_then(|f| closest(cases, f)).map(|c| format!("; did you mean {c}?")).unwrap_or_default();
    Err(crate::HostError::NoCaseMatches { filter: filters.join(" "), hint })
}

/// Why `meta` cannot run on a kernel built with `config`, if it can't: the options it lacks.
/// Decided on the host, so such cases are reported as Skip without booting.
pub fn config_gap(meta: &CaseMeta, config: &KernelConfig) -> Option<String> {
    let missing = config.missing(&meta.requires.kconfig);
    (!missing.is_empty())
        .then(|| format!("the kernel's config lacks {} (read from {})", missing.join(", "), config.path().display()))
}

/// Why `meta` cannot run, going by the answers an earlier guest of the same kernel gave to the
/// agent's probes: the first required probe that answered something other than "yes". A probe
/// the agent did not answer decides nothing (the case runs and judges for itself).
pub fn probe_gap(meta: &CaseMeta, answers: &BTreeMap<String, String>) -> Option<String> {
    meta.requires.probes.iter().find_map(|name| {
        let answer = answers.get(name)?;
        (answer != "yes").then(|| {
            let why = answer.strip_prefix("no: ").unwrap_or(answer);
            format!("{why} (probe {name}, answered by a guest of this kernel)")
        })
    })
}

/// The case name closest to `wanted` (by edit distance), for "did you mean" hints.
pub fn closest(cases: &[CaseMeta], wanted: &str) -> Option<String> {
    // Compare with the whole name and with the part after `suite::`, whichever is nearer.
    let distance = |c: &CaseMeta| {
        let full = c.id.to_string();
        let short = full.split_once("::").map(|(_, rest)| rest.to_owned()).unwrap_or_default();
        let d = edit_distance(&full, wanted).min(edit_distance(&short, wanted));
        (d, full.len().max(wanted.len()).min(short.len().max(wanted.len())))
    };
    cases
        .iter()
        .filter(|c| !HIDDEN_SUITES.contains(&c.id.suite.as_str()))
        .min_by_key(|c| distance(c).0)
        .filter(|c| {
            let (d, len) = distance(c);
            d <= len / 3
        })
        .map(|c| c.id.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollcheck_proto::{CaseId, Requires};

    fn meta(s: &str, c: &str) -> CaseMeta {
        CaseMeta {
            id: CaseId::new(s, c),
            summary: String::new(),
            requires: Requires::default(),
            timeout_ms: 1,
            mutates_global: false,
        }
    }

    #[test]
    fn config_gap_names_missing_options() {
        let mut c = meta("busy_poll", "params_pad");
        c.requires.kconfig = vec!["EPOLL".into(), "NET_RX_BUSY_POLL".into()];
        let with = KernelConfig::parse("/k/config", "CONFIG_EPOLL=y\nCONFIG_NET_RX_BUSY_POLL=y\n");
        assert_eq!(config_gap(&c, &with), None);
        let without = KernelConfig::parse("/k/config", "CONFIG_EPOLL=y\n# CONFIG_NET_RX_BUSY_POLL is not set\n");
        assert_eq!(
            config_gap(&c, &without).as_deref(),
            Some("the kernel's config lacks CONFIG_NET_RX_BUSY_POLL (read from /k/config)")
        );
    }

    #[test]
    fn probe_gap_uses_only_answers_other_than_yes() {
        let mut c = meta("napi_threaded", "busy_poll_spin");
        c.requires.probes = vec!["napi_threaded".into(), "napi_threaded_busy_poll".into()];
        let answers = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        assert_eq!(probe_gap(&c, &answers(&[])), None, "unanswered probes decide nothing");
        assert_eq!(probe_gap(&c, &answers(&[("napi_threaded", "yes"), ("napi_threaded_busy_poll", "yes")])), None);
        assert_eq!(
            probe_gap(&c, &answers(&[("napi_threaded", "yes"), ("napi_threaded_busy_poll", "no: ERANGE")])).as_deref(),
            Some("ERANGE (probe napi_threaded_busy_poll, answered by a guest of this kernel)")
        );
        assert!(probe_gap(&c, &answers(&[("napi_threaded", "no: absent"), ("napi_threaded_busy_poll", "no: x")]))
            .is_some_and(|r| r.starts_with("absent (probe napi_threaded,")));
        assert_eq!(probe_gap(&meta("a", "b"), &answers(&[("napi_threaded", "no: absent")])), None);
    }

    #[test]
    fn filters_by_substring_exact_and_skip() {
        let cases =
            vec![meta("busy_poll", "params_pad"), meta("busy_poll", "params_defaults"), meta("exclusive", "wake_one")];
        assert_eq!(select(&cases, &[], &[], false).len(), 3);
        assert_eq!(select(&cases, &["busy_poll".into()], &[], false).len(), 2);
        assert_eq!(select(&cases, &["busy_poll::params_pad".into()], &[], true).len(), 1);
        assert_eq!(select(&cases, &["busy_poll".into()], &["pad".into()], false).len(), 1);
    }

    #[test]
    fn hidden_suites_need_naming() {
        let cases = vec![meta("busy_poll", "params_pad"), meta("selftest", "hang")];
        assert_eq!(select(&cases, &[], &[], false).len(), 1);
        assert_eq!(select(&cases, &["selftest::hang".into()], &[], true).len(), 1);
        assert_eq!(select(&cases, &["selftest".into()], &[], false).len(), 1);
    }

    #[test]
    fn suggests_closest_name() {
        let cases = vec![meta("busy_poll", "params_pad"), meta("exclusive", "wake_one")];
        assert_eq!(closest(&cases, "busy_poll::params_pda").as_deref(), Some("busy_poll::params_pad"));
        assert_eq!(closest(&cases, "params_pda").as_deref(), Some("busy_poll::params_pad"));
        assert_eq!(closest(&cases, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"), None);
    }
}
