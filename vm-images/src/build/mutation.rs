//! One-line mutants built one after another in a single tree: the base patch sets are applied
//! once, the object dir is configured once, and each mutant is applied, built incrementally
//! (ccache; only the files it touches recompile), saved under the same cache key a
//! `src:<version>+<sets>` request would use, and taken back out.

use std::path::{Path, PathBuf};

use super::error::BuildError;
use super::store::{self, BuiltKernel};
use super::{as_slices, configure, key, lock_builds, make_args, patch, read_all, run, source, tree, SourceSpec};

/// The file in a mutation tree naming the mutant applied right now (it is taken out before the
/// next build; one left behind by a killed run is taken out when the tree is opened).
const APPLIED: &str = ".pollcheck-mutant";

/// A tree for building mutants of one base (a Debian source version plus patch sets).
#[derive(Debug)]
pub struct MutationTree {
    tree: PathBuf,
    obj: PathBuf,
    source_id: String,
    base: Vec<PathBuf>,
    fragments: Vec<PathBuf>,
    cache_root: PathBuf,
}

impl MutationTree {
    /// The tree of `linux-source-<version>` with `base` applied and configured with `fragments`,
    /// made (minutes, the first time) or reused.
    pub fn open(
        version: &str,
        base: &[PathBuf],
        fragments: &[PathBuf],
        cache_root: &Path,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<Self, BuildError> {
        let _lock = lock_builds(cache_root, on_line)?;
        let src = source::resolve(&SourceSpec::DebianVersion(version.to_owned()), cache_root, on_line)?;
        let base_bytes = read_all(base)?;
        let mut inputs: Vec<&[u8]> = base_bytes.iter().map(Vec::as_slice).collect();
        inputs.push(src.id.as_bytes());
        let name = format!("linux-source-{version}+mutation-{}", key::patchset_key(&inputs));
        let dest = cache_root.join("src").join(name);
        let t = tree::patched_copy(&src.tree, &dest, base)?;
        let me = Self {
            obj: t.join(".obj-mutation"),
            tree: t,
            source_id: src.id,
            base: base.to_vec(),
            fragments: fragments.to_vec(),
            cache_root: cache_root.to_owned(),
        };
        me.take_back_leftover(on_line)?;
        me.configure_once(on_line)?;
        Ok(me)
    }

    /// The kernel with `mutant` on top of the base: from the cache, or built here.
    pub fn build(&self, mutant: &[PathBuf], on_line: &mut dyn FnMut(&str)) -> Result<BuiltKernel, BuildError> {
        let key = self.key(mutant)?;
        let entry = store::entry_dir(&self.cache_root, &key);
        if let Some(k) = store::load(&entry) {
            return Ok(k);
        }
        let _lock = lock_builds(&self.cache_root, on_line)?;
        let marker = self.tree.join(APPLIED);
        let listed: String = mutant.iter().map(|p| format!("{}\n", p.display())).collect();
        std::fs::write(&marker, listed).map_err(BuildError::io(&marker))?;
        let mut applied = Vec::new();
        let mut result = Ok(());
        for p in mutant {
            result = patch::apply(&self.tree, p);
            if result.is_err() {
                break;
            }
            applied.push(p.clone());
        }
        let built = result.and_then(|()| self.make(&key, on_line));
        for p in applied.iter().rev() {
            patch::revert(&self.tree, p)?;
        }
        let _ = std::fs::remove_file(&marker);
        built
    }

    /// The cache key `build()` would give base + `mutant` (so `src:7.2+<set>` finds it too).
    fn key(&self, mutant: &[PathBuf]) -> Result<String, BuildError> {
        let fragments = read_all(&self.fragments)?;
        let patches = read_all(&[self.base.clone(), mutant.to_vec()].concat())?;
        Ok(key::cache_key(&self.source_id, &as_slices(&fragments), &as_slices(&patches)))
    }

    fn make(&self, key: &str, on_line: &mut dyn FnMut(&str)) -> Result<BuiltKernel, BuildError> {
        let builds = self.cache_root.join("builds");
        std::fs::create_dir_all(&builds).map_err(BuildError::io(&builds))?;
        let log = builds.join(format!("{key}.log"));
        std::fs::write(&log, "").map_err(BuildError::io(&log))?;
        let mut runner =
            run::Runner { dir: self.tree.clone(), env: run::ccache_env(&self.cache_root), log: log.clone(), on_line };
        let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        runner.step("make", &make_args(&self.obj, &[&format!("-j{jobs}"), "bzImage"]))?;
        let built = store::save(&store::entry_dir(&self.cache_root, key), &self.obj, &log)?;
        let _ = std::fs::remove_file(&log);
        Ok(built)
    }

    fn configure_once(&self, on_line: &mut dyn FnMut(&str)) -> Result<(), BuildError> {
        let stamp = self.obj.join(".pollcheck-fragments");
        let want: String = read_all(&self.fragments)?.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
        if std::fs::read_to_string(&stamp).is_ok_and(|have| have == want) && self.obj.join(".config").is_file() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.obj).map_err(BuildError::io(&self.obj))?;
        let log = self.tree.join(".pollcheck-configure.log");
        let mut runner = run::Runner { dir: self.tree.clone(), env: run::ccache_env(&self.cache_root), log, on_line };
        configure(&mut runner, &self.obj, &self.fragments)?;
        std::fs::write(&stamp, want).map_err(BuildError::io(&stamp))
    }

    /// A mutant a killed run left applied is taken back out, so the tree is the base again.
    fn take_back_leftover(&self, on_line: &mut dyn FnMut(&str)) -> Result<(), BuildError> {
        let marker = self.tree.join(APPLIED);
        let Ok(listed) = std::fs::read_to_string(&marker) else { return Ok(()) };
        for p in listed.lines().rev().filter(|l| !l.is_empty()) {
            on_line(&format!("pollcheck: taking {p} (left applied by an earlier run) out of the mutation tree"));
            // A patch that was only partly applied may not revert cleanly; the next build says so.
            let _ = patch::revert(&self.tree, Path::new(p));
        }
        std::fs::remove_file(&marker).map_err(BuildError::io(&marker))
    }

    /// Where the tree is.
    pub fn path(&self) -> &Path {
        &self.tree
    }
}
