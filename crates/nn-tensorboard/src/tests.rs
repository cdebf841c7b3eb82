//! The event files read back with the same messages.

use std::collections::BTreeMap;

use nn_core::{EpochRecord, Observer};
use nn_train::RunOptions;
use prost::Message;

use super::proto::{Datum, Event, HParamsData, HParamsPluginData, What};
use super::record::tests::records;
use super::{Ending, Logged, TensorBoard, TensorBoardError};

fn epoch(epoch: usize, accuracy: f64) -> EpochRecord {
    EpochRecord {
        epoch,
        eta: 0.25,
        seconds: 1.5 * epoch as f64,
        training_cost: Some(0.123_456_789),
        training_accuracy: None,
        evaluation_cost: None,
        evaluation_accuracy: Some(accuracy),
    }
}

/// The events of `path`, every record's checksums checked.
fn events(path: &std::path::Path) -> Vec<Event> {
    records(&std::fs::read(path).unwrap())
        .expect("well-framed records")
        .iter()
        .map(|r| Event::decode(r.as_slice()).unwrap())
        .collect()
}

/// The scalars of `events` by step and tag.
fn scalars(events: &[Event]) -> BTreeMap<(i64, String), f32> {
    let mut out = BTreeMap::new();
    for event in events {
        if let Some(What::Summary(summary)) = &event.what {
            for value in &summary.value {
                if let Some(Datum::SimpleValue(v)) = value.value {
                    out.insert((event.step, value.tag.clone()), v);
                }
            }
        }
    }
    out
}

/// The hparams plugin's messages in `events`, by tag.
fn hparams(events: &[Event]) -> Vec<(String, HParamsData)> {
    let mut out = Vec::new();
    for event in events {
        if let Some(What::Summary(summary)) = &event.what {
            for value in &summary.value {
                if let Some(metadata) = &value.metadata {
                    let plugin = metadata.plugin_data.as_ref().unwrap();
                    assert_eq!(plugin.plugin_name, "hparams");
                    let data = HParamsPluginData::decode(plugin.content.as_slice()).unwrap();
                    assert_eq!(data.version, 0);
                    out.push((value.tag.clone(), data.data.unwrap()));
                }
            }
        }
    }
    out
}

#[test]
fn a_run_is_its_version_hyper_parameters_epochs_and_ending() {
    let logs = tempfile::tempdir().unwrap();
    let options = RunOptions {
        eta: 0.25,
        ..RunOptions::default()
    };
    let mut board = TensorBoard::create(logs.path(), "run", &options).unwrap();
    let name = board
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let parts: Vec<&str> = name.splitn(5, '.').collect();
    assert_eq!(parts[..3], ["events", "out", "tfevents"], "{name}");
    assert_eq!(parts[3].len(), 10, "{name}");
    assert!(parts[3].bytes().all(|b| b.is_ascii_digit()), "{name}");
    // Flushed after every epoch: a reader sees each epoch as it ends.
    board.epoch_done(&epoch(1, 0.5));
    assert_eq!(scalars(&events(board.path())).len(), 4);
    board.epoch_done(&epoch(2, 0.75));
    let path = board.finish(Ending::Finished).unwrap();

    let events = events(&path);
    assert_eq!(
        events[0].what,
        Some(What::FileVersion("brain.Event:2".into()))
    );
    let scalars = scalars(&events);
    let expected: BTreeMap<(i64, String), f32> = [
        ((1, "training_cost"), 0.123_456_789_f64 as f32),
        ((1, "evaluation_accuracy"), 0.5),
        ((1, "eta"), 0.25),
        ((1, "seconds"), 1.5),
        ((2, "training_cost"), 0.123_456_789_f64 as f32),
        ((2, "evaluation_accuracy"), 0.75),
        ((2, "eta"), 0.25),
        ((2, "seconds"), 3.0),
    ]
    .into_iter()
    .map(|((step, tag), v)| ((step, tag.to_string()), v))
    .collect();
    assert_eq!(scalars, expected);

    let hparams = hparams(&events);
    assert_eq!(hparams.len(), 2);
    assert_eq!(hparams[0].0, "_hparams_/session_start_info");
    let HParamsData::SessionStartInfo(start) = &hparams[0].1 else {
        panic!("{:?}", hparams[0]);
    };
    assert_eq!(
        start.hparams["eta"].kind,
        Some(prost_types::value::Kind::NumberValue(0.25))
    );
    assert_eq!(start.hparams, super::hparams::of(&options).unwrap());
    assert_eq!(hparams[1].0, "_hparams_/session_end_info");
    let HParamsData::SessionEndInfo(end) = &hparams[1].1 else {
        panic!("{:?}", hparams[1]);
    };
    assert_eq!(end.status, super::proto::STATUS_SUCCESS);
    assert!(end.end_time_secs >= start.start_time_secs);
}

#[test]
fn a_new_run_refuses_a_used_directory_and_a_resumed_one_continues_it() {
    let logs = tempfile::tempdir().unwrap();
    let options = RunOptions::default();
    let mut first = TensorBoard::create_in(logs.path(), &options).unwrap();
    first.epoch_done(&epoch(1, 0.5));
    first.epoch_done(&epoch(2, 0.6));
    let first = first.finish(Ending::Interrupted).unwrap();
    assert!(
        hparams(&events(&first)).len() == 1,
        "no ending for an interrupted run"
    );

    let error = TensorBoard::create_in(logs.path(), &options).unwrap_err();
    assert!(matches!(error, TensorBoardError::Taken { .. }), "{error}");
    assert!(
        error.to_string().contains("already holds the event files"),
        "{error}"
    );

    let mut resumed = TensorBoard::resume_in(logs.path(), &options, 1).unwrap();
    assert_ne!(resumed.path(), first);
    resumed.epoch_done(&epoch(2, 0.7));
    let second = resumed.finish(Ending::Finished).unwrap();
    let events = events(&second);
    // TensorBoard drops the earlier files' epochs from 2 on at this session start.
    assert_eq!(events[1].step, 2);
    assert_eq!(
        events[1].what,
        Some(What::SessionLog(super::proto::SessionLog { status: 1 }))
    );
    // The hyper-parameters are the first file's; this one records only the ending.
    let hparams = hparams(&events);
    assert_eq!(hparams.len(), 1);
    assert_eq!(hparams[0].0, "_hparams_/session_end_info");
    let mut names: Vec<_> = std::fs::read_dir(logs.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert_eq!(names, [first, second]);
}

#[test]
fn bad_places_are_refused_before_any_file_is_written() {
    let logs = tempfile::tempdir().unwrap();
    let options = RunOptions::default();
    for name in ["", ".", "..", "a/b", "/abs", "a/", "./a"] {
        let error = TensorBoard::create(logs.path(), name, &options).unwrap_err();
        assert!(
            matches!(error, TensorBoardError::RunName(_)),
            "{name}: {error}"
        );
    }
    let file = logs.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let error = TensorBoard::create_in(&file, &options).unwrap_err();
    assert!(error.to_string().contains("this is a file"), "{error}");
    let error = TensorBoard::create_in(&file.join("below"), &options).unwrap_err();
    assert!(
        error.to_string().starts_with("cannot use the directory"),
        "{error}"
    );
    assert_eq!(std::fs::read_dir(logs.path()).unwrap().count(), 1);
    // Missing parents are made.
    let deep = logs.path().join("a").join("b");
    let board = TensorBoard::create(&deep, "run", &options).unwrap();
    assert!(board.path().starts_with(deep.join("run")));
}

#[cfg(unix)]
#[test]
fn a_directory_that_takes_no_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let logs = tempfile::tempdir().unwrap();
    let locked = logs.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
    // Root writes into it all the same: then there is nothing to refuse.
    let writable = tempfile::tempfile_in(&locked).is_ok();
    let result = TensorBoard::create_in(&locked, &RunOptions::default());
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    if writable {
        assert!(result.is_ok());
    } else {
        let error = result.unwrap_err();
        assert!(error.to_string().contains("locked"), "{error}");
        assert_eq!(std::fs::read_dir(&locked).unwrap().count(), 0);
    }
}

#[test]
fn a_failed_write_is_warned_once_and_returned_by_finish() {
    #[derive(Default)]
    struct Warnings(Vec<String>, usize);
    impl Observer for Warnings {
        fn epoch_done(&mut self, _: &EpochRecord) {
            self.1 += 1;
        }
        fn warning(&mut self, message: &str) {
            self.0.push(message.to_string());
        }
    }
    let logs = tempfile::tempdir().unwrap();
    let mut board = TensorBoard::create_in(logs.path(), &RunOptions::default()).unwrap();
    // /dev/full fails every write with "no space left on device".
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
    board.out = std::io::BufWriter::new(full);
    let mut warnings = Warnings::default();
    {
        let mut both = board.beside(&mut warnings);
        both.epoch_done(&epoch(1, 0.5));
        both.epoch_done(&epoch(2, 0.5));
    }
    assert_eq!(warnings.1, 2, "the other observer hears every epoch");
    assert_eq!(warnings.0.len(), 1, "{:?}", warnings.0);
    assert!(warnings.0[0].contains("before epoch 1"), "{:?}", warnings.0);
    let error = board.finish(Ending::Finished).unwrap_err();
    assert!(
        error.to_string().starts_with("cannot write the event file"),
        "{error}"
    );
}

#[test]
fn a_batchs_run_restarts_its_own_series_and_refuses_another_runs_folder() {
    let logs = tempfile::tempdir().unwrap();
    let options = RunOptions {
        eta: 0.25,
        ..RunOptions::default()
    };
    let mut first = TensorBoard::create_or_restart(logs.path(), "run", &options).unwrap();
    for e in 1..=3 {
        first.epoch_done(&epoch(e, 0.5));
    }
    let first = first.finish(Ending::Interrupted).unwrap();

    // The same run again: a new file, whose session start drops the three epochs.
    let mut again = TensorBoard::create_or_restart(logs.path(), "run", &options).unwrap();
    again.epoch_done(&epoch(1, 0.9));
    let second = again.finish(Ending::Finished).unwrap();
    let logged = Logged::read(&logs.path().join("run")).unwrap();
    assert_eq!(logged.files, [first.clone(), second.clone()]);
    assert_eq!(logged.series("evaluation_accuracy"), [(1, 0.9)]);
    assert_eq!(logged.series("seconds"), [(1, 1.5)]);
    assert_eq!(logged.ending, Some(Ending::Finished));
    assert!(logged.damaged.is_empty());
    // The hyper-parameters are recorded once, by the first file.
    assert_eq!(hparams(&events(&second)).len(), 1);
    assert_eq!(logged.hparams.as_ref().unwrap()["eta"], 0.25);
    assert_eq!(
        logged.hparams.unwrap(),
        super::read::json(super::hparams::of(&options).unwrap())
    );

    // Another run's folder is refused, naming what differs, and left as it was.
    let other = RunOptions {
        eta: 3.0,
        train_size: Some(1_000),
        ..options.clone()
    };
    let error = TensorBoard::create_or_restart(logs.path(), "run", &other).unwrap_err();
    assert!(
        matches!(&error, TensorBoardError::OtherRun { differing, .. } if differing.len() == 2),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains(
            "holds the event files of another run (eta: 0.25 there, 3 here, \
                          train_size: none there, 1000 here)"
        ),
        "{message}"
    );
    assert_eq!(
        std::fs::read_dir(logs.path().join("run")).unwrap().count(),
        2
    );
    assert!(TensorBoard::create_or_restart(logs.path(), "../run", &options).is_err());
}

#[test]
fn a_file_cut_short_is_read_up_to_its_last_whole_record() {
    let logs = tempfile::tempdir().unwrap();
    let mut board = TensorBoard::create_in(logs.path(), &RunOptions::default()).unwrap();
    board.epoch_done(&epoch(1, 0.5));
    board.epoch_done(&epoch(2, 0.6));
    let path = board.finish(Ending::Interrupted).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    let logged = Logged::read_file(&path).unwrap();
    assert_eq!(logged.series("evaluation_accuracy"), [(1, 0.5)]);
    assert_eq!(logged.damaged, std::slice::from_ref(&path));
    assert!(logged.hparams.is_some() && logged.ending.is_none());
    // A folder whose file has no hyper-parameters (cut before them) restarts and records them.
    std::fs::write(&path, &bytes[..10]).unwrap();
    let board = TensorBoard::create_or_restart(
        logs.path().parent().unwrap(),
        logs.path().file_name().unwrap().to_str().unwrap(),
        &RunOptions::default(),
    )
    .unwrap();
    let second = board.finish(Ending::Finished).unwrap();
    assert_eq!(hparams(&events(&second)).len(), 2);
}
