//! `nn export`: a saved model written as ONNX, safetensors or nn's JSON (see [`nn_export`]).

use std::path::PathBuf;

use anyhow::Result;

/// Examples shown by `nn export --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn export model.json model.onnx           ONNX (opset 13) for onnxruntime and other tools
  nn export model.json model.safetensors    weights named as a PyTorch nn.Sequential's
  nn export model.onnx model.json           an ONNX model of Linear layers back to nn's JSON
The format is OUT's extension. ONNX has the input standardization folded into the first
layer; safetensors keeps it in its metadata, with sizes, activations, cost and framing.";

/// The flags of `nn export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The model: nn's JSON, safetensors or ONNX, told apart by content
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// The file to write: .onnx, .safetensors or .json
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
}

/// Runs `nn export`.
pub fn run(args: &ExportArgs) -> Result<()> {
    let model = nn_export::load_any(&args.model)?;
    let format = nn_export::export(&model, Some(&args.model), &args.out)?;
    say!("wrote {} ({format:?})", args.out.display());
    Ok(())
}
