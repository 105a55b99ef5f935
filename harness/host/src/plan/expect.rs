//! What a kernel promises: the features its release and config (or the patch sets its spec
//! names) bring, so that a promised feature found absent is a FAIL ("feature lost"), never a
//! Skip; and the failures a user declared known on it (XFAIL, with their reason).
//!
//! `--expect auto` (the default) derives the promises from the kernel; `--expect none` promises
//! nothing (every absence stays a Skip, as for a kernel whose version string cannot be trusted);
//! `--expect FILE` starts from either and adds or removes features and known failures:
//!
//! ```toml
//! auto = true                 # start from what release, config and spec promise (default)
//! release = "7.2"             # judge as this upstream release instead of the kernel's own
//! expect = ["userpoll"]       # promised besides
//! absent = ["irq-suspend"]    # known absent: their Skips stay Skips
//! [[known-failure]]
//! case = "busy_poll::scoping.virtio"   # a case name, or a prefix ending in `::` or `.`
//! reason = "our vendor patch moves busy polling into a work item"
//! ```

use crate::error::HostError;
use pollcheck_images::KernelConfig;
use pollcheck_proto::{CaseMeta, Check, Feature, Outcome, Severity, PROMISES};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the user asked to expect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ExpectChoice {
    #[default]
    Auto,
    None,
    File(PathBuf),
}

impl std::str::FromStr for ExpectChoice {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => ExpectChoice::Auto,
            "none" => ExpectChoice::None,
            path => ExpectChoice::File(PathBuf::from(path)),
        })
    }
}

/// The facts about a kernel that promises rest on.
#[derive(Debug, Clone, Copy)]
pub struct KernelFacts<'a> {
    /// `uname -r` (`6.12.107+deb13-cloud-amd64`, `7.2.13`).
    pub release: &'a str,
    pub config: Option<&'a KernelConfig>,
    /// Our patch sets the kernel was built with (from a `src:7.2+set` spec).
    pub patch_sets: &'a [String],
    /// The kernel comes with its modules (options built as `m` can be loaded).
    pub has_modules: bool,
}

/// A failure declared known on this kernel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KnownFailure {
    pub case: String,
    pub reason: String,
}

/// The promises and known failures of one kernel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expectations {
    /// Each promised feature with why it is promised.
    promised: BTreeMap<Feature, String>,
    known: Vec<KnownFailure>,
    /// One line for reports: how these expectations were made.
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    #[serde(default = "yes")]
    auto: bool,
    release: Option<String>,
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    absent: Vec<String>,
    #[serde(default)]
    known_failure: Vec<KnownFailure>,
}

fn yes() -> bool {
    true
}

impl Expectations {
    /// Builds the expectations `choice` asks for.
    pub fn new(choice: &ExpectChoice, facts: KernelFacts<'_>) -> Result<Self, HostError> {
        match choice {
            ExpectChoice::Auto => Ok(Self::auto(facts)),
            ExpectChoice::None => Ok(Self { source: "none (--expect none)".into(), ..Self::default() }),
            ExpectChoice::File(path) => Self::from_file(path, facts),
        }
    }

    /// The expectations `choice` asks for of `kernel` (its config read already, when known).
    pub fn of_kernel(
        choice: &ExpectChoice,
        kernel: &pollcheck_images::KernelImage,
        config: Option<&KernelConfig>,
    ) -> Result<Self, HostError> {
        let sets = patch_sets(&kernel.spec);
        let facts = KernelFacts {
            release: &kernel.release,
            config,
            patch_sets: &sets,
            has_modules: kernel.modules_dir.is_some(),
        };
        Self::new(choice, facts)
    }

    /// What the release, config and patch sets promise.
    pub fn auto(facts: KernelFacts<'_>) -> Self {
        let promised = PROMISES.iter().filter_map(|p| promise(p.feature, facts).map(|why| (p.feature, why))).collect();
        let config = if facts.config.is_some() { "its config" } else { "no config (release only)" };
        Self { promised, known: Vec::new(), source: format!("auto: release {}, {config}", facts.release) }
    }

    fn from_file(path: &Path, facts: KernelFacts<'_>) -> Result<Self, HostError> {
        let bad = |why: String| HostError::BadExpect { path: path.to_owned(), why };
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it ({e})")))?;
        let file: File = toml::from_str(&text).map_err(|e| bad(e.message().to_owned()))?;
        let feature = |name: &String| {
            Feature::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = PROMISES.iter().map(|p| p.name).collect();
                bad(format!("unknown feature `{name}`; features are: {}", names.join(", ")))
            })
        };
        let release = file.release.clone().unwrap_or_else(|| facts.release.to_owned());
        if upstream_release(&release).is_none() {
            return Err(bad(format!("release `{release}` is not a kernel version such as 7.2")));
        }
        let mut out = if file.auto { Self::auto(KernelFacts { release: &release, ..facts }) } else { Self::default() };
        for name in &file.expect {
            out.promised.insert(feature(name)?, format!("by {}", path.display()));
        }
        for name in &file.absent {
            out.promised.remove(&feature(name)?);
        }
        out.known = file.known_failure;
        out.source = format!("{} ({})", path.display(), if file.auto { "on top of auto" } else { "alone" });
        Ok(out)
    }

    /// Why `feature` is promised here, if it is.
    pub fn promise(&self, feature: Feature) -> Option<&str> {
        self.promised.get(&feature).map(String::as_str)
    }

    /// The known failure matching `case`, if any.
    pub fn known_failure(&self, case: &str) -> Option<&KnownFailure> {
        self.known.iter().find(|k| {
            k.case == case || ((k.case.ends_with("::") || k.case.ends_with('.')) && case.starts_with(&k.case))
        })
    }

    /// The outcome once this kernel's promises are applied: a Skip for a promised feature is a
    /// FAIL ("feature lost"); a failure declared known is an XFAIL with its reason.
    pub fn judge(&self, meta: &CaseMeta, outcome: Outcome) -> Outcome {
        let outcome = match outcome {
            Outcome::Skip { reason, feature: Some(f) } => match self.promise(f) {
                Some(why) => lost(f, why, &reason),
                None => Outcome::Skip { reason, feature: Some(f) },
            },
            other => other,
        };
        match (&outcome, self.known_failure(&meta.id.to_string())) {
            (Outcome::Fail { .. }, Some(k)) => Outcome::XFail { reason: k.reason.clone() },
            _ => outcome,
        }
    }

    /// One line per feature of `meta`: promised (and why) or not.
    pub fn describe(&self, meta: &CaseMeta) -> String {
        let parts: Vec<String> = meta
            .features
            .iter()
            .map(|&f| match self.promise(f) {
                Some(why) => format!("{f}: expected {why}"),
                None => format!("{f}: not expected"),
            })
            .collect();
        parts.join("; ")
    }
}

/// The patch sets a `src:7.2+set+…` spec names (none for other specs).
pub fn patch_sets(kernel_spec: &str) -> Vec<String> {
    use pollcheck_images::spec;
    match spec::Spec::parse(kernel_spec) {
        spec::Spec::Source(rest) => spec::SourceBuildSpec::parse(&rest).map(|s| s.sets).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The FAIL of a promised feature found absent.
fn lost(feature: Feature, why: &str, how: &str) -> Outcome {
    let check = Check {
        what: format!("feature lost: {} expected {why}", feature.promise().title),
        passed: false,
        severity: Severity::Assert,
        observed: how.to_owned(),
        location: "the kernel's expectations (pollcheck --expect)".to_owned(),
    };
    Outcome::Fail { checks: vec![check] }
}

/// Why `feature` is promised by these facts, if it is.
fn promise(feature: Feature, facts: KernelFacts<'_>) -> Option<String> {
    let p = feature.promise();
    if let Some(set) = p.patch_set {
        if facts.patch_sets.iter().any(|s| s == set) {
            return Some(format!("with the {set} patch set in the kernel's spec"));
        }
    }
    let (major, minor) = p.since?;
    let (have_major, have_minor) = upstream_release(facts.release)?;
    if (have_major, have_minor) < (major, minor) {
        return None;
    }
    if p.modular && facts.config.is_none() && !facts.has_modules {
        return None;
    }
    let mut options = Vec::new();
    for k in p.kconfig {
        match facts.config.map(|c| c.value(k)) {
            None => {}
            Some(Some("y")) => options.push(format!("CONFIG_{k}=y")),
            Some(Some("m")) if facts.has_modules => options.push(format!("CONFIG_{k}=m")),
            Some(_) => return None,
        }
    }
    let with = if options.is_empty() { String::new() } else { format!(" with {}", options.join(", ")) };
    Some(format!("since {major}.{minor}{with} (kernel {})", facts.release))
}

/// `(major, minor)` of a release string such as `6.12.107+deb13-cloud-amd64` or `7.2`.
pub fn upstream_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::meta;
    use pollcheck_proto::OutcomeKind;

    fn config(text: &str) -> KernelConfig {
        KernelConfig::parse("/k/config", text)
    }

    fn facts<'a>(release: &'a str, config: Option<&'a KernelConfig>, sets: &'a [String]) -> KernelFacts<'a> {
        KernelFacts { release, config, patch_sets: sets, has_modules: true }
    }

    const BUSY: &str =
        "CONFIG_EPOLL=y\nCONFIG_NET_RX_BUSY_POLL=y\nCONFIG_NET=y\nCONFIG_VIRTIO_NET=m\nCONFIG_VIRTIO_PCI=y\n";

    #[test]
    fn patch_sets_come_from_source_specs_only() {
        assert_eq!(patch_sets("src:7.2+userpoll+userpoll-m-x"), ["userpoll", "userpoll-m-x"]);
        assert!(patch_sets("src:7.2").is_empty() && patch_sets("7.3").is_empty());
    }

    #[test]
    fn releases_parse() {
        assert_eq!(upstream_release("6.12.107+deb13-cloud-amd64"), Some((6, 12)));
        assert_eq!(upstream_release("7.2.13"), Some((7, 2)));
        assert_eq!(upstream_release("7"), None);
    }

    #[test]
    fn release_and_config_promise_together() {
        let c = config(BUSY);
        let e = Expectations::auto(facts("7.2.13", Some(&c), &[]));
        assert_eq!(
            e.promise(Feature::EpollParams),
            Some("since 6.9 with CONFIG_EPOLL=y, CONFIG_NET_RX_BUSY_POLL=y (kernel 7.2.13)")
        );
        let old = Expectations::auto(facts("6.1.0-50-cloud-amd64", Some(&c), &[]));
        assert_eq!(old.promise(Feature::EpollParams), None, "6.1 predates it");
        let off = config("CONFIG_EPOLL=y\n# CONFIG_NET_RX_BUSY_POLL is not set\n");
        assert_eq!(Expectations::auto(facts("7.2.13", Some(&off), &[])).promise(Feature::EpollParams), None);
        assert!(Expectations::auto(facts("7.2.13", None, &[])).promise(Feature::EpollParams).is_some());
        let no_modules = KernelFacts { has_modules: false, ..facts("7.0.1", Some(&c), &[]) };
        assert_eq!(Expectations::auto(no_modules).promise(Feature::VirtioNet), None, "=m without modules");
        let bare = KernelFacts { has_modules: false, ..facts("7.0.13+deb13-cloud-amd64", None, &[]) };
        assert_eq!(Expectations::auto(bare).promise(Feature::VirtioNet), None, "a driver, neither config nor modules");
        assert!(
            Expectations::auto(bare).promise(Feature::EpollParams).is_some(),
            "the release alone promises the rest"
        );
        assert!(e.promise(Feature::Userpoll).is_none() && e.promise(Feature::EpollPolicy).is_none());
        let sets = vec!["userpoll".to_owned()];
        let patched = Expectations::auto(facts("7.2.13", Some(&c), &sets));
        assert_eq!(patched.promise(Feature::Userpoll), Some("with the userpoll patch set in the kernel's spec"));
    }

    #[test]
    fn a_promised_feature_found_absent_fails_and_a_known_failure_is_xfail() {
        let c = config(BUSY);
        let e = Expectations::auto(facts("7.2.13", Some(&c), &[]));
        let m = meta("busy_poll", "params_pad");
        let skip = Outcome::absent(Feature::EpollParams, "EPIOCGPARAMS answered ENOTTY");
        let Outcome::Fail { checks } = e.judge(&m, skip.clone()) else { panic!("not a fail") };
        assert_eq!(checks[0].what, "feature lost: per-epoll busy poll (EPIOCSPARAMS/EPIOCGPARAMS) expected since 6.9 with CONFIG_EPOLL=y, CONFIG_NET_RX_BUSY_POLL=y (kernel 7.2.13)");
        assert_eq!(checks[0].observed, "EPIOCGPARAMS answered ENOTTY");
        let old = Expectations::auto(facts("6.1.0", Some(&c), &[]));
        assert_eq!(old.judge(&m, skip.clone()), skip);
        let env = Outcome::not_here("one queue");
        assert_eq!(e.judge(&m, env.clone()), env, "a skip about this guest is no claim about the kernel");
        let none = Expectations::new(&ExpectChoice::None, facts("7.2.13", Some(&c), &[])).expect("none");
        assert_eq!(none.judge(&m, skip).kind(), OutcomeKind::Skip);
    }

    #[test]
    fn an_expect_file_adds_removes_and_declares_known_failures() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vendor.toml");
        std::fs::write(
            &path,
            "release = \"6.1\"\nexpect = [\"epoll-params\"]\nabsent = [\"epoll-exclusive\"]\n\
             [[known-failure]]\ncase = \"busy_poll::\"\nreason = \"vendor patch\"\n",
        )
        .expect("write");
        let c = config(BUSY);
        let e = Expectations::new(&ExpectChoice::File(path.clone()), facts("7.2.13", Some(&c), &[])).expect("loads");
        assert!(e.promise(Feature::EpollParams).is_some(), "added by the file");
        assert!(e.promise(Feature::EpollExclusive).is_none(), "removed by the file");
        assert!(e.promise(Feature::IrqSuspend).is_none(), "judged as 6.1");
        let failed = Outcome::Fail { checks: Vec::new() };
        assert_eq!(
            e.judge(&meta("busy_poll", "scoping"), failed.clone()),
            Outcome::XFail { reason: "vendor patch".into() }
        );
        assert_eq!(e.judge(&meta("exclusive", "wake_one"), failed.clone()), failed);
        std::fs::write(&path, "expect = [\"no-such\"]\n").expect("write");
        let err = Expectations::new(&ExpectChoice::File(path.clone()), facts("7.2", None, &[])).expect_err("bad");
        assert!(err.to_string().contains("unknown feature `no-such`; features are: epoll-params"), "{err}");
        std::fs::write(&path, "expct = []\n").expect("write");
        assert!(Expectations::new(&ExpectChoice::File(path), facts("7.2", None, &[])).is_err());
    }
}
