//! Declaring a case: one builder for every suite, with typed variants handed to the case (as
//! kselftest's FIXTURE_VARIANT), and the metadata the host plans with.

use crate::Ctx;
use pollcheck_proto::{CaseId, CaseMeta, Feature, Requires};
use std::sync::Arc;
use std::time::Duration;

/// How a case stops early. Returned through `?` from the assertion helpers on [`Ctx`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A fatal assertion failed (already recorded as a failed check).
    Failed,
    /// The case cannot run here: `feature` is absent (the reason says how that was
    /// established), or, with `None`, this guest cannot run it (too few CPUs, one queue).
    Skipped { feature: Option<Feature>, reason: String },
    /// Something the case needs could not be set up for a reason other than a missing feature.
    Setup { step: String, error: String },
}

pub type CaseResult = Result<(), Stop>;

type Run = Arc<dyn Fn(&mut Ctx<'_>) -> CaseResult + Send + Sync>;

/// One runnable case: its metadata and the function that runs it (its variant bound in).
#[derive(Clone)]
pub struct Case {
    pub meta: CaseMeta,
    run: Run,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case").field("id", &self.meta.id).finish_non_exhaustive()
    }
}

/// A case variant (a topology, an event source): its name in the case id, and what it adds to
/// the case's metadata.
pub trait Variant: Copy + Send + Sync + 'static {
    fn name(self) -> &'static str;
    /// Options, the test network or modules this variant needs besides the case's own.
    fn apply(self, _meta: &mut CaseMeta) {}
}

/// Default limit of one run of a case (before the accelerator's slowdown).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

type Apply = Arc<dyn Fn(&mut CaseMeta) + Send + Sync>;

/// Builds one case, or one per variant. Created by [`Case::new`] or [`Case::with_variants`].
#[must_use = "a case builder does nothing until `build` or `collect`"]
pub struct CaseBuilder {
    template: CaseMeta,
    instances: Vec<(Option<&'static str>, Option<Apply>, Run)>,
}

impl std::fmt::Debug for CaseBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseBuilder").field("id", &self.template.id).field("variants", &self.instances.len()).finish()
    }
}

impl Case {
    /// A case without variants. Returns its builder (the shape every suite declares cases in).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(suite: &str, name: &str, summary: &str, run: fn(&mut Ctx<'_>) -> CaseResult) -> CaseBuilder {
        let run: Run = Arc::new(run);
        CaseBuilder { template: template(suite, name, summary), instances: vec![(None, None, run)] }
    }

    /// One case per variant, named `suite::name.<variant>`; `run` is handed its variant.
    pub fn with_variants<V: Variant>(
        suite: &str,
        name: &str,
        summary: &str,
        variants: &[V],
        run: fn(&mut Ctx<'_>, V) -> CaseResult,
    ) -> CaseBuilder {
        let instances = variants
            .iter()
            .map(|&v| {
                let run: Run = Arc::new(move |ctx: &mut Ctx<'_>| run(ctx, v));
                let apply: Apply = Arc::new(move |meta: &mut CaseMeta| v.apply(meta));
                (Some(v.name()), Some(apply), run)
            })
            .collect();
        CaseBuilder { template: template(suite, name, summary), instances }
    }

    /// Run the case (in the forked child).
    pub fn run(&self, ctx: &mut Ctx<'_>) -> CaseResult {
        (self.run)(ctx)
    }
}

fn template(suite: &str, name: &str, summary: &str) -> CaseMeta {
    CaseMeta {
        id: CaseId::new(suite, name),
        summary: summary.to_owned(),
        requires: Requires::default(),
        timeout_ms: DEFAULT_TIMEOUT.as_millis() as u64,
        mutates_global: false,
        hidden: false,
        features: Vec::new(),
    }
}

fn push_new(list: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for item in items {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

impl CaseBuilder {
    /// The kernel features the case checks; their options join the case's required options.
    pub fn features(mut self, features: &[Feature]) -> Self {
        for &f in features {
            if !self.template.features.contains(&f) {
                self.template.features.push(f);
            }
            push_new(&mut self.template.requires.kconfig, f.promise().kconfig.iter().map(|s| (*s).to_owned()));
        }
        self
    }

    /// Kconfig symbols (without `CONFIG_`) needed besides those of its features.
    pub fn kconfig(mut self, symbols: &[&str]) -> Self {
        push_new(&mut self.template.requires.kconfig, symbols.iter().map(|s| (*s).to_owned()));
        self
    }

    /// Guest CPUs the case needs (it runs in a guest of its own shape).
    pub fn cpus(mut self, n: u32) -> Self {
        self.template.requires.cpus = n;
        self
    }

    /// Limit of one run, before the accelerator's slowdown.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.template.timeout_ms = limit.as_millis() as u64;
        self
    }

    /// Agent probes that must answer yes (a guest that answered no spares the others a boot).
    pub fn probes(mut self, names: &[&str]) -> Self {
        push_new(&mut self.template.requires.probes, names.iter().map(|s| (*s).to_owned()));
        self
    }

    /// Modules to load in the guest, when the kernel has them as modules.
    pub fn modules(mut self, names: &[&str]) -> Self {
        push_new(&mut self.template.requires.modules, names.iter().map(|s| (*s).to_owned()));
        self
    }

    /// The case needs the guest's test network (virtio-net NICs).
    pub fn network(mut self) -> Self {
        self.template.requires.network = true;
        self
    }

    /// The case changes guest-wide state (sysctls, NAPI settings) and restores it itself: when it
    /// ends without its cleanup having surely run, the host boots a fresh guest.
    pub fn mutates_global(mut self) -> Self {
        self.template.mutates_global = true;
        self
    }

    /// Run only when a filter names the suite.
    pub fn hidden(mut self) -> Self {
        self.template.hidden = true;
        self
    }

    /// The cases: one, or one per variant.
    pub fn build(self) -> Vec<Case> {
        let template = self.template;
        self.instances
            .into_iter()
            .map(|(variant, apply, run)| {
                let mut meta = template.clone();
                if let Some(v) = variant {
                    meta.id = meta.id.with_variant(v);
                }
                if let Some(apply) = apply {
                    apply(&mut meta);
                }
                Case { meta, run }
            })
            .collect()
    }
}

/// Every case of several builders, in order.
pub fn collect(builders: impl IntoIterator<Item = CaseBuilder>) -> Vec<Case> {
    builders.into_iter().flat_map(CaseBuilder::build).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Net {
        A,
        B,
    }

    impl Variant for Net {
        fn name(self) -> &'static str {
            match self {
                Net::A => "a",
                Net::B => "b",
            }
        }

        fn apply(self, meta: &mut CaseMeta) {
            if self == Net::A {
                meta.requires.network = true;
            }
        }
    }

    fn noop(_: &mut Ctx<'_>) -> CaseResult {
        Ok(())
    }

    fn noop_v(_: &mut Ctx<'_>, _: Net) -> CaseResult {
        Ok(())
    }

    #[test]
    fn one_case_per_variant_with_the_variants_own_needs() {
        let cases = Case::with_variants("s", "c", "sum", &[Net::A, Net::B], noop_v)
            .features(&[Feature::EpollParams])
            .kconfig(&["NET_RX_BUSY_POLL", "NET"])
            .cpus(2)
            .timeout(Duration::from_secs(30))
            .mutates_global()
            .build();
        let ids: Vec<String> = cases.iter().map(|c| c.meta.id.to_string()).collect();
        assert_eq!(ids, ["s::c.a", "s::c.b"]);
        let m = &cases[0].meta;
        assert_eq!(m.requires.kconfig, ["EPOLL", "NET_RX_BUSY_POLL", "NET"], "feature options first, no repeats");
        assert_eq!((m.requires.cpus, m.timeout_ms, m.mutates_global), (2, 30_000, true));
        assert_eq!(m.features, [Feature::EpollParams]);
        assert!(cases[0].meta.requires.network && !cases[1].meta.requires.network);
    }

    #[test]
    fn plain_cases_keep_their_name_and_defaults() {
        let cases = collect([Case::new("s", "one", "x", noop), Case::new("s", "two", "y", noop).hidden()]);
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].meta.id.to_string(), "s::one");
        assert_eq!(cases[0].meta.timeout_ms, 10_000);
        assert!(!cases[0].meta.hidden && cases[1].meta.hidden && !cases[0].meta.mutates_global);
    }
}
