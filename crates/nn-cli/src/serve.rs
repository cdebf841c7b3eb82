//! `nn serve`: the page (draw a digit, train in the browser, the chapter's figures), MNIST's
//! files, a model and a prediction API over HTTP; the server is the library crate nn-serve's.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use nn_serve::{Config, Limits, Server};

use crate::data_source::DataSource;

/// Examples shown by `nn serve --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn serve --model model.json          the page at http://127.0.0.1:8000/, drawing with the model
  nn serve --port 0                    a free port, printed on the first line
  nn serve --bind 0.0.0.0 --port 8080  reachable from other machines
The page is built into nn (run scripts/build-web before building nn to include its engine);
--web DIR serves a folder instead. The API: GET /api/info, GET /api/model, POST /api/predict
with a PNG body -> {\"digit\": d, \"probabilities\": [...]}; MNIST's files under /data/.
Ctrl-C or SIGTERM stops the server after the requests under way.";

/// The flags of `nn serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The port to listen on; 0 picks a free one
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// The address to listen on (127.0.0.1 serves this machine only)
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// The model the page draws with and POST /api/predict classifies with (JSON, ONNX or
    /// safetensors)
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Serve the page from this folder instead of the page built into nn
    #[arg(long, value_name = "DIR")]
    pub web: Option<PathBuf>,
    /// Seconds a client has to send its request headers, and then its body
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0,
          value_parser = parse_timeout)]
    pub timeout: f64,
    /// Largest PNG body POST /api/predict accepts, in bytes (at most 64 MiB)
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().body_bytes as u32,
          value_parser = clap::value_parser!(u32).range(1..=64 << 20))]
    pub max_body: u32,
    /// The data set served to the page for training.
    #[command(flatten)]
    pub data: DataSource,
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.1..=3600.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "{text} is not a number of seconds from 0.1 to 3600"
        )),
    }
}

/// Runs `nn serve` until Ctrl-C or SIGTERM.
pub fn run(args: &ServeArgs) -> Result<()> {
    let model = args
        .model
        .as_deref()
        .map(|path| nn_export::load_any(path).with_context(|| "cannot serve the model".to_string()))
        .transpose()?;
    let located = args.data.locate()?;
    let config = Config {
        bind: SocketAddr::new(args.bind, args.port),
        web: args.web.clone(),
        data: Some(located.files),
        model,
        limits: Limits {
            body_bytes: args.max_body as usize,
            timeout: Duration::from_secs_f64(args.timeout),
            ..Limits::default()
        },
    };
    let server = Server::bind(config)?;
    say!("serving {}", server.url());
    tell!("data: {}", located.origin);
    server.run(|| crate::interrupt::received().is_some())?;
    if let Some(signal) = crate::interrupt::received() {
        tell!("nn serve: stopped on {}", signal.name());
    }
    Ok(())
}
