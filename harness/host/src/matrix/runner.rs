//! Runs every kernel's session at once, all taking guests from one pool of slots (as many as
//! the machine's CPUs and memory hold), so a kernel with few cases leaves its slots to the others.
//! Made with [`Slots::for_sessions`] for every kernel, they wait until each kernel is prepared (or
//! could not be) and then serve the kernels with the most work first.

use super::KernelRun;
use crate::session::{self, Observer, SessionConfig, Slots};
use crate::workspace::Workspace;
use pollcheck_images::KernelImage;
use pollcheck_proto::CaseMeta;
use std::sync::Mutex;

/// Runs `cases` on each kernel (`Err` = the kernel could not be prepared), with `config` making
/// each kernel's session config; `on_done` hears of each kernel as it finishes. Results come
/// back in the order given.
pub fn run_all(
    ws: &Workspace,
    kernels: Vec<(String, Result<KernelImage, String>)>,
    cases: &[CaseMeta],
    config: &(dyn Fn(KernelImage) -> SessionConfig + Sync),
    slots: &Slots,
    observer: &dyn Observer,
    on_done: &(dyn Fn(&KernelRun) + Sync),
) -> Vec<KernelRun> {
    let slots_out: Vec<Mutex<Option<KernelRun>>> = kernels.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for ((spec, kernel), out) in kernels.iter().zip(&slots_out) {
            scope.spawn(move || {
                let result = match kernel {
                    Err(e) => {
                        slots.arrival().arrive();
                        Err(e.clone())
                    }
                    Ok(k) => session::run_in(ws, &config(k.clone()), cases, observer, slots)
                        .map(|r| r.report)
                        .map_err(|e| e.to_string()),
                };
                let run = KernelRun { spec: spec.clone(), result };
                on_done(&run);
                *out.lock().unwrap_or_else(|p| p.into_inner()) = Some(run);
            });
        }
    });
    slots_out
        .into_iter()
        .zip(kernels)
        .map(|(slot, (spec, _))| {
            slot.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or(KernelRun { spec, result: Err("the thread running it stopped".into()) })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_that_could_not_be_prepared_is_reported_not_run() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = Workspace::for_tests(dir.path());
        let config = |k: KernelImage| SessionConfig::new(k, &ws);
        let kernels = vec![("6.5".to_owned(), Err("no Debian kernel matches 6.5".to_owned()))];
        let runs = run_all(&ws, kernels, &[], &config, &Slots::new(2), &session::Quiet, &|_| {});
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].result.as_ref().err().map(String::as_str), Some("no Debian kernel matches 6.5"));
    }
}
