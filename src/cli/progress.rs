//! A terminal progress bar that receives job progress (hidden when stderr is no terminal).

use faceemo_jobs::{ProgressSink, ProgressUpdate};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws job progress on stderr.
pub struct TerminalProgress {
    bar: ProgressBar,
}

impl TerminalProgress {
    /// A bar counting bytes, or a hidden one when `quiet`.
    pub fn bytes(quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        };
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} {msg:40!} [{bar:30}] {bytes}/{total_bytes} ({eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Self { bar }
    }

    /// A bar counting items (images, batches), or a hidden one when `quiet`.
    pub fn count(quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        };
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {msg:20!} [{bar:30}] {pos}/{len} ({eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Self { bar }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl ProgressSink for TerminalProgress {
    fn report(&self, update: ProgressUpdate) {
        if update.total > 0 {
            self.bar.set_length(update.total);
        }
        self.bar.set_position(update.done);
        self.bar.set_message(update.stage);
    }
}
