//! A private apt state (lists, sources, archives) under the cache, driven by apt-get / apt-cache.

use std::path::{Path, PathBuf};

use crate::control::{parse_stanzas, Stanza};
use crate::ImageError;

/// Suites searched for kernels, oldest first.
pub const SUITES: &[&str] = &["bookworm", "trixie", "trixie-backports", "sid", "experimental"];

/// The mirror URIs of `deb` lines in one-line sources.list text (options like `[arch=…]` skipped).
pub fn mirrors_from_list(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next()?.trim();
            let mut words = line.split_whitespace();
            if words.next()? != "deb" {
                return None;
            }
            let mut uri = words.next()?;
            if uri.starts_with('[') {
                // Options run up to the word that ends with ']'.
                while !uri.ends_with(']') {
                    uri = words.next()?;
                }
                uri = words.next()?;
            }
            let suite = words.next()?;
            suite.starts_with("bookworm").then(|| uri.to_string())
        })
        .collect()
}

/// The `URIs:` of deb822 entries (`*.sources`) whose `Suites` include bookworm.
pub fn mirrors_from_deb822(text: &str) -> Vec<String> {
    parse_stanzas(text)
        .into_iter()
        .filter(|s| s.get("Enabled").is_none_or(|e| e != "no"))
        .filter(|s| s.get("Types").is_some_and(|t| t.split_whitespace().any(|t| t == "deb")))
        .filter(|s| s.get("Suites").is_some_and(|t| t.split_whitespace().any(|t| t == "bookworm")))
        .filter_map(|s| s.get("URIs").and_then(|u| u.split_whitespace().next().map(String::from)))
        .collect()
}

/// The Debian mirror this machine is configured with, read from /etc/apt.
pub fn system_mirror() -> Result<String, ImageError> {
    let mut found = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut paths: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let Ok(text) = std::fs::read_to_string(&p) else { continue };
            match p.extension().and_then(|e| e.to_str()) {
                Some("sources") => found.extend(mirrors_from_deb822(&text)),
                Some("list") => found.extend(mirrors_from_list(&text)),
                _ => {}
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string("/etc/apt/sources.list") {
        found.extend(mirrors_from_list(&text));
    }
    found.into_iter().next().ok_or(ImageError::NoMirror)
}

/// The private sources.list: every suite of [`SUITES`], amd64 only, main only.
pub fn sources_list(mirror: &str) -> String {
    SUITES.iter().map(|s| format!("deb [arch=amd64] {mirror} {s} main\n")).collect()
}

/// The most telling line of apt's output: the cause under the first `Err:` line, else the last `E:` line.
pub fn failure_cause(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let under_err =
        lines.iter().position(|l| l.starts_with("Err:")).and_then(|i| lines.get(i + 1)).filter(|l| l.starts_with(' '));
    let last_e = lines.iter().rev().find(|l| l.starts_with("E:"));
    under_err.or(last_e).or(lines.last()).map(|l| l.trim().to_string()).unwrap_or_else(|| "no output".into())
}

/// Apt state rooted at `<cache>/apt`.
#[derive(Debug, Clone)]
pub struct Apt {
    root: PathBuf,
}

impl Apt {
    /// Prepares the directory tree and the sources.list for `mirror`.
    pub fn new(root: &Path, mirror: &str) -> Result<Apt, ImageError> {
        for sub in ["lists/partial", "etc/preferences.d", "cache/archives/partial"] {
            let d = root.join(sub);
            std::fs::create_dir_all(&d).map_err(ImageError::io(&d))?;
        }
        let list = root.join("etc/sources.list");
        let want = sources_list(mirror);
        if std::fs::read_to_string(&list).ok().as_deref() != Some(want.as_str()) {
            std::fs::write(&list, want).map_err(ImageError::io(&list))?;
        }
        Ok(Apt { root: root.to_path_buf() })
    }

    /// The `-o` options that point apt at the private state.
    pub fn options(&self) -> Vec<String> {
        let r = self.root.display();
        [
            format!("Dir::State::lists={r}/lists"),
            format!("Dir::Etc::sourcelist={r}/etc/sources.list"),
            "Dir::Etc::sourceparts=-".to_string(),
            format!("Dir::Etc::preferencesparts={r}/etc/preferences.d"),
            format!("Dir::Cache={r}/cache"),
            format!("Dir::Cache::archives={r}/cache/archives"),
            "Acquire::Languages=none".to_string(),
            "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false".to_string(),
            "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false".to_string(),
            "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false".to_string(),
            "APT::Sandbox::User=root".to_string(),
            "Acquire::Retries=1".to_string(),
        ]
        .into_iter()
        .flat_map(|o| ["-o".to_string(), o])
        .collect()
    }

    fn run(&self, program: &str, args: &[&str], dir: Option<&Path>) -> Result<String, ImageError> {
        let mut all = self.options();
        all.extend(args.iter().map(|s| s.to_string()));
        let mut expr = duct::cmd(program, &all).stdout_capture().stderr_capture().unchecked();
        if let Some(d) = dir {
            expr = expr.dir(d);
        }
        let command = format!("{program} {}", args.join(" "));
        let out = expr.run().map_err(|e| ImageError::Command { command: command.clone(), detail: e.to_string() })?;
        if !out.status.success() {
            // apt prints `Err:` progress lines on stdout and `E:` lines on stderr.
            let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            return Err(ImageError::Command { command, detail: failure_cause(&all) });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `apt-get update` of the private lists; any failed fetch is an error.
    pub fn update(&self) -> Result<(), ImageError> {
        self.run("apt-get", &["-q", "update", "--error-on=any"], None).map(drop)
    }

    /// Names of the packages matching the regex `pattern` (`apt-cache search --names-only`).
    pub fn search_names(&self, pattern: &str) -> Result<Vec<String>, ImageError> {
        let found = self.run("apt-cache", &["search", "--names-only", pattern], None)?;
        Ok(found.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect())
    }

    /// `apt-cache show` stanzas of every image/binary/modules/base package of the flavour.
    pub fn kernel_stanzas(&self) -> Result<Vec<Stanza>, ImageError> {
        let pattern = format!("^linux-(image|binary|modules|base)-.*{}$", crate::catalogue::FLAVOUR);
        let found = self.search_names(&pattern)?;
        let names: Vec<&str> = found.iter().map(String::as_str).filter(|n| !n.ends_with("-dbg")).collect();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec!["show"];
        args.extend(names);
        Ok(parse_stanzas(&self.run("apt-cache", &args, None)?))
    }

    /// `apt-get download pkg=version …` into `dir` (apt checks the index SHA256).
    pub fn download(&self, pins: &[String], dir: &Path) -> Result<(), ImageError> {
        let mut args = vec!["-q", "download"];
        args.extend(pins.iter().map(String::as_str));
        self.run("apt-get", &args, Some(dir)).map(drop)
    }

    /// Downloads one package of `size` bytes into `dir`, reporting its progress as the file grows
    /// (apt writes the .deb in place), then checks apt's exit like [`Apt::download`].
    pub fn download_watched(
        &self,
        pin: &str,
        size: u64,
        dir: &Path,
        progress: &dyn crate::Progress,
    ) -> Result<(), ImageError> {
        let name = pin.split('=').next().unwrap_or(pin);
        let before = deb_bytes(dir);
        let dir_owned = dir.to_path_buf();
        let pin_owned = [pin.to_string()];
        let this = self.clone();
        let worker = std::thread::spawn(move || this.download(&pin_owned, &dir_owned));
        while !worker.is_finished() {
            progress.transfer(name, deb_bytes(dir).saturating_sub(before).min(size), size);
            std::thread::sleep(std::time::Duration::from_millis(150));
        }
        let result = worker.join().unwrap_or_else(|_| {
            Err(ImageError::Command { command: format!("apt-get download {pin}"), detail: "thread panicked".into() })
        });
        if result.is_ok() {
            progress.transfer(name, size, size);
        }
        result
    }
}

/// Total size of the `.deb` files in `dir` (0 when it can't be read).
fn deb_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "deb"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_sources() {
        let text = "# c\ndeb http://mirror.invalid/debian bookworm main\n\
                    deb [arch=amd64 signed-by=/k.gpg] http://other.invalid/debian bookworm-updates main\n\
                    deb-src http://mirror.invalid/debian bookworm main\n\
                    deb http://sec.invalid/debian-security jammy main\n";
        assert_eq!(mirrors_from_list(text), ["http://mirror.invalid/debian", "http://other.invalid/debian"]);
    }

    #[test]
    fn deb822_sources() {
        let text = "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n\
                    Types: deb\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n";
        assert_eq!(mirrors_from_deb822(text), ["http://mirror.invalid/debian"]);
    }

    #[test]
    fn failure_cause_prefers_the_err_detail() {
        let err =
            "Err:1 http://mirror.invalid/debian bookworm InRelease\n  Temporary failure resolving 'mirror.invalid'\n\
                   W: Some index files failed to download.\nE: Some index files failed to download.\n";
        assert_eq!(failure_cause(err), "Temporary failure resolving 'mirror.invalid'");
        assert_eq!(failure_cause("E: one\nE: two\n"), "E: two");
        assert_eq!(failure_cause(""), "no output");
    }

    #[test]
    fn private_sources_list() {
        let s = sources_list("http://mirror.invalid/debian");
        assert_eq!(s.lines().count(), SUITES.len());
        assert!(s.starts_with("deb [arch=amd64] http://mirror.invalid/debian bookworm main\n"));
        assert!(s.contains(" experimental main\n"));
    }

    #[test]
    fn options_point_at_private_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        let apt = Apt::new(dir.path(), "http://mirror.invalid/debian").expect("apt");
        let opts = apt.options().join(" ");
        assert!(opts.contains(&format!("Dir::State::lists={}/lists", dir.path().display())));
        assert!(opts.contains("Dir::Etc::sourceparts=-"));
        assert!(dir.path().join("etc/sources.list").exists());
    }
}
