//! Event files read back as TensorBoard reads them: the reading side of
//! [`TensorBoard`](crate::TensorBoard), for checking what a run left, and for telling an earlier
//! attempt at a run from another run
//! ([`TensorBoard::create_or_restart`](crate::TensorBoard::create_or_restart)).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use prost::Message;
use prost_types::value::Kind;
use serde_json::Value as Json;

use crate::proto::{Datum, Event, HParamsData, HParamsPluginData, What};
use crate::{Ending, TensorBoardError, proto, record};

/// What the event files of a run hold, as TensorBoard shows it ([`Logged::read`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logged {
    /// The event files read, in the order read (by name, as TensorBoard reads them).
    pub files: Vec<PathBuf>,
    /// Every scalar series by tag, `(step, value)` in the order written, without the steps a
    /// later session start drops (that of a resumed or restarted run: TensorBoard drops the
    /// earlier events from its step on).
    pub scalars: BTreeMap<String, Vec<(i64, f32)>>,
    /// The hyper-parameters by name, as JSON numbers, strings and booleans: the first recorded,
    /// which TensorBoard shows.
    pub hparams: Option<BTreeMap<String, Json>>,
    /// How the run ended, the first ending recorded ([`Ending::Finished`] or
    /// [`Ending::Failed`]); none while none is (a run interrupted, or still training).
    pub ending: Option<Ending>,
    /// The files that end in a record cut short or failing its checksum, read up to it.
    pub damaged: Vec<PathBuf>,
}

impl Logged {
    /// The event files of the run folder `dir` (every file whose name holds `tfevents`, as
    /// TensorBoard takes them), in name order.
    ///
    /// ```
    /// use nn_core::{EpochRecord, Observer};
    /// use nn_tensorboard::{Ending, Logged, TensorBoard};
    ///
    /// let logs = tempfile::tempdir()?;
    /// let options = nn_train::RunOptions { eta: 0.25, ..Default::default() };
    /// let mut board = TensorBoard::create(logs.path(), "run", &options)?;
    /// for epoch in 1..=2 {
    ///     board.epoch_done(&EpochRecord {
    ///         epoch,
    ///         eta: 0.25,
    ///         seconds: 1.5,
    ///         training_cost: None,
    ///         training_accuracy: None,
    ///         evaluation_cost: None,
    ///         evaluation_accuracy: Some(0.5 + 0.25 * epoch as f64),
    ///     });
    /// }
    /// board.finish(Ending::Finished)?;
    ///
    /// let logged = Logged::read(&logs.path().join("run"))?;
    /// assert_eq!(logged.series("evaluation_accuracy"), [(1, 0.75), (2, 1.0)]);
    /// assert_eq!(logged.hparams.unwrap()["eta"], 0.25);
    /// assert_eq!((logged.ending, logged.damaged.len()), (Some(Ending::Finished), 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(dir: &Path) -> Result<Self, TensorBoardError> {
        let unreadable = |source| TensorBoardError::Read {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            if entry.file_name().to_string_lossy().contains("tfevents") {
                files.push(entry.path());
            }
        }
        files.sort();
        let mut logged = Self::default();
        for file in files {
            logged.add(file)?;
        }
        Ok(logged)
    }

    /// One event file.
    pub fn read_file(path: &Path) -> Result<Self, TensorBoardError> {
        let mut logged = Self::default();
        logged.add(path.to_path_buf())?;
        Ok(logged)
    }

    /// The series `tag`: `(step, value)` in the order written; empty when there is none.
    pub fn series(&self, tag: &str) -> &[(i64, f32)] {
        self.scalars.get(tag).map_or(&[], Vec::as_slice)
    }

    /// Reads the events of `path` after those read so far.
    fn add(&mut self, path: PathBuf) -> Result<(), TensorBoardError> {
        let bytes = fs::read(&path).map_err(|source| TensorBoardError::Read {
            path: path.clone(),
            source,
        })?;
        let (records, bad) = record::read(&bytes);
        let mut damaged = bad.is_some();
        for data in records {
            let Ok(event) = Event::decode(data) else {
                damaged = true;
                break;
            };
            self.event(event);
        }
        if damaged {
            self.damaged.push(path.clone());
        }
        self.files.push(path);
        Ok(())
    }

    fn event(&mut self, event: Event) {
        match event.what {
            Some(What::SessionLog(log)) if log.status == proto::SESSION_START => {
                for series in self.scalars.values_mut() {
                    series.retain(|&(step, _)| step < event.step);
                }
            }
            Some(What::Summary(summary)) => {
                for value in summary.value {
                    if let Some(metadata) = value.metadata {
                        self.plugin_data(metadata);
                    }
                    if let Some(Datum::SimpleValue(v)) = value.value {
                        let series = self.scalars.entry(value.tag).or_default();
                        series.push((event.step, v));
                    }
                }
            }
            _ => {}
        }
    }

    /// The hparams plugin's summaries: the first of each kind counts, as in TensorBoard.
    fn plugin_data(&mut self, metadata: proto::SummaryMetadata) {
        let Some(plugin) = metadata.plugin_data.filter(|p| p.plugin_name == "hparams") else {
            return;
        };
        match HParamsPluginData::decode(plugin.content.as_slice()).map(|d| d.data) {
            Ok(Some(HParamsData::SessionStartInfo(start))) if self.hparams.is_none() => {
                self.hparams = Some(json(start.hparams));
            }
            Ok(Some(HParamsData::SessionEndInfo(end))) if self.ending.is_none() => {
                self.ending = match end.status {
                    proto::STATUS_SUCCESS => Some(Ending::Finished),
                    proto::STATUS_FAILURE => Some(Ending::Failed),
                    _ => None,
                };
            }
            _ => {}
        }
    }
}

/// Hyper-parameters as JSON values.
pub(crate) fn json(hparams: BTreeMap<String, prost_types::Value>) -> BTreeMap<String, Json> {
    hparams
        .into_iter()
        .map(|(name, value)| (name, value_json(value.kind)))
        .collect()
}

fn value_json(kind: Option<Kind>) -> Json {
    match kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::NumberValue(n)) => {
            serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
        }
        Some(Kind::StringValue(s)) => Json::String(s),
        Some(Kind::BoolValue(b)) => Json::Bool(b),
        Some(Kind::StructValue(s)) => Json::Object(
            s.fields
                .into_iter()
                .map(|(k, v)| (k, value_json(v.kind)))
                .collect(),
        ),
        Some(Kind::ListValue(l)) => {
            Json::Array(l.values.into_iter().map(|v| value_json(v.kind)).collect())
        }
    }
}
