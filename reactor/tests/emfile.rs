//! An accept loop survives running out of file descriptors: it backs off instead of
//! spinning or ending, and accepts again once descriptors are free.
//!
//! The scenario lowers `RLIMIT_NOFILE`, so it runs in a child process: the test re-executes
//! its own binary, selecting `child_runs_out_of_descriptors` with an environment variable
//! set (without it, that test does nothing).

mod common;

use std::time::Duration;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use weft_executor::spawn;
use weft_reactor::net::{TcpListener, TcpStream};

const CHILD_ENV: &str = "WEFT_TEST_EMFILE_CHILD";

/// How long the server is left without descriptors.
const STARVED: Duration = Duration::from_millis(400);

#[test]
fn accept_survives_emfile() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "child_runs_out_of_descriptors",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the child test did not run:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("child: accepted after EMFILE"),
        "{stdout}\n{stderr}"
    );
}

/// Process CPU time (user + system).
fn cpu_time() -> Duration {
    // SAFETY: all-zero is a valid `rusage` (plain integers).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `getrusage` writes only into the `rusage` we pass, valid for the call. It
    // opens no descriptor, so it works while they are exhausted.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn lower_nofile_limit(to: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit`/`setrlimit` read or write only the `rlimit` we pass.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        #[allow(clippy::unnecessary_cast)] // `rlim_t` is `u64` on Linux, not everywhere
        let cur = lim.rlim_cur as u64;
        lim.rlim_cur = to.min(cur) as libc::rlim_t;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
}

#[test]
fn child_runs_out_of_descriptors() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    lower_nofile_limit(256);
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Connect first: the connection waits in the listener's queue.
        let mut client = TcpStream::connect(addr).await.unwrap();

        // Take every descriptor left.
        let mut hog = Vec::new();
        loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => hog.push(f),
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
                Err(e) => panic!("unexpected error while exhausting descriptors: {e}"),
            }
        }
        assert!(!hog.is_empty());

        let server = spawn(async move {
            let (mut socket, _) = listener.accept().await?;
            socket.write_all(b"ok").await?;
            Ok::<_, std::io::Error>(socket)
        });

        // Nothing can be awaited here: the point is that nothing happens. Leave the server
        // starved for a while and look at what it did meanwhile.
        let cpu_before = cpu_time();
        weft_timer::sleep(STARVED).await;
        let cpu = cpu_time() - cpu_before;
        assert!(!server.is_finished(), "the accept loop ended on EMFILE");
        // A spinning accept would burn the whole interval; backing off (a retry every
        // 50 ms) costs next to nothing.
        assert!(
            cpu < STARVED / 4,
            "the accept loop spun: {cpu:?} of CPU in {STARVED:?}"
        );

        // Free the descriptors: the next retry accepts.
        drop(hog);
        let mut buf = [0; 2];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
        let _socket = server.await.unwrap().unwrap();
        println!("child: accepted after EMFILE (cpu while starved: {cpu:?})");
    });
}
