//! The routes: the page, the data files, the model and the prediction API.

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use nn_core::{Framing, Model};
use nn_data::mnist::MNIST_FILES;
use rust_embed::RustEmbed;
use serde_json::json;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use nn_data::picture::{ClassifyError, classify_png};

use crate::{Config, Limits};

/// The page, embedded at build time (build.rs reruns the build when `web/` changes).
#[derive(RustEmbed)]
#[folder = "../../web/"]
struct Page;

/// What every handler shares.
struct AppState {
    model: Option<(Arc<Model>, String)>,
    /// The data files in [`MNIST_FILES`] order.
    data: Option<[PathBuf; 4]>,
    limits: Limits,
    predictions: Semaphore,
}

/// The router for `config`.
pub(crate) fn router(config: Config) -> Router {
    let state = Arc::new(AppState {
        model: config.model.map(|m| {
            let json = nn_core::model_to_json(&m.network, &m.cost);
            (Arc::new(m), json)
        }),
        data: config
            .data
            .map(|f| [f.train_images, f.train_labels, f.test_images, f.test_labels]),
        limits: config.limits,
        predictions: Semaphore::new(config.limits.predictions.max(1)),
    });
    let api = Router::new()
        .route("/api/predict", post(predict))
        .route("/api/model", get(model))
        .route("/api/info", get(info))
        .route("/api/{*rest}", any(api_not_found))
        .route("/data/{name}", get(data))
        .with_state(state);
    match config.web {
        Some(dir) => {
            api.fallback_service(ServeDir::new(dir).append_index_html_on_directories(true))
        }
        None => api.fallback(embedded),
    }
}

/// An API error: a status and `{"error": message}`.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<ClassifyError> for ApiError {
    fn from(e: ClassifyError) -> Self {
        use nn_data::picture::PictureError;
        let status = match &e {
            ClassifyError::Picture(PictureError::Decode(_)) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ClassifyError::Picture(PictureError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError(status, e.to_string())
    }
}

fn no_model() -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        "no model is served; start the server with --model MODEL.json".into(),
    )
}

async fn predict(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (model, _) = state.model.clone().ok_or_else(no_model)?;
    let limit = state.limits.body_bytes;
    let too_large = || {
        ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than the limit of {limit} bytes; send a smaller PNG"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let deadline = tokio::time::Instant::now() + state.limits.timeout;
    let timed_out = || {
        ApiError(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body did not arrive within {} seconds",
                state.limits.timeout.as_secs_f64()
            ),
        )
    };
    let bytes = tokio::time::timeout_at(deadline, Limited::new(body, limit).collect())
        .await
        .map_err(|_| timed_out())?
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                too_large()
            } else {
                ApiError(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the body: {e}"),
                )
            }
        })?
        .to_bytes();
    if bytes.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "the body is empty; send a PNG picture of one digit".into(),
        ));
    }
    let _turn = tokio::time::timeout_at(deadline, state.predictions.acquire())
        .await
        .map_err(|_| {
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is busy classifying other pictures; try again".into(),
            )
        })?
        .map_err(|_| ApiError(StatusCode::SERVICE_UNAVAILABLE, "shutting down".into()))?;
    let framing = model.network.framing().unwrap_or(Framing::MNIST);
    let prediction = tokio::task::spawn_blocking(move || {
        classify_png(&model.network, Cursor::new(bytes), framing)
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    Ok(Json(json!({
        "digit": prediction.digit,
        "probabilities": prediction.probabilities,
    })))
}

async fn model(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let (_, json) = state.model.as_ref().ok_or_else(no_model)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json.clone()).into_response())
}

async fn info(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let model = state
        .model
        .as_ref()
        .map(|(m, _)| json!({ "sizes": m.network.sizes(), "cost": m.cost }));
    Json(json!({ "model": model, "data": state.data.is_some() }))
}

async fn api_not_found(request: Request) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        format!(
            "no such API: {} {}; there are GET /api/info, GET /api/model and POST /api/predict",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn data(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let files = state.data.as_ref().ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            "no data set is served; start the server with --data DIR".into(),
        )
    })?;
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    let index = MNIST_FILES
        .iter()
        .position(|f| f.name == stem)
        .ok_or_else(|| {
            let names: Vec<&str> = MNIST_FILES.iter().map(|f| f.name).collect();
            ApiError(
                StatusCode::NOT_FOUND,
                format!("no data file {name}; there are {}", names.join(", ")),
            )
        })?;
    let response = ServeFile::new(&files[index])
        .oneshot(request)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(response.map(Body::new))
}

/// A file of the embedded page.
async fn embedded(request: Request) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_string()
    };
    match Page::get(&path) {
        Some(file) => {
            let mut response = Response::new(Body::from(file.data.into_owned()));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&path)),
            );
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        None => (StatusCode::NOT_FOUND, format!("not found: /{path}\n")).into_response(),
    }
}

/// The content type of a page file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
