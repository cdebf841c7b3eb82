//! The protobuf structure of an ONNX file, walked before it is decoded: protobuf decoding
//! allocates a message for every few bytes that claim one (two bytes make an empty
//! `TensorProto` of about 200 bytes), so a 100 MB file of empty initializers would take
//! gigabytes. The walk reads only keys and lengths, with prost's own wire-format helpers, and
//! refuses a file before decoding when a list holds more entries than any network nn reads
//! needs ([`MAX_NODES`], [`MAX_TENSORS`], [`MAX_LIST`]), when a length goes past the end of its
//! message, or when the decoded structure (everything but the weights) would exceed
//! [`MAX_STRUCTURE_BYTES`].

use std::mem::size_of;

use nn_core::MAX_LAYERS;
use prost::encoding::{DecodeContext, WireType, decode_key, decode_varint, skip_field};

use crate::ExportError;
use crate::onnx_proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    SparseTensorMarker, StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto,
    TypeProtoTensor, ValueInfoProto,
};

/// The most nodes a graph may have: 6,000. A layer takes at most five (`MatMul`, `Add`, its
/// activation, and two `Constant` nodes holding its weights and biases), a network at most
/// [`nn_core::MAX_LAYERS`] layers, and the rest leaves room for the nodes before the first
/// layer and after the last.
pub const MAX_NODES: usize = 6 * MAX_LAYERS;

/// The most initializers a graph may have, and the most inputs and outputs it may list: 3,000.
/// A layer has two (weights and biases), a `Reshape` one (its shape), and files of IR version 3
/// list every initializer among the graph's inputs as well.
pub const MAX_TENSORS: usize = 3 * MAX_LAYERS;

/// The most entries of every other list in the file: 64. That is a node's inputs, outputs and
/// attributes, a tensor's and a shape's dimensions, an attribute's integers, the model's
/// operator sets and metadata entries, a tensor's external-data entries and the graph's sparse
/// initializers; the operators nn reads take at most three inputs and four attributes, and
/// their tensors at most four dimensions.
pub const MAX_LIST: usize = 64;

/// The most memory the decoded structure of an ONNX file may take besides its weights (the
/// `raw_data` and `float_data` of its tensors): 64 MiB. It counts every decoded message, name,
/// string, dimension and integer as it is held in memory; a network of [`nn_core::MAX_LAYERS`]
/// layers written by nn takes 1.1 MiB (784 inputs and a thousand layers of one neuron:
/// 1,174,631 bytes). (Vectors grow by doubling, so the memory actually taken can be up to twice
/// this.) Decoded, the weights take no more memory than the file's bytes, which
/// [`crate::MAX_FILE_BYTES`] bounds.
pub const MAX_STRUCTURE_BYTES: usize = 64 << 20;

/// How a field is decoded.
#[derive(Clone, Copy)]
enum Kind {
    /// A nested message.
    Message(&'static Schema),
    /// A string or bytes.
    Bytes,
    /// A number read with this wire type when not packed, taking this many bytes in memory.
    Number(WireType, usize),
}

/// A field of a message that the decoder keeps (every other field is skipped, and costs
/// nothing but its length in the file).
struct Field {
    tag: u32,
    name: &'static str,
    kind: Kind,
    /// For a repeated field, the most entries one message may hold, and what they are.
    repeated: Option<(usize, &'static str)>,
    /// Whether the field holds weights, which are bounded by the file's size instead of
    /// [`MAX_STRUCTURE_BYTES`].
    weights: bool,
}

/// A message: its name, the bytes one takes in memory, and the fields kept.
struct Schema {
    name: &'static str,
    bytes: usize,
    fields: &'static [Field],
}

/// A field that is not repeated.
const fn field(tag: u32, name: &'static str, kind: Kind) -> Field {
    Field {
        tag,
        name,
        kind,
        repeated: None,
        weights: false,
    }
}

/// A repeated field of at most `most` entries a message, which are `what`.
const fn list(tag: u32, name: &'static str, kind: Kind, most: usize, what: &'static str) -> Field {
    Field {
        repeated: Some((most, what)),
        ..field(tag, name, kind)
    }
}

/// A repeated field of messages of `schema`.
const fn messages(
    tag: u32,
    name: &'static str,
    schema: &'static Schema,
    most: usize,
    what: &'static str,
) -> Field {
    list(tag, name, Kind::Message(schema), most, what)
}

/// A field holding weights, repeated (`float_data`) or not (`raw_data`), of any length.
const fn weights(tag: u32, name: &'static str, kind: Kind, repeated: bool) -> Field {
    Field {
        repeated: if repeated {
            Some((usize::MAX, "weights"))
        } else {
            None
        },
        weights: true,
        ..field(tag, name, kind)
    }
}

const VARINT: Kind = Kind::Number(WireType::Varint, 8);
const INT32: Kind = Kind::Number(WireType::Varint, 4);
const FLOAT: Kind = Kind::Number(WireType::ThirtyTwoBit, 4);

static MODEL: Schema = Schema {
    name: "ModelProto",
    bytes: size_of::<ModelProto>(),
    fields: &[
        field(1, "ir_version", VARINT),
        messages(8, "opset_import", &OPSET, MAX_LIST, "operator sets"),
        field(2, "producer_name", Kind::Bytes),
        field(3, "producer_version", Kind::Bytes),
        field(6, "doc_string", Kind::Bytes),
        field(7, "graph", Kind::Message(&GRAPH)),
        messages(14, "metadata_props", &ENTRY, MAX_LIST, "metadata entries"),
    ],
};

static OPSET: Schema = Schema {
    name: "OperatorSetIdProto",
    bytes: size_of::<OperatorSetIdProto>(),
    fields: &[field(1, "domain", Kind::Bytes), field(2, "version", VARINT)],
};

static ENTRY: Schema = Schema {
    name: "StringStringEntryProto",
    bytes: size_of::<StringStringEntryProto>(),
    fields: &[field(1, "key", Kind::Bytes), field(2, "value", Kind::Bytes)],
};

static GRAPH: Schema = Schema {
    name: "GraphProto",
    bytes: size_of::<GraphProto>(),
    fields: &[
        messages(1, "node", &NODE, MAX_NODES, "nodes in the graph"),
        field(2, "name", Kind::Bytes),
        messages(
            5,
            "initializer",
            &TENSOR,
            MAX_TENSORS,
            "initializers in the graph",
        ),
        messages(
            15,
            "sparse_initializer",
            &SPARSE,
            MAX_LIST,
            "sparse initializers in the graph",
        ),
        messages(11, "input", &VALUE, MAX_TENSORS, "inputs of the graph"),
        messages(12, "output", &VALUE, MAX_TENSORS, "outputs of the graph"),
    ],
};

static SPARSE: Schema = Schema {
    name: "SparseTensorProto",
    bytes: size_of::<SparseTensorMarker>(),
    fields: &[],
};

static NODE: Schema = Schema {
    name: "NodeProto",
    bytes: size_of::<NodeProto>(),
    fields: &[
        list(1, "input", Kind::Bytes, MAX_LIST, "inputs of a node"),
        list(2, "output", Kind::Bytes, MAX_LIST, "outputs of a node"),
        field(3, "name", Kind::Bytes),
        field(4, "op_type", Kind::Bytes),
        field(7, "domain", Kind::Bytes),
        messages(5, "attribute", &ATTRIBUTE, MAX_LIST, "attributes of a node"),
    ],
};

static ATTRIBUTE: Schema = Schema {
    name: "AttributeProto",
    bytes: size_of::<AttributeProto>(),
    fields: &[
        field(1, "name", Kind::Bytes),
        field(20, "type", INT32),
        field(2, "f", FLOAT),
        field(3, "i", VARINT),
        field(5, "t", Kind::Message(&TENSOR)),
        list(8, "ints", VARINT, MAX_LIST, "integers in an attribute"),
    ],
};

static TENSOR: Schema = Schema {
    name: "TensorProto",
    bytes: size_of::<TensorProto>(),
    fields: &[
        list(1, "dims", VARINT, MAX_LIST, "dimensions of a tensor"),
        field(2, "data_type", INT32),
        weights(4, "float_data", FLOAT, true),
        // A Reshape's shape: structure, 8 bytes in memory for as little as one in the file.
        list(7, "int64_data", VARINT, usize::MAX, "integers in a tensor"),
        field(8, "name", Kind::Bytes),
        weights(9, "raw_data", Kind::Bytes, false),
        messages(
            13,
            "external_data",
            &ENTRY,
            MAX_LIST,
            "external-data entries of a tensor",
        ),
        field(14, "data_location", INT32),
    ],
};

static VALUE: Schema = Schema {
    name: "ValueInfoProto",
    bytes: size_of::<ValueInfoProto>(),
    fields: &[
        field(1, "name", Kind::Bytes),
        field(2, "type", Kind::Message(&TYPE)),
    ],
};

static TYPE: Schema = Schema {
    name: "TypeProto",
    bytes: size_of::<TypeProto>(),
    fields: &[field(1, "tensor_type", Kind::Message(&TYPE_TENSOR))],
};

static TYPE_TENSOR: Schema = Schema {
    name: "TypeProto.Tensor",
    bytes: size_of::<TypeProtoTensor>(),
    fields: &[
        field(1, "elem_type", INT32),
        field(2, "shape", Kind::Message(&SHAPE)),
    ],
};

static SHAPE: Schema = Schema {
    name: "TensorShapeProto",
    bytes: size_of::<TensorShapeProto>(),
    fields: &[messages(
        1,
        "dim",
        &DIMENSION,
        MAX_LIST,
        "dimensions of a shape",
    )],
};

static DIMENSION: Schema = Schema {
    name: "TensorShapeProto.Dimension",
    bytes: size_of::<Dimension>(),
    fields: &[
        field(1, "dim_value", VARINT),
        field(2, "dim_param", Kind::Bytes),
    ],
};

/// Checks that `bytes`, an ONNX `ModelProto`, decodes into lists within their limits and a
/// structure within [`MAX_STRUCTURE_BYTES`], with every length within its message, before it
/// is decoded.
pub(crate) fn check(bytes: &[u8]) -> Result<(), ExportError> {
    let mut walk = Walk {
        structure: MODEL.bytes,
    };
    walk.message(&MODEL, bytes)
}

/// The structure counted so far, in bytes of memory.
struct Walk {
    structure: usize,
}

impl Walk {
    /// Counts `bytes` more bytes of structure.
    fn add(&mut self, bytes: usize) -> Result<(), ExportError> {
        self.structure = self.structure.saturating_add(bytes);
        if self.structure > MAX_STRUCTURE_BYTES {
            return Err(ExportError::TooMuchStructure {
                limit: MAX_STRUCTURE_BYTES,
            });
        }
        Ok(())
    }

    /// Walks the fields of one message of `schema` whose encoding is `buf`.
    fn message(&mut self, schema: &Schema, mut buf: &[u8]) -> Result<(), ExportError> {
        // Entries of each repeated field, and whether each nested message was seen.
        let mut entries = [0usize; 8];
        let mut seen = [false; 8];
        while !buf.is_empty() {
            let (tag, wire) = decode_key(&mut buf)?;
            let Some(at) = schema.fields.iter().position(|f| f.tag == tag) else {
                if wire == WireType::LengthDelimited {
                    length_delimited(&mut buf, schema, "an unknown field")?;
                } else {
                    skip_field(wire, tag, &mut buf, DecodeContext::default())?;
                }
                continue;
            };
            let field = &schema.fields[at];
            let count = |entries: &mut usize, n: usize| match field.repeated {
                Some((most, what)) if entries.saturating_add(n) > most => {
                    Err(ExportError::TooMany { what, limit: most })
                }
                _ => {
                    *entries += n;
                    Ok(())
                }
            };
            match field.kind {
                Kind::Message(inner) => {
                    prost::encoding::check_wire_type(WireType::LengthDelimited, wire)?;
                    let body = length_delimited(&mut buf, schema, field.name)?;
                    if field.repeated.is_some() {
                        count(&mut entries[at], 1)?;
                        self.add(inner.bytes)?;
                    } else if std::mem::replace(&mut seen[at], true) {
                        // Decoding would merge the two; no writer gives a message field twice.
                        return Err(ExportError::FieldTwice {
                            message: schema.name,
                            field: field.name,
                        });
                    }
                    self.message(inner, body)?;
                }
                Kind::Bytes => {
                    prost::encoding::check_wire_type(WireType::LengthDelimited, wire)?;
                    let body = length_delimited(&mut buf, schema, field.name)?;
                    if field.repeated.is_some() {
                        count(&mut entries[at], 1)?;
                        self.add(size_of::<String>())?;
                    }
                    if !field.weights {
                        self.add(body.len())?;
                    }
                }
                Kind::Number(unpacked, bytes) => {
                    let n = if wire == WireType::LengthDelimited && field.repeated.is_some() {
                        let body = length_delimited(&mut buf, schema, field.name)?;
                        match unpacked {
                            // Each varint ends in a byte below 0x80 (decoding checks the rest).
                            WireType::Varint => body.iter().filter(|&&b| b < 0x80).count(),
                            _ => body.len() / bytes,
                        }
                    } else {
                        prost::encoding::check_wire_type(unpacked, wire)?;
                        skip_field(wire, tag, &mut buf, DecodeContext::default())?;
                        1
                    };
                    if field.repeated.is_some() {
                        count(&mut entries[at], n)?;
                        if !field.weights {
                            self.add(n.saturating_mul(bytes))?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The body of a length-delimited field of `schema` (its length already read from `buf`'s
/// start), which must fit in what is left of the message.
fn length_delimited<'a>(
    buf: &mut &'a [u8],
    schema: &Schema,
    field: &'static str,
) -> Result<&'a [u8], ExportError> {
    let claimed = decode_varint(buf)?;
    let left = buf.len();
    match usize::try_from(claimed) {
        Ok(len) if len <= left => {
            let (body, rest) = buf.split_at(len);
            *buf = rest;
            Ok(body)
        }
        _ => Err(ExportError::LengthPastEnd {
            message: schema.name,
            field,
            claimed,
            left,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_at_most_eight_fields_kept() {
        // `Walk::message` keeps its counts in arrays of eight.
        for schema in [
            &MODEL,
            &OPSET,
            &ENTRY,
            &GRAPH,
            &SPARSE,
            &NODE,
            &ATTRIBUTE,
            &TENSOR,
            &VALUE,
            &TYPE,
            &TYPE_TENSOR,
            &SHAPE,
            &DIMENSION,
        ] {
            assert!(schema.fields.len() <= 8, "{}", schema.name);
        }
    }
}
