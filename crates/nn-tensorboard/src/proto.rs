//! The protobuf messages of TensorBoard's event files that nn writes, as `prost` structs with
//! the field numbers of tensorflow/tensorboard's `.proto` files (the fields nn leaves unset are
//! left out; proto3 readers take a missing field as its default):
//!
//! - `tensorboard/compat/proto/event.proto`: `Event`, `SessionLog`;
//! - `tensorboard/compat/proto/summary.proto`: `Summary`, `Summary.Value`, `SummaryMetadata`;
//! - `tensorboard/compat/proto/tensor.proto`, `tensor_shape.proto`: `TensorProto`,
//!   `TensorShapeProto`;
//! - `tensorboard/plugins/hparams/plugin_data.proto`: `HParamsPluginData`, `SessionStartInfo`,
//!   `SessionEndInfo`, whose hyper-parameters are `google.protobuf.Value`s (`prost_types`).

use std::collections::BTreeMap;

/// `tensorboard.Event`: one record of an event file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step: nn's epoch.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event carries.
    #[prost(oneof = "What", tags = "3, 5, 7")]
    pub what: Option<What>,
}

/// `Event.what`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum What {
    /// The first event of a file: `brain.Event:2`.
    #[prost(string, tag = "3")]
    FileVersion(String),
    /// Summaries: scalars, the hyper-parameters.
    #[prost(message, tag = "5")]
    Summary(Summary),
    /// A session's start: TensorBoard drops the events of earlier files from this step on.
    #[prost(message, tag = "7")]
    SessionLog(SessionLog),
}

/// `tensorboard.SessionLog`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionLog {
    /// `SessionLog.SessionStatus` ([`SESSION_START`]).
    #[prost(int32, tag = "1")]
    pub status: i32,
}

/// `SessionLog.SessionStatus.START`.
pub const SESSION_START: i32 = 1;

/// `tensorboard.Summary`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<Value>,
}

/// `tensorboard.Summary.Value`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Value {
    /// The series: `evaluation_accuracy`, `eta`, ...
    #[prost(string, tag = "1")]
    pub tag: String,
    /// Which plugin reads it (the hyper-parameters' only).
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
    /// The value.
    #[prost(oneof = "Datum", tags = "2, 8")]
    pub value: Option<Datum>,
}

/// `Summary.Value.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Datum {
    /// A scalar, as TensorBoard's scalar dashboard and `EventAccumulator.Scalars` read it.
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    /// A tensor: the hyper-parameters' empty one.
    #[prost(message, tag = "8")]
    Tensor(TensorProto),
}

/// `tensorboard.SummaryMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryMetadata {
    /// The plugin and its content.
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
}

/// `SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PluginData {
    /// `hparams`.
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    /// An encoded [`HParamsPluginData`].
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// `tensorboard.TensorProto`, as far as an empty tensor needs it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// `tensorboard.DataType` ([`DT_FLOAT`]).
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    /// The shape.
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
}

/// `DataType.DT_FLOAT`.
pub const DT_FLOAT: i32 = 1;

/// `tensorboard.TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// The dimensions.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
}

/// `TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dim {
    /// Its size.
    #[prost(int64, tag = "1")]
    pub size: i64,
}

impl TensorProto {
    /// The hparams plugin's `NULL_TENSOR`: a float tensor of shape `[0]`, the value its
    /// summaries carry (their content is in the metadata).
    pub fn null() -> Self {
        Self {
            dtype: DT_FLOAT,
            tensor_shape: Some(TensorShapeProto {
                dim: vec![Dim { size: 0 }],
            }),
        }
    }
}

/// `tensorboard.hparams.HParamsPluginData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HParamsPluginData {
    /// The plugin's data version: 0.
    #[prost(int32, tag = "1")]
    pub version: i32,
    /// Which of the plugin's messages this is.
    #[prost(oneof = "HParamsData", tags = "3, 4")]
    pub data: Option<HParamsData>,
}

/// `HParamsPluginData.data`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum HParamsData {
    /// A run's start and its hyper-parameters.
    #[prost(message, tag = "3")]
    SessionStartInfo(SessionStartInfo),
    /// A run's end and how it ended.
    #[prost(message, tag = "4")]
    SessionEndInfo(SessionEndInfo),
}

/// `tensorboard.hparams.SessionStartInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionStartInfo {
    /// The hyper-parameters by name.
    #[prost(btree_map = "string, message", tag = "1")]
    pub hparams: BTreeMap<String, prost_types::Value>,
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "5")]
    pub start_time_secs: f64,
}

/// `tensorboard.hparams.SessionEndInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionEndInfo {
    /// `tensorboard.hparams.Status`: [`STATUS_SUCCESS`] or [`STATUS_FAILURE`].
    #[prost(int32, tag = "1")]
    pub status: i32,
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "2")]
    pub end_time_secs: f64,
}

/// `Status.STATUS_SUCCESS`.
pub const STATUS_SUCCESS: i32 = 1;
/// `Status.STATUS_FAILURE`.
pub const STATUS_FAILURE: i32 = 2;
