//! `pollcheck bench modes`: the IRQ suspension and threaded busy-poll letters' comparison of
//! packet-delivery modes, reproduced in the guest (the modesbench suite): with `--rates auto`
//! a short base-mode ramp on the first kernel finds the saturation rate, then each kernel runs
//! every mode at fractions of it, one guest at a time. Writes `modes.md`, `modes.json` and
//! `modes.html` to `<artifacts>/modes-<id>/` (each kernel's own run directory inside it) and
//! prints the Markdown. A report, not a test: exits 0 unless a mode's run itself failed.

use super::guest_args::GuestArgs;
use anyhow::Context;
use clap::Args;
use pollcheck::display::{Detail, LiveDisplay};
use pollcheck::modes::sweep::{self, Rates};
use pollcheck::modes::{self, html, table, KernelModes, ModeStatus, ModesReport, Saturation};
use pollcheck::session::{self, SessionConfig};
use pollcheck::{HostError, Workspace};
use pollcheck_images::KernelImage;
use pollcheck_proto::modes::ModesParams;
use pollcheck_proto::CaseMeta;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct ModesBenchArgs {
    /// Kernels, side by side in one table and plot (comma-separated or repeated).
    #[arg(long, short, default_value = "default", value_delimiter = ',')]
    kernel: Vec<String>,
    /// Modes: base, defer{10,20,50,200}, napibusy, fullbusy, suspend{10,20,50,200}, threaded,
    /// so_busy_poll, so_busy_poll_thread.
    #[arg(long, value_delimiter = ',', default_values_t = sweep::DEFAULT_MODES.map(str::to_owned))]
    modes: Vec<String>,
    /// Offered request rates (`500,1k,2k`), or `auto`: 20/40/60/80 % of the saturation rate a
    /// short ramp finds.
    #[arg(long, default_value = "auto")]
    rates: String,
    /// The server's processing time per request (spinning), µs.
    #[arg(long, default_value_t = 0)]
    delay_us: u32,
    /// Seconds measured per rate (after a warm-up of a fifth of it): more is more precise.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Where the modes-<id> directory goes (default: target/pollcheck in the workspace).
    #[arg(long)]
    artifacts: Option<PathBuf>,
    #[command(flatten)]
    guest: GuestArgs,
}

/// What every session of the command shares.
struct Bench<'a> {
    ws: &'a Workspace,
    guest: &'a GuestArgs,
    dir: PathBuf,
    display: &'a LiveDisplay,
}

impl Bench<'_> {
    /// One session of `cases` on `kernel` with `params`; one guest at a time unless --jobs says.
    fn run(&self, kernel: KernelImage, cases: &[CaseMeta], params: &ModesParams) -> anyhow::Result<KernelModes> {
        let mut cfg = self.guest.apply(SessionConfig::new(kernel, self.ws));
        cfg.jobs = Some(self.guest.jobs.unwrap_or(1));
        cfg.artifacts_root = self.dir.clone();
        cfg.params = Some(serde_json::to_value(params)?);
        cfg.validate()?;
        let r = session::run(self.ws, &cfg, cases, self.display)?;
        let names: Vec<String> = cases.iter().filter_map(|c| c.id.variant.clone()).collect();
        Ok(modes::collect(&r.report, &r.artifacts.path().display().to_string(), &names))
    }

    /// The ramp in base mode on `kernel`: the saturation rate and the ramp's points.
    fn saturate(&self, kernel: KernelImage, delay_us: u32) -> anyhow::Result<Saturation> {
        let p = sweep::ramp_params(delay_us);
        let cases = sweep::mode_cases(&self.ws.cases, &["base".to_owned()], sweep::case_timeout_ms(&p))?;
        let spec = kernel.spec.clone();
        let k = self.run(kernel, &cases, &p)?;
        let run = k.modes.first().context("the ramp has no record")?;
        let points = match &run.status {
            ModeStatus::Measured { points, .. } => points.clone(),
            ModeStatus::Unavailable { reason } | ModeStatus::Failed { reason } => {
                anyhow::bail!("the saturation ramp on {spec} did not run: {reason} (pass --rates to skip it)")
            }
        };
        let rate = sweep::saturation(&points).with_context(|| format!("the ramp on {spec} got no reply"))?;
        eprintln!("pollcheck: saturation on {spec}: {rate:.0} replies/s ({} ramp steps)", points.len());
        Ok(Saturation { rate, kernel: spec, mode: "base".into(), points })
    }
}

pub fn bench_modes(args: ModesBenchArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    args.guest.validate()?;
    let rates = sweep::parse_rates(&args.rates)?;
    let window_ms = sweep::window_ms(args.duration)?;
    let ws = Workspace::open()?;
    ws.qemu()?;
    // Unknown modes are refused before any kernel is fetched or booted.
    sweep::mode_cases(&ws.cases, &args.modes, 0)?;
    let images = args.kernel.iter().map(|s| ws.kernel(s, None)).collect::<Result<Vec<_>, HostError>>()?;
    let root = args.artifacts.clone().unwrap_or_else(|| ws.artifacts_root.clone());
    let dir = root.join(format!("modes-{}", pollcheck::report::new_run_id()));
    std::fs::create_dir_all(&dir).map_err(|source| HostError::Io { what: "modes dir", path: dir.clone(), source })?;
    let display = LiveDisplay::new(Detail::Cases, images.len() > 1);
    let bench = Bench { ws: &ws, guest: &args.guest, dir: dir.clone(), display: &display };
    let (rates, labels, saturation) = match rates {
        Rates::Given(r) => (r.clone(), sweep::given_labels(&r), None),
        Rates::Auto => {
            let s = bench.saturate(images[0].clone(), args.delay_us)?;
            let (r, l) = sweep::fractions_of(s.rate);
            (r, l, Some(s))
        }
    };
    let params = sweep::sweep_params(rates.clone(), window_ms, args.delay_us);
    let cases = sweep::mode_cases(&ws.cases, &args.modes, sweep::case_timeout_ms(&params))?;
    let mut kernels = Vec::new();
    for image in images {
        kernels.push(bench.run(image, &cases, &params)?);
    }
    display.finish();
    let report = ModesReport {
        kernels,
        rates,
        labels,
        saturation,
        window_ms,
        warmup_ms: params.warmup_ms,
        delay_us: args.delay_us,
        wall_ms: started.elapsed().as_millis() as u64,
    };
    write_all(&dir, &report)?;
    out!("{}", table::markdown(&report));
    eprintln!("pollcheck: bench modes in {:.0} s; {}/modes.html", started.elapsed().as_secs_f64(), dir.display());
    let failed = report.kernels.iter().flat_map(|k| &k.modes).any(|m| matches!(m.status, ModeStatus::Failed { .. }));
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn write_all(dir: &Path, r: &ModesReport) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(r)? + "\n";
    for (name, text) in [("modes.md", table::markdown(r)), ("modes.json", json), ("modes.html", html::html(r))] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| HostError::Io { what: "modes report", path, source })?;
    }
    Ok(())
}
