//! Starting an example server as a child process, watching its memory, and checking that it
//! still answers another client.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How fast another client must be answered while an attack runs: the bar.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(1);
/// A guard against a hang, never a measurement: what a test waits at most for anything.
pub const PATIENCE: Duration = Duration::from_secs(20);
/// The RSS bound for the HTTP, chat and echo servers, in MiB.
pub const RSS_LIMIT_MIB: u64 = 64;
/// The RSS bound for mini_redis with its 4 MiB values, in MiB.
pub const REDIS_RSS_LIMIT_MIB: u64 = 256;

/// One test at a time: each starts a server and attacks it with many connections, and on
/// a loaded two-core machine two at once could starve each other's 1 s answers.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The path of an example's binary, built (once per run) with the profile of this test.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        // This test runs from target/<profile>/deps/; the examples are in
        // target/<profile>/examples/. Build them, so that no stale binary is tested
        // (after `cargo test --workspace` this is a no-op).
        let exe = std::env::current_exe().expect("the test's own path");
        let profile_dir = exe
            .parent()
            .and_then(|d| d.parent())
            .expect("target/<profile>");
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => {}
            Some("release") => {
                cargo.arg("--release");
            }
            Some(other) => {
                cargo.args(["--profile", other]);
            }
            None => panic!("unexpected test path {exe:?}"),
        }
        let status = cargo.status().expect("cargo runs");
        assert!(status.success(), "building the examples failed");
        profile_dir.join("examples")
    });
    dir.join(name)
}

/// An example server running as a child process on a free port of 127.0.0.1, killed (by
/// its pid) when dropped. A thread samples its resident memory every 10 ms.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    peak_rss_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    sampler: Option<JoinHandle<()>>,
    /// Kept open and never read again, for [`Server::start_undrained`].
    _stderr: Option<ChildStderr>,
}

impl Server {
    /// Starts example `name` with `args` (the port is chosen here); its log is read and
    /// thrown away.
    pub fn start(name: &str, args: &[&str]) -> Server {
        let (server, stderr) = Server::spawn(name, args);
        std::thread::spawn(move || {
            let _ = io::copy(&mut { stderr }, &mut io::sink());
        });
        server
    }

    /// Like [`start`](Self::start), but nobody reads the server's stderr after its first
    /// line: once the pipe is full, a blocking write to stderr would stop the server.
    pub fn start_undrained(name: &str, args: &[&str]) -> Server {
        let (mut server, stderr) = Server::spawn(name, args);
        server._stderr = Some(stderr);
        server
    }

    fn spawn(name: &str, args: &[&str]) -> (Server, ChildStderr) {
        let mut child = Command::new(example(name))
            .arg("0")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let mut stderr = child.stderr.take().expect("piped");
        // The first line says where it listens: "<name>: listening on [http://]127.0.0.1:N".
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stderr.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        let addr = line
            .rsplit(' ')
            .next()
            .map(|a| a.trim_start_matches("http://"))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{name} did not say where it listens: {line:?}"));

        let pid = child.id();
        let peak_rss_kib = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, stop) = (peak_rss_kib.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = rss_kib(pid) {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        let server = Server {
            child,
            addr,
            peak_rss_kib,
            stop,
            sampler: Some(sampler),
            _stderr: None,
        };
        (server, stderr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Asserts the server is still running, and that its resident memory never passed
    /// `limit_mib` so far.
    pub fn assert_healthy(&mut self, limit_mib: u64) {
        if let Some(kib) = rss_kib(self.pid()) {
            self.peak_rss_kib.fetch_max(kib, Ordering::Relaxed);
        }
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the server exited: {status}");
        }
        let peak = self.peak_rss_kib.load(Ordering::Relaxed);
        assert!(peak > 0, "no RSS sample");
        assert!(
            peak < limit_mib * 1024,
            "peak RSS {} MiB, over {limit_mib} MiB",
            peak / 1024
        );
    }

    /// How many file descriptors the server has open.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Waits (at most [`PATIENCE`]) until the server has at most `n` descriptors open: it
    /// has given up on the connections of an attack that is still holding them open.
    /// (Reading from them instead would start their flow again.)
    pub fn wait_fds_at_most(&self, n: usize) {
        let start = Instant::now();
        while self.open_fds() > n {
            assert!(
                start.elapsed() < PATIENCE,
                "{} descriptors still open, expected {n}",
                self.open_fds()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits (at most [`PATIENCE`]) for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < PATIENCE {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the server did not exit within {PATIENCE:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.child.kill(); // by pid: SIGKILL to this child only
        let _ = self.child.wait();
        if let Some(sampler) = self.sampler.take() {
            let _ = sampler.join();
        }
    }
}

/// `VmRSS` of process `pid`, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A blocking connection with [`PATIENCE`] as its read and write timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// A connection whose receive buffer is as small as the kernel allows, for a client that
/// does not read. (The server's send buffer still takes a few MiB on loopback before its
/// writes block: the attacks below send more than that.)
pub fn connect_small(addr: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&addr.into()).expect("connect");
    let s: TcpStream = socket.into();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    s
}

/// Sends `request` on a new connection and reads until the server closes it (or
/// [`PATIENCE`] passes); returns what it said.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = connect(addr);
    // The server may answer and close before it has read everything: not an error here.
    let _ = s.write_all(request);
    read_to_close(&mut s)
}

/// Everything until the peer closes (a reset or a timeout ends it too).
pub fn read_to_close(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = s.read(&mut buf) {
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Asserts that a new client gets its answer within [`ANSWER_WITHIN`]: `ask` connects,
/// asks, and returns whether the answer is right.
pub fn assert_answered(
    what: &str,
    ask: impl FnOnce(&mut TcpStream) -> io::Result<bool>,
    addr: SocketAddr,
) {
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(ANSWER_WITHIN)).unwrap();
    s.set_write_timeout(Some(ANSWER_WITHIN)).unwrap();
    s.set_nodelay(true).unwrap();
    let answer = ask(&mut s);
    let took = start.elapsed();
    assert!(
        matches!(answer, Ok(true)),
        "{what}: no right answer ({answer:?}) after {took:?}"
    );
    assert!(took < ANSWER_WITHIN, "{what}: answered after {took:?}");
}

/// An HTTP client: `GET /` answered `200` with its body, within [`ANSWER_WITHIN`].
pub fn assert_http_answers(addr: SocketAddr) {
    assert_answered(
        "GET /",
        |s| {
            s.write_all(b"GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")?;
            let mut got = Vec::new();
            s.read_to_end(&mut got)?;
            Ok(got.starts_with(b"HTTP/1.1 200 OK") && got.ends_with(b"Hello, World!"))
        },
        addr,
    );
}

/// A chat client: welcomed within [`ANSWER_WITHIN`].
pub fn assert_chat_answers(addr: SocketAddr) {
    assert_answered(
        "chat welcome",
        |s| {
            let mut got = Vec::new();
            let mut byte = [0u8; 1];
            while !got.ends_with(b"\n") && s.read(&mut byte)? == 1 {
                got.push(byte[0]);
            }
            Ok(got.starts_with(b"*** welcome"))
        },
        addr,
    );
}

/// A Redis client: `PING` answered `+PONG` within [`ANSWER_WITHIN`].
pub fn assert_redis_answers(addr: SocketAddr) {
    assert_answered(
        "PING",
        |s| {
            s.write_all(b"PING\r\n")?;
            let mut got = [0u8; 7];
            s.read_exact(&mut got)?;
            Ok(&got == b"+PONG\r\n")
        },
        addr,
    );
}

/// Closes `s` with a reset rather than a FIN (SO_LINGER 0).
pub fn reset(s: TcpStream) {
    socket2::SockRef::from(&s)
        .set_linger(Some(Duration::ZERO))
        .expect("SO_LINGER");
    drop(s);
}

/// Arguments that log every line with no rate limit: each reset is a debug line, so a
/// stderr pipe nobody reads fills within about a thousand of them.
pub const LOG_EVERYTHING: &[&str] = &["--log-level", "debug", "--log-rate", "1000000"];

/// The log attack: 3,000 connections that send `bytes` and then reset; `probe`
/// checks the server answers another client every 500.
pub fn reset_storm(server: &Server, bytes: &[u8], probe: impl Fn()) {
    for i in 0..3000 {
        let mut s = connect(server.addr);
        s.write_all(bytes).unwrap();
        reset(s);
        if i % 500 == 0 {
            probe();
        }
    }
    probe();
}

/// Half-closes our side, so that a server waiting for the client's end sees it.
pub fn finish(s: &TcpStream) {
    let _ = s.shutdown(Shutdown::Write);
}

/// Deterministic pseudo-random bytes (xorshift64*), so that a failure repeats.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Writes `data` to `s` until done, or until a write blocks for `for_at_most` (a peer that
/// stopped reading); returns how much was written.
pub fn write_until_blocked(s: &mut TcpStream, data: &[u8], for_at_most: Duration) -> usize {
    s.set_write_timeout(Some(for_at_most)).unwrap();
    let mut written = 0;
    while written < data.len() {
        match s.write(&data[written..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n,
        }
    }
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    written
}
