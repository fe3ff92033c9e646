//! A progress bar for long compilations, shown only on a terminal and only
//! for modules big enough to take a while.

use std::io::IsTerminal;
use std::sync::OnceLock;

use indicatif::{ProgressBar, ProgressStyle};

/// Modules with fewer functions than this compile too fast to need a bar.
const MIN_FUNCTIONS: usize = 2000;

pub struct Progress {
    bar: OnceLock<ProgressBar>,
    label: &'static str,
    enabled: bool,
}

impl Progress {
    pub fn new(label: &'static str) -> Progress {
        Progress {
            bar: OnceLock::new(),
            label,
            enabled: std::io::stderr().is_terminal(),
        }
    }

    /// Called from worker threads as functions finish.
    pub fn update(&self, done: usize, total: usize) {
        if !self.enabled || total < MIN_FUNCTIONS {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} functions ({elapsed})")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(self.label);
            bar
        });
        bar.set_position(done as u64);
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}
