//! [`ToSocketAddrs`]: what `bind`, `connect` and `send_to` accept, and [`lookup_host`].
//!
//! Literal addresses resolve at once. A host name goes to `std::net::ToSocketAddrs`, which
//! blocks (getaddrinfo), so it runs on a short-lived thread of its own and hands its result
//! back through the waiting task's waker. (When weft's blocking pool is available to this
//! crate, the lookup should move there.)

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Types that resolve to one or more socket addresses: what `bind`, `connect` and `send_to`
/// accept, as in tokio.
///
/// Implemented for [`SocketAddr`], [`SocketAddrV4`], [`SocketAddrV6`], `(IpAddr, u16)`,
/// `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `&[SocketAddr]`, `&str` and `String`
/// (`"host:port"`), `(&str, u16)` and `(String, u16)`, and references to these. Literal
/// addresses resolve without blocking; host names are resolved with the system resolver on a
/// helper thread, so the runtime's thread never blocks.
///
/// The trait is sealed: its method is internal.
///
/// # Examples
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddr};
/// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
/// # rt.block_on(async {
/// let a = weft_reactor::net::UdpSocket::bind("127.0.0.1:0").await?;
/// let b = weft_reactor::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
/// let c = weft_reactor::net::UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
/// # let _ = (a, b, c);
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use super::Resolve;

    /// The internal half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait ToSocketAddrsPriv {
        /// Starts resolving.
        fn resolve(&self) -> Resolve;
    }
}

/// Resolves `addr` to its socket addresses.
pub(crate) async fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<Addrs> {
    addr.resolve().await
}

/// Resolves `host` (anything [`ToSocketAddrs`] accepts, usually `"name:port"` or
/// `("name", port)`) to socket addresses, without blocking the runtime's thread.
///
/// # Errors
///
/// Whatever the system resolver reports (an unknown host, a malformed address).
///
/// # Examples
///
/// ```
/// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
/// # rt.block_on(async {
/// let addrs: Vec<_> = weft_reactor::net::lookup_host("127.0.0.1:80").await?.collect();
/// assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    resolve(host).await
}

/// Resolved addresses: one (no allocation) or several.
#[doc(hidden)]
#[derive(Debug)]
pub enum Addrs {
    /// A literal address.
    One(Option<SocketAddr>),
    /// What a resolver or a slice gave.
    Many(std::vec::IntoIter<SocketAddr>),
}

impl Iterator for Addrs {
    type Item = SocketAddr;

    fn next(&mut self) -> Option<SocketAddr> {
        match self {
            Addrs::One(addr) => addr.take(),
            Addrs::Many(addrs) => addrs.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Addrs::One(addr) => (addr.is_some() as usize, Some(addr.is_some() as usize)),
            Addrs::Many(addrs) => addrs.size_hint(),
        }
    }
}

/// An address resolution: done, or running on a helper thread.
#[doc(hidden)]
#[must_use = "futures do nothing unless awaited"]
pub enum Resolve {
    /// Resolved without blocking (`None` once taken).
    Done(Option<io::Result<Addrs>>),
    /// Resolving on a helper thread.
    Blocking(Arc<Handoff>),
}

/// The result of a lookup, passed from the helper thread to the waiting task.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Handoff {
    state: Mutex<HandoffState>,
}

#[derive(Debug, Default)]
struct HandoffState {
    result: Option<io::Result<Addrs>>,
    waker: Option<Waker>,
}

impl Resolve {
    /// One address: no allocation (the common case of `bind`, `connect` and `send_to`).
    fn one(addr: SocketAddr) -> Resolve {
        Resolve::Done(Some(Ok(Addrs::One(Some(addr)))))
    }

    /// Resolves `(host, port)` with the system resolver, off the runtime's thread.
    fn blocking(host: String, port: u16) -> Resolve {
        let handoff = Arc::new(Handoff::default());
        let theirs = handoff.clone();
        let fallback = host.clone();
        let spawned = std::thread::Builder::new()
            .name("weft-resolve".into())
            .spawn(move || {
                let result = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                    .map(|addrs| Addrs::Many(addrs.collect::<Vec<_>>().into_iter()));
                let waker = {
                    let mut state = theirs.state.lock().unwrap_or_else(|e| e.into_inner());
                    state.result = Some(result);
                    state.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            });
        match spawned {
            Ok(_) => Resolve::Blocking(handoff),
            // No thread to be had (a process or memory limit): resolve here, blocking.
            Err(_) => Resolve::Done(Some(
                std::net::ToSocketAddrs::to_socket_addrs(&(fallback.as_str(), port))
                    .map(|addrs| Addrs::Many(addrs.collect::<Vec<_>>().into_iter())),
            )),
        }
    }

    /// `"host:port"`: literal, or split and resolved as a name.
    fn from_str(s: &str) -> Resolve {
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Resolve::one(addr);
        }
        let Some((host, port)) = s.rsplit_once(':') else {
            return Resolve::Done(Some(Err(invalid("invalid socket address"))));
        };
        match port.parse::<u16>() {
            Ok(port) => Resolve::from_host(host, port),
            Err(_) => Resolve::Done(Some(Err(invalid("invalid port value")))),
        }
    }

    fn from_host(host: &str, port: u16) -> Resolve {
        match host.parse::<IpAddr>() {
            Ok(ip) => Resolve::one(SocketAddr::new(ip, port)),
            Err(_) => Resolve::blocking(host.to_owned(), port),
        }
    }
}

impl Future for Resolve {
    type Output = io::Result<Addrs>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Resolve::Done(result) => {
                Poll::Ready(result.take().expect("Resolve polled after completion"))
            }
            Resolve::Blocking(handoff) => {
                let mut state = handoff.state.lock().unwrap_or_else(|e| e.into_inner());
                match state.result.take() {
                    Some(result) => Poll::Ready(result),
                    None => {
                        if !state
                            .waker
                            .as_ref()
                            .is_some_and(|w| w.will_wake(cx.waker()))
                        {
                            state.waker = Some(cx.waker().clone());
                        }
                        Poll::Pending
                    }
                }
            }
        }
    }
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

macro_rules! literal {
    ($($ty:ty => |$a:ident| $e:expr;)*) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::ToSocketAddrsPriv for $ty {
            fn resolve(&self) -> Resolve {
                let $a = self;
                Resolve::one($e)
            }
        }
    )*};
}

literal! {
    SocketAddr => |a| *a;
    SocketAddrV4 => |a| SocketAddr::V4(*a);
    SocketAddrV6 => |a| SocketAddr::V6(*a);
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1);
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1);
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1);
    ([u8; 4], u16) => |a| SocketAddr::from(*a);
}

impl ToSocketAddrs for &[SocketAddr] {}
impl sealed::ToSocketAddrsPriv for &[SocketAddr] {
    fn resolve(&self) -> Resolve {
        let addrs: Vec<SocketAddr> = self.to_vec();
        Resolve::Done(Some(Ok(Addrs::Many(addrs.into_iter()))))
    }
}

impl ToSocketAddrs for str {}
impl sealed::ToSocketAddrsPriv for str {
    fn resolve(&self) -> Resolve {
        Resolve::from_str(self)
    }
}

impl ToSocketAddrs for String {}
impl sealed::ToSocketAddrsPriv for String {
    fn resolve(&self) -> Resolve {
        Resolve::from_str(self)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::ToSocketAddrsPriv for (&str, u16) {
    fn resolve(&self) -> Resolve {
        Resolve::from_host(self.0, self.1)
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::ToSocketAddrsPriv for (String, u16) {
    fn resolve(&self) -> Resolve {
        Resolve::from_host(&self.0, self.1)
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::ToSocketAddrsPriv for &T {
    fn resolve(&self) -> Resolve {
        (**self).resolve()
    }
}
