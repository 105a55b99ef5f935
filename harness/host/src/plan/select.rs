//! Choosing which cases run: name filters, exact matches, and suggestions for typos.

use pollcheck_proto::CaseMeta;

/// Cases whose full name contains any of `filters` (all cases when there are none), or equals
/// one of them when `exact`. Hidden cases (the harness's selftests, benchmarks) need a filter
/// that mentions their suite.
pub fn select<'a>(cases: &'a [CaseMeta], filters: &[String], skip: &[String], exact: bool) -> Vec<&'a CaseMeta> {
    cases
        .iter()
        .filter(|c| !c.hidden || filters.iter().any(|f| f.contains(&c.id.suite)))
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
        .filter(|c| !c.hidden)
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
    use crate::plan::tests::meta;

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
        let mut hang = meta("selftest", "hang");
        hang.hidden = true;
        let cases = vec![meta("busy_poll", "params_pad"), hang];
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
