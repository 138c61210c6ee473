//! File-system calls on the blocking pool (asyncio runs file I/O in threads too).
//!
//! Each function runs its `std::fs` counterpart through [`to_thread`](crate::to_thread) and
//! returns its `io::Result`.
//!
//! ```
//! weft::run(async {
//!     let dir = std::env::temp_dir().join(format!("weft-fs-doc-{}", std::process::id()));
//!     weft::fs::create_dir_all(&dir).await.unwrap();
//!     let file = dir.join("hello.txt");
//!     weft::fs::write(&file, "hi").await.unwrap();
//!     assert_eq!(weft::fs::read_to_string(&file).await.unwrap(), "hi");
//!     assert_eq!(weft::fs::metadata(&file).await.unwrap().len(), 2);
//!     weft::fs::remove_file(&file).await.unwrap();
//!     std::fs::remove_dir(&dir).unwrap();
//! });
//! ```

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    crate::to_thread(f).await?
}

/// Reads a whole file into bytes (`std::fs::read`).
///
/// # Errors
///
/// As `std::fs::read`; also if the blocking task was cancelled or panicked.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path: PathBuf = path.as_ref().to_owned();
    blocking(move || std::fs::read(path)).await
}

/// Reads a whole file into a string (`std::fs::read_to_string`).
///
/// # Errors
///
/// As `std::fs::read_to_string`.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path: PathBuf = path.as_ref().to_owned();
    blocking(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` to a file, creating or truncating it (`std::fs::write`).
///
/// # Errors
///
/// As `std::fs::write`.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path: PathBuf = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    blocking(move || std::fs::write(path, contents)).await
}

/// A file's metadata (`std::fs::metadata`).
///
/// # Errors
///
/// As `std::fs::metadata`.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path: PathBuf = path.as_ref().to_owned();
    blocking(move || std::fs::metadata(path)).await
}

/// Creates a directory and its missing parents (`std::fs::create_dir_all`).
///
/// # Errors
///
/// As `std::fs::create_dir_all`.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path: PathBuf = path.as_ref().to_owned();
    blocking(move || std::fs::create_dir_all(path)).await
}

/// Removes a file (`std::fs::remove_file`).
///
/// # Errors
///
/// As `std::fs::remove_file`.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path: PathBuf = path.as_ref().to_owned();
    blocking(move || std::fs::remove_file(path)).await
}
