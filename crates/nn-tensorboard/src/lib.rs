//! TensorBoard event files for nn's training runs.
//!
//! A [`TensorBoard`] is an [`Observer`] of a run: after every epoch it writes one scalar per
//! monitored measure, tagged as the metrics file's history names it (`training_cost`,
//! `training_accuracy`, `evaluation_cost`, `evaluation_accuracy`; accuracies as fractions),
//! plus the learning rate (`eta`) and the epoch's training time (`seconds`), at step = the
//! epoch, and flushes the file. The run's options ([`RunOptions`]) are recorded as the hparams
//! plugin's hyper-parameters when the file is created, and how the run ended when it is
//! finished ([`TensorBoard::finish`]).
//!
//! Files are named as TensorFlow names them, `events.out.tfevents.<seconds>.<host>`, in the
//! run's directory; several runs share a parent directory as its subfolders
//! ([`TensorBoard::create`]), which `tensorboard --logdir PARENT` shows side by side. The runs of
//! a batch (a reproduction's, a search's) open theirs with [`TensorBoard::create_or_restart`],
//! so that the same batch run again restarts a run's series rather than refusing its folder.
//! [`Logged`] reads a run's files back as TensorBoard shows them.
//!
//! Event files are logs that TensorBoard reads while they grow, so they are appended to rather
//! than written atomically: each record is one write framed with checksums ([`record`]), and a
//! record cut short by a crash is one that readers recognise and skip.
//!
//! ```
//! use nn_core::{EpochRecord, Observer};
//! use nn_tensorboard::{Ending, TensorBoard};
//!
//! let logs = tempfile::tempdir()?;
//! let options = nn_train::RunOptions::default();
//! let mut board = TensorBoard::create(logs.path(), "book", &options)?;
//! board.epoch_done(&EpochRecord {
//!     epoch: 1,
//!     eta: 0.5,
//!     seconds: 2.5,
//!     training_cost: None,
//!     training_accuracy: None,
//!     evaluation_cost: None,
//!     evaluation_accuracy: Some(0.9512),
//! });
//! let file = board.finish(Ending::Finished)?;
//! assert!(file.starts_with(logs.path().join("book")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nn_core::{EpochRecord, Observer, TrainError};
use nn_train::{RunError, RunOptions};
use prost::Message;

mod hparams;
mod proto;
mod read;
pub mod record;

pub use read::Logged;

use proto::{Datum, Event, HParamsData, HParamsPluginData, Summary, Value, What};

/// What `file_version` an event file starts with: TensorFlow 2's, under which TensorBoard
/// drops earlier events only at a session's start.
const FILE_VERSION: &str = "brain.Event:2";

/// The prefix TensorBoard recognises event files by (it looks for `tfevents` in the name).
const FILE_PREFIX: &str = "events.out.tfevents.";

/// Event files tried in one directory within the same second before giving up.
const MAX_SAME_SECOND: usize = 1000;

/// Why event files cannot be created or written. Each message names the directory or file.
#[derive(Debug, thiserror::Error)]
pub enum TensorBoardError {
    /// The run's name is not one folder name.
    #[error("the run name {0:?} is not a folder name (give one name without `/`, `.` or `..`)")]
    RunName(String),
    /// The directory for the event files is an existing file.
    #[error("{}: this is a file; event files go in a directory", .0.display())]
    NotADirectory(PathBuf),
    /// The directory cannot be created or read.
    #[error("cannot use the directory {} for event files: {source}", path.display())]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A new run's directory already holds another run's event files.
    #[error(
        "{} already holds the event files of a run ({file}); give a new directory, or remove \
         them",
        dir.display()
    )]
    Taken {
        /// The directory.
        dir: PathBuf,
        /// One of the event files there.
        file: String,
    },
    /// A run's directory holds the event files of a run with other hyper-parameters
    /// ([`TensorBoard::create_or_restart`]).
    #[error(
        "{} holds the event files of another run ({}); give a new directory, or remove them",
        dir.display(),
        differing.join(", ")
    )]
    OtherRun {
        /// The directory.
        dir: PathBuf,
        /// How the hyper-parameters differ, one `name: X there, Y here` each.
        differing: Vec<String>,
    },
    /// An event file or its directory cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The event file cannot be created or written.
    #[error("cannot write the event file {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The run options cannot be recorded as hyper-parameters.
    #[error("cannot record the run options as hyper-parameters: {0}")]
    Options(String),
}

/// How a run ended, recorded for the hparams dashboard by [`TensorBoard::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It ran to its end (or stopped early by its own rule).
    Finished,
    /// It failed (diverged, an error).
    Failed,
    /// It was interrupted and may be resumed: nothing is recorded, a resumed run goes on with
    /// the same series ([`TensorBoard::resume_in`]).
    Interrupted,
}

impl Ending {
    /// How a run that ended as `ended` ended: interrupted when its observer broke it off
    /// ([`nn_core::TrainError::Interrupted`]), failed on any other error, finished otherwise.
    ///
    /// ```
    /// use nn_core::TrainError;
    /// use nn_tensorboard::Ending;
    /// use nn_train::RunError;
    ///
    /// let stopped = RunError::Train(TrainError::Interrupted { epoch: 3, completed: 2 });
    /// assert_eq!(Ending::of(Err::<(), _>(&stopped)), Ending::Interrupted);
    /// assert_eq!(Ending::of(Ok::<_, &RunError>(())), Ending::Finished);
    /// ```
    pub fn of<T>(ended: Result<T, &RunError>) -> Self {
        match ended {
            Ok(_) => Self::Finished,
            Err(RunError::Train(TrainError::Interrupted { .. })) => Self::Interrupted,
            Err(_) => Self::Failed,
        }
    }
}

/// The event file of one run, written as the run goes. See the [crate] documentation.
#[derive(Debug)]
pub struct TensorBoard {
    path: PathBuf,
    out: BufWriter<File>,
    /// The first write that failed: later epochs are not written, and [`TensorBoard::finish`]
    /// returns it.
    failure: Option<io::Error>,
}

impl TensorBoard {
    /// A new run named `run_name` under `parent` (created if missing, with its parents): its
    /// event file in `parent/run_name`, which must hold no event file yet, with `options`
    /// recorded as hyper-parameters. The way several runs (a reproduction's, a search's) share
    /// one directory.
    ///
    /// ```
    /// let logs = tempfile::tempdir()?;
    /// let options = nn_train::RunOptions::default();
    /// let board = nn_tensorboard::TensorBoard::create(logs.path(), "eta-0.5", &options)?;
    /// assert!(board.path().starts_with(logs.path().join("eta-0.5")));
    /// assert!(nn_tensorboard::TensorBoard::create(logs.path(), "../up", &options).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(
        parent: &Path,
        run_name: &str,
        options: &RunOptions,
    ) -> Result<Self, TensorBoardError> {
        Self::create_in(&run_dir(parent, run_name)?, options)
    }

    /// A run of a batch named `run_name` under `parent`, for runs that a batch run again
    /// trains again (a reproduction's run that was interrupted or whose result is needed
    /// anew, the trials of a search run twice): a new run as [`TensorBoard::create`] makes
    /// it, or, when `parent/run_name` holds the event files of an earlier attempt at the same
    /// run (the same hyper-parameters), a restart: a new event file whose session start at
    /// epoch 1 makes TensorBoard drop the earlier attempt's epochs and show this one's. A
    /// folder holding the events of a run with other hyper-parameters is refused
    /// ([`TensorBoardError::OtherRun`]).
    ///
    /// ```
    /// use nn_tensorboard::{Ending, TensorBoard, TensorBoardError};
    ///
    /// let logs = tempfile::tempdir()?;
    /// let options = nn_train::RunOptions::default();
    /// let first = TensorBoard::create_or_restart(logs.path(), "eta0.5-seed0", &options)?;
    /// first.finish(Ending::Interrupted)?;
    /// let again = TensorBoard::create_or_restart(logs.path(), "eta0.5-seed0", &options)?;
    /// again.finish(Ending::Finished)?;
    ///
    /// let other = nn_train::RunOptions { eta: 3.0, ..options };
    /// let refused = TensorBoard::create_or_restart(logs.path(), "eta0.5-seed0", &other);
    /// assert!(matches!(refused, Err(TensorBoardError::OtherRun { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_or_restart(
        parent: &Path,
        run_name: &str,
        options: &RunOptions,
    ) -> Result<Self, TensorBoardError> {
        let dir = run_dir(parent, run_name)?;
        let earlier = match dir.is_dir() {
            true => event_file_in(&dir).map_err(|source| TensorBoardError::Read {
                path: dir.clone(),
                source,
            })?,
            false => None,
        };
        if earlier.is_none() {
            return Self::create_in(&dir, options);
        }
        let recorded = Logged::read(&dir)?.hparams;
        if let Some(recorded) = &recorded {
            let wanted = read::json(hparams::of(options).map_err(TensorBoardError::Options)?);
            let differing = differences(recorded, &wanted);
            if !differing.is_empty() {
                return Err(TensorBoardError::OtherRun { dir, differing });
            }
        }
        Self::open(&dir, options, Some(0), recorded.is_none())
    }

    /// A new run whose event file goes straight into `dir` (created if missing, with its
    /// parents), which must hold no event file yet, with `options` recorded as
    /// hyper-parameters.
    pub fn create_in(dir: &Path, options: &RunOptions) -> Result<Self, TensorBoardError> {
        Self::open(dir, options, None, false)
    }

    /// A resumed run, which continues in `dir` after epoch `after`: earlier event files of
    /// the run may be there, and TensorBoard drops any of their epochs after `after` (those of
    /// the interrupted run that its checkpoint did not keep). The hyper-parameters are
    /// recorded only when `dir` holds no event file yet.
    pub fn resume_in(
        dir: &Path,
        options: &RunOptions,
        after: usize,
    ) -> Result<Self, TensorBoardError> {
        Self::open(dir, options, Some(after), false)
    }

    /// The event file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the figures of one epoch, at step = its epoch, and flushes them to the file.
    /// A failed write is also kept for [`TensorBoard::finish`], and nothing more is written.
    pub fn write_epoch(&mut self, record: &EpochRecord) -> Result<(), TensorBoardError> {
        if let Some(failure) = &self.failure {
            return Err(self.error(io::Error::new(failure.kind(), failure.to_string())));
        }
        let measures = [
            ("training_cost", record.training_cost),
            ("training_accuracy", record.training_accuracy),
            ("evaluation_cost", record.evaluation_cost),
            ("evaluation_accuracy", record.evaluation_accuracy),
            ("eta", Some(f64::from(record.eta))),
            ("seconds", Some(record.seconds)),
        ];
        let value = measures
            .into_iter()
            .filter_map(|(tag, value)| {
                Some(Value {
                    tag: tag.to_string(),
                    metadata: None,
                    value: Some(Datum::SimpleValue(value? as f32)),
                })
            })
            .collect();
        let step = i64::try_from(record.epoch).unwrap_or(i64::MAX);
        let written = self
            .write_event(step, What::Summary(Summary { value }))
            .and_then(|()| self.out.flush());
        written.map_err(|e| {
            let error = self.error(io::Error::new(e.kind(), e.to_string()));
            self.failure = Some(e);
            error
        })
    }

    /// An [`Observer`] that tells `other` everything and also writes each epoch here: how a
    /// run is watched by a progress display and logged at once. A failed write is told to
    /// `other` as a warning, once.
    pub fn beside<'a>(&'a mut self, other: &'a mut dyn Observer) -> Beside<'a> {
        Beside { board: self, other }
    }

    /// Records how the run ended (unless [`Ending::Interrupted`]), flushes the file to disk and
    /// returns its path, or the first write that failed.
    pub fn finish(mut self, ending: Ending) -> Result<PathBuf, TensorBoardError> {
        if let Some(failure) = self.failure.take() {
            return Err(self.error(failure));
        }
        let status = match ending {
            Ending::Finished => Some(proto::STATUS_SUCCESS),
            Ending::Failed => Some(proto::STATUS_FAILURE),
            Ending::Interrupted => None,
        };
        let result = match status {
            Some(status) => self.write_hparams(
                "_hparams_/session_end_info",
                HParamsData::SessionEndInfo(proto::SessionEndInfo {
                    status,
                    end_time_secs: now(),
                }),
            ),
            None => Ok(()),
        }
        .and_then(|()| self.out.flush())
        .and_then(|()| self.out.get_ref().sync_all());
        result.map_err(|e| self.error(e))?;
        Ok(self.path.clone())
    }

    /// Opens a new event file in `dir` for a run resumed after epoch `resumed_after` (0 for
    /// a restart), or a new run; the hyper-parameters are recorded when `dir` holds no event
    /// file yet, or when `record_hparams`.
    fn open(
        dir: &Path,
        options: &RunOptions,
        resumed_after: Option<usize>,
        record_hparams: bool,
    ) -> Result<Self, TensorBoardError> {
        let hparams = hparams::of(options).map_err(TensorBoardError::Options)?;
        if dir.is_file() {
            return Err(TensorBoardError::NotADirectory(dir.to_path_buf()));
        }
        let directory = |source| TensorBoardError::Directory {
            path: dir.to_path_buf(),
            source,
        };
        let missing = !dir.exists();
        let first_missing = missing.then(|| first_missing(dir));
        fs::create_dir_all(dir).map_err(directory)?;
        let created = Self::create_file(dir, (resumed_after, record_hparams), hparams, directory);
        if created.is_err()
            && let Some(top) = first_missing
        {
            // Leave nothing behind: the folders this call made hold no file of its own.
            let _ = remove_empty_dirs(dir, &top);
        }
        created
    }

    fn create_file(
        dir: &Path,
        (resumed_after, record_hparams): (Option<usize>, bool),
        hparams: std::collections::BTreeMap<String, prost_types::Value>,
        directory: impl Fn(io::Error) -> TensorBoardError,
    ) -> Result<Self, TensorBoardError> {
        let earlier = event_file_in(dir).map_err(&directory)?;
        if let (Some(file), None) = (&earlier, resumed_after) {
            return Err(TensorBoardError::Taken {
                dir: dir.to_path_buf(),
                file: file.clone(),
            });
        }
        let (path, file) = new_event_file(dir)?;
        let mut board = Self {
            path,
            out: BufWriter::new(file),
            failure: None,
        };
        let written = board
            .write_event(0, What::FileVersion(FILE_VERSION.to_string()))
            .and_then(|()| match resumed_after {
                Some(after) => board.write_event(
                    i64::try_from(after + 1).unwrap_or(i64::MAX),
                    What::SessionLog(proto::SessionLog {
                        status: proto::SESSION_START,
                    }),
                ),
                None => Ok(()),
            })
            .and_then(|()| match earlier.is_none() || record_hparams {
                false => Ok(()),
                true => board.write_hparams(
                    "_hparams_/session_start_info",
                    HParamsData::SessionStartInfo(proto::SessionStartInfo {
                        hparams,
                        start_time_secs: now(),
                    }),
                ),
            })
            .and_then(|()| board.out.flush());
        if let Err(e) = written {
            let error = board.error(e);
            let path = board.path.clone();
            drop(board);
            let _ = fs::remove_file(path);
            return Err(error);
        }
        Ok(board)
    }

    /// Writes one event at `step`, now.
    fn write_event(&mut self, step: i64, what: What) -> io::Result<()> {
        let event = Event {
            wall_time: now(),
            step,
            what: Some(what),
        };
        record::write(&mut self.out, &event.encode_to_vec())
    }

    /// Writes one of the hparams plugin's summaries, `data` under `tag`, at step 0.
    fn write_hparams(&mut self, tag: &str, data: HParamsData) -> io::Result<()> {
        let content = HParamsPluginData {
            version: 0,
            data: Some(data),
        };
        let value = Value {
            tag: tag.to_string(),
            metadata: Some(proto::SummaryMetadata {
                plugin_data: Some(proto::PluginData {
                    plugin_name: "hparams".to_string(),
                    content: content.encode_to_vec(),
                }),
            }),
            value: Some(Datum::Tensor(proto::TensorProto::null())),
        };
        self.write_event(0, What::Summary(Summary { value: vec![value] }))
    }

    fn error(&self, source: io::Error) -> TensorBoardError {
        TensorBoardError::Write {
            path: self.path.clone(),
            source,
        }
    }
}

impl Observer for TensorBoard {
    /// Writes the epoch ([`TensorBoard::write_epoch`]); a failure is kept for
    /// [`TensorBoard::finish`].
    fn epoch_done(&mut self, record: &EpochRecord) {
        let _ = self.write_epoch(record);
    }
}

/// The [`Observer`] of [`TensorBoard::beside`]: another observer, and the event file.
pub struct Beside<'a> {
    board: &'a mut TensorBoard,
    other: &'a mut dyn Observer,
}

impl Observer for Beside<'_> {
    fn batch_done(&mut self, epoch: usize, done: usize, total: usize) -> ControlFlow<()> {
        self.other.batch_done(epoch, done, total)
    }

    fn epoch_done(&mut self, record: &EpochRecord) {
        self.other.epoch_done(record);
        let failed_before = self.board.failure.is_some();
        if let Err(e) = self.board.write_epoch(record)
            && !failed_before
        {
            self.other.warning(&format!(
                "{e}; TensorBoard's files end before epoch {}",
                record.epoch
            ));
        }
    }

    fn warning(&mut self, message: &str) {
        self.other.warning(message);
    }
}

/// The folder of the run `run_name` under `parent`, if `run_name` is one folder name.
fn run_dir(parent: &Path, run_name: &str) -> Result<PathBuf, TensorBoardError> {
    let mut components = Path::new(run_name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(name)), None) if name == run_name => Ok(parent.join(run_name)),
        _ => Err(TensorBoardError::RunName(run_name.to_string())),
    }
}

/// How the hyper-parameters `there` (recorded) differ from `here`: `name: X there, Y here`
/// for each that differs (`none` for one that is missing).
fn differences(
    there: &std::collections::BTreeMap<String, serde_json::Value>,
    here: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Vec<String> {
    let shown = |value: Option<&serde_json::Value>| match value {
        None => "none".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.as_f64().map_or(n.to_string(), |n| n.to_string()),
        Some(other) => other.to_string(),
    };
    let mut names: Vec<&String> = there.keys().chain(here.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| there.get(*name) != here.get(*name))
        .map(|name| {
            format!(
                "{name}: {} there, {} here",
                shown(there.get(name)),
                shown(here.get(name))
            )
        })
        .collect()
}

/// The name of an event file already in `dir`, if any (TensorBoard reads every file whose name
/// holds `tfevents`).
fn event_file_in(dir: &Path) -> io::Result<Option<String>> {
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.contains("tfevents") {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Creates a new event file in `dir`, `events.out.tfevents.<seconds>.<host>` (seconds as ten
/// digits, as TensorFlow writes them), with `.1`, `.2`, ... added when files of the same
/// second are there.
fn new_event_file(dir: &Path) -> Result<(PathBuf, File), TensorBoardError> {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = format!("{FILE_PREFIX}{seconds:010}.{}", host());
    let mut last = None;
    for n in 0..MAX_SAME_SECOND {
        let name = match n {
            0 => base.clone(),
            n => format!("{base}.{n}"),
        };
        let path = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some((path, e)),
            Err(source) => return Err(TensorBoardError::Write { path, source }),
        }
    }
    let (path, source) = last.unwrap_or_else(|| {
        (
            dir.join(&base),
            io::Error::from(io::ErrorKind::AlreadyExists),
        )
    });
    Err(TensorBoardError::Write { path, source })
}

/// This machine's name, kept to the characters that are safe in a file name.
fn host() -> String {
    let name: String = gethostname::gethostname()
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "localhost".to_string()
    } else {
        name
    }
}

/// Seconds since the Unix epoch.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The outermost folder of `dir` that does not exist yet.
fn first_missing(dir: &Path) -> PathBuf {
    let mut top = dir;
    while let Some(parent) = top.parent() {
        if parent.as_os_str().is_empty() || parent.exists() {
            break;
        }
        top = parent;
    }
    top.to_path_buf()
}

/// Removes `dir` and its parents up to `top`, each only if empty.
fn remove_empty_dirs(dir: &Path, top: &Path) -> io::Result<()> {
    let mut current = dir;
    loop {
        fs::remove_dir(current)?;
        if current == top {
            return Ok(());
        }
        match current.parent() {
            Some(parent) => current = parent,
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
