//! An axum `Router` served by hyper on weft (no tokio runtime): `cargo run --example
//! axum_hello -- 3000`, then
//!
//! ```text
//! curl 127.0.0.1:3000/
//! curl -X POST 127.0.0.1:3000/users -H 'content-type: application/json' -d '{"name":"ada"}'
//! curl 127.0.0.1:3000/users/1
//! curl 127.0.0.1:3000/stats
//! ```
//!
//! Routes: `GET /` (text), `POST /users` (JSON in, `201` and JSON out), `GET /users/{id}`
//! (JSON, or `404`), `GET /stats` (JSON: users and requests so far). The users and the
//! request count are shared state, behind a lock, in every handler. Each connection is hyper's
//! `serve_connection` around `TokioIo<weft::net::TcpStream>`, with the router adapted by
//! hyper-util's `TowerToHyperService`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use weft::net::TcpListener;

/// A user, as stored and as answered.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct User {
    /// Given by the server.
    pub id: u64,
    /// Given by the client.
    pub name: String,
}

/// The body of `POST /users`.
#[derive(Debug, Deserialize)]
pub struct NewUser {
    /// The new user's name.
    pub name: String,
}

/// The answer of `GET /stats`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// Users created so far.
    pub users: usize,
    /// Requests answered so far, this one included.
    pub requests: u64,
}

/// What every handler shares.
#[derive(Default)]
pub struct Db {
    users: BTreeMap<u64, User>,
    next_id: u64,
    requests: u64,
}

/// The state handlers get (axum wants it `Clone + Send + Sync`).
pub type Shared = Arc<Mutex<Db>>;

fn count(db: &Shared) -> std::sync::MutexGuard<'_, Db> {
    let mut db = db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    db.requests += 1;
    db
}

async fn hello(State(db): State<Shared>) -> &'static str {
    drop(count(&db));
    "Hello, World!"
}

async fn create_user(
    State(db): State<Shared>,
    Json(new): Json<NewUser>,
) -> (StatusCode, Json<User>) {
    let mut db = count(&db);
    db.next_id += 1;
    let user = User {
        id: db.next_id,
        name: new.name,
    };
    db.users.insert(user.id, user.clone());
    (StatusCode::CREATED, Json(user))
}

async fn get_user(State(db): State<Shared>, Path(id): Path<u64>) -> Result<Json<User>, StatusCode> {
    let db = count(&db);
    db.users
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

async fn stats(State(db): State<Shared>) -> Json<Stats> {
    let db = count(&db);
    Json(Stats {
        users: db.users.len(),
        requests: db.requests,
    })
}

/// The application: routes, JSON handlers and their shared state.
pub fn app() -> Router {
    Router::new()
        .route("/", get(hello))
        .route("/users", post(create_user))
        .route("/users/{id}", get(get_user))
        .route("/stats", get(stats))
        .with_state(Shared::default())
}

/// Serves `app` on every connection `listener` accepts, one weft task each.
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let service = TowerToHyperService::new(app.clone());
        weft::spawn(async move {
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                eprintln!("axum_hello: {peer}: {e}");
            }
        });
    }
}

#[allow(dead_code)] // tests include this file for `serve`, not `main`
#[weft::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(3000);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("axum_hello: listening on http://{}", listener.local_addr()?);
    serve(listener, app()).await
}
