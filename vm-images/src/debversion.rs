//! Debian version strings: dpkg's ordering (`~` before everything) and the upstream part.

use std::cmp::Ordering;

/// Splits `[epoch:]upstream[-revision]` into its three parts (epoch 0 when absent).
fn split(v: &str) -> (u64, &str, &str) {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (e.parse().unwrap_or(0), rest),
        _ => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((up, rev)) => (epoch, up, rev),
        None => (epoch, rest, ""),
    }
}

/// The upstream part of a Debian version: `1:6.1.176-1` → `6.1.176`, `7.3~rc7-1~exp1` → `7.3~rc7`.
pub fn upstream(v: &str) -> &str {
    split(v).1
}

/// dpkg's weight of one non-digit character: `~` lowest, end of string next, letters, then the rest.
fn weight(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// Compares one upstream or revision part the way dpkg's `verrevcmp` does.
fn compare_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Non-digit prefix, character by character.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ca = a.get(i).copied().filter(|c| !c.is_ascii_digit());
            let cb = b.get(j).copied().filter(|c| !c.is_ascii_digit());
            let (wa, wb) = (weight(ca), weight(cb));
            if wa != wb {
                return wa.cmp(&wb);
            }
            if ca.is_some() {
                i += 1;
            }
            if cb.is_some() {
                j += 1;
            }
        }
        // Digit run, compared numerically without overflow: skip zeros, then length, then bytes.
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let (da, db) = (&a[si..i], &b[sj..j]);
        let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Compares two Debian versions in dpkg order.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb).then_with(|| compare_part(ua, ub)).then_with(|| compare_part(ra, rb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("7.3.4-1~bpo13+1", "7.3~rc7-1~exp1", Ordering::Greater)]
    #[case("7.3~rc7-1", "7.3-1", Ordering::Less)]
    #[case("1.0~", "1.0", Ordering::Less)]
    #[case("1.0~~", "1.0~", Ordering::Less)]
    #[case("1.0", "1.0a", Ordering::Less)]
    #[case("1.0a", "1.0+", Ordering::Less)]
    #[case("6.19.14-1~bpo13+1", "7.0.4-1~bpo13+1", Ordering::Less)]
    #[case("6.1.176-1", "6.1.99-1", Ordering::Greater)]
    #[case("6.12.107-1", "6.12.107-1", Ordering::Equal)]
    #[case("1:1.0", "2.0", Ordering::Greater)]
    #[case("1.0-1", "1.0-1+b1", Ordering::Less)]
    #[case("7.3.4-1~bpo13+1", "7.3.4-1", Ordering::Less)]
    #[case("1.007", "1.7", Ordering::Equal)]
    #[case("99999999999999999999999", "1", Ordering::Greater)]
    fn orders_like_dpkg(#[case] a: &str, #[case] b: &str, #[case] want: Ordering) {
        assert_eq!(compare(a, b), want);
        assert_eq!(compare(b, a), want.reverse());
    }

    #[rstest]
    #[case("6.1.176-1", "6.1.176")]
    #[case("7.3~rc7-1~exp1", "7.3~rc7")]
    #[case("1:2.3-4-5", "2.3-4")]
    #[case("2.3", "2.3")]
    fn upstream_part(#[case] v: &str, #[case] want: &str) {
        assert_eq!(upstream(v), want);
    }
}
