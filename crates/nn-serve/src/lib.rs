//! The HTTP server behind `nn serve` (axum on tokio): the page of `web/` (drawing, training in
//! the browser, the chapter's figures), its WebAssembly engine (`web/pkg/`), the four MNIST
//! files for training in the page, a model, and a JSON API.
//!
//! | Route | What |
//! |---|---|
//! | `GET /`, `GET /<file>` | the page: embedded at build time from the workspace's `web/` (so an installed `nn` serves it too), or [`Config::web`]'s folder |
//! | `GET /data/<name>` | MNIST's four files by MNIST's names, `.gz` or not (`train-images-idx3-ubyte.gz`, ...), as found on disk |
//! | `GET /api/info` | `{"model": {"sizes": [...], "cost": "..."} \| null, "data": bool}` |
//! | `GET /api/model` | the model as JSON (the file `nn eval` reads) |
//! | `POST /api/predict` | a PNG body → `{"digit": d, "probabilities": [...]}` (nn-data's `picture::classify_png`, as `nn predict`) |
//!
//! Every error is a 4xx (or 503 when busy) with `{"error": "..."}`. Hostile clients meet
//! bounded limits ([`Limits`]): a body limit checked before and while reading, picture
//! dimensions checked before decoding (nn-data's limits), pictures decoded in bounded memory
//! by at most [`Limits::predictions`] threads at a time, a time limit to send the request
//! headers and the body, and at most [`Limits::connections`] connections at once (others wait
//! in the kernel's queue).
//!
//! ```no_run
//! use nn_serve::{Config, Server};
//!
//! let server = Server::bind(Config::default())?;
//! println!("serving {}", server.url());
//! server.run(|| false)?; // until the closure says stop
//! # Ok::<(), nn_serve::ServeError>(())
//! ```

mod routes;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use nn_core::Model;
use nn_data::IdxFiles;
use tokio::sync::Semaphore;

/// Why the server cannot start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address cannot be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The async runtime cannot start.
    #[error("cannot start the server's threads: {0}")]
    Runtime(std::io::Error),
    /// The folder given for the page is not a folder holding `index.html`.
    #[error("{0}: not a folder holding the page (index.html)")]
    NoPage(PathBuf),
}

/// Bounds on what one client can make the server do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body (a PNG to classify), in bytes; a larger one is refused with 413.
    pub body_bytes: usize,
    /// Time a client has to send its request headers, and then its body.
    pub timeout: Duration,
    /// Connections served at once.
    pub connections: usize,
    /// Pictures decoded and classified at once; a request waits for its turn at most
    /// [`Limits::timeout`], then gets 503.
    pub predictions: usize,
}

impl Default for Limits {
    /// 1 MiB bodies, 30 seconds, 256 connections, one prediction per core: at most 256 MiB of
    /// bodies held at once (a drawing of the page is a few kilobytes).
    fn default() -> Self {
        Self {
            body_bytes: 1 << 20,
            timeout: Duration::from_secs(30),
            connections: 256,
            predictions: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// What the server serves and where.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on; port 0 picks a free port ([`Server::url`] tells which).
    pub bind: SocketAddr,
    /// A folder to serve the page from instead of the page embedded at build time.
    pub web: Option<PathBuf>,
    /// The four MNIST files served under `/data/`.
    pub data: Option<IdxFiles>,
    /// The model of `/api/model` and `/api/predict`.
    pub model: Option<Model>,
    /// The limits.
    pub limits: Limits,
}

impl Default for Config {
    /// 127.0.0.1:8000, the embedded page, no data, no model, default limits.
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 8000)),
            web: None,
            data: None,
            model: None,
            limits: Limits::default(),
        }
    }
}

/// A server bound to its address, ready to [`run`](Server::run).
#[derive(Debug)]
pub struct Server {
    runtime: tokio::runtime::Runtime,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    config: Config,
}

impl Server {
    /// Starts the runtime and binds `config.bind`.
    pub fn bind(config: Config) -> Result<Self, ServeError> {
        if let Some(dir) = &config.web
            && !dir.join("index.html").is_file()
        {
            return Err(ServeError::NoPage(dir.clone()));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(config.limits.predictions.max(1) + 4)
            .enable_all()
            .build()
            .map_err(ServeError::Runtime)?;
        let bind_error = |source| ServeError::Bind {
            addr: config.bind,
            source,
        };
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(config.bind))
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        Ok(Self {
            runtime,
            listener,
            addr,
            config,
        })
    }

    /// The address bound (with the port picked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address, e.g. `http://127.0.0.1:8000/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Serves until `stop` returns true (it is asked ten times a second), then stops accepting,
    /// lets the requests under way finish for up to [`Limits::timeout`] and returns.
    pub fn run(self, stop: impl Fn() -> bool + Send + 'static) -> Result<(), ServeError> {
        let Self {
            runtime,
            listener,
            config,
            ..
        } = self;
        let limits = config.limits;
        let app = routes::router(config);
        runtime.block_on(async move {
            let connections = Arc::new(Semaphore::new(limits.connections.max(1)));
            let graceful = GracefulShutdown::new();
            // HTTP/1 alone, without protocol detection, so that the header timeout runs from
            // the moment a connection is accepted or falls idle: a client that connects and
            // sends nothing, or keeps an idle connection open, is let go after it too.
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.timeout);
            let stopping = async move {
                while !stop() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            tokio::pin!(stopping);
            loop {
                let permit = tokio::select! {
                    () = &mut stopping => break,
                    permit = connections.clone().acquire_owned() => permit,
                };
                let Ok(permit) = permit else { break };
                let (stream, _) = tokio::select! {
                    () = &mut stopping => break,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        // Out of file descriptors, a connection reset before it was accepted:
                        // the server carries on.
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                let service = TowerToHyperService::new(app.clone());
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                    drop(permit);
                });
            }
            drop(listener);
            let _ = tokio::time::timeout(limits.timeout, graceful.shutdown()).await;
        });
        runtime.shutdown_timeout(Duration::from_secs(1));
        Ok(())
    }
}
