//! Receiving into memory that is not initialized yet: tokio's [`ReadBuf`] and bytes'
//! [`BufMut`], which hand out `MaybeUninit<u8>` so that a reader need not zero a buffer it
//! is about to overwrite (hyper and tokio-util read into fresh `BytesMut` capacity on every
//! call; zeroing it first would cost a `memset` of the whole buffer per read).
//!
//! The only unsafe code of the net types lives here. Every function takes a socket, not a
//! closure: the bytes are written by `recv(2)` / `recvfrom(2)` through socket2, whose
//! `recv*` methods take `&mut [MaybeUninit<u8>]`, promise never to write uninitialized bytes
//! into it, and return how many bytes the kernel stored. That count is what the unsafe
//! blocks below rely on, and nothing else.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;

use bytes::BufMut;
use socket2::{SockAddr, SockRef};
use tokio::io::ReadBuf;

/// Which receive call to make.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Recv {
    /// `recv(2)`: a stream read, or a datagram from the connected peer.
    Plain,
    /// `recv(2)` with `MSG_PEEK`: the data stays queued.
    Peek,
}

fn recv_into(sock: SockRef<'_>, how: Recv, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    match how {
        Recv::Plain => sock.recv(buf),
        Recv::Peek => sock.peek(buf),
    }
}

/// Receives into `buf`'s unfilled part and marks the received bytes filled. Returns their
/// count.
///
/// # Errors
///
/// As `recv(2)`.
pub(crate) fn recv_read_buf(
    sock: SockRef<'_>,
    how: Recv,
    buf: &mut ReadBuf<'_>,
) -> io::Result<usize> {
    // SAFETY: `unfilled_mut` requires that no byte be de-initialized through the slice; the
    // slice goes only to socket2's `recv`, which never writes uninitialized bytes.
    let unfilled = unsafe { buf.unfilled_mut() };
    let n = recv_into(sock, how, unfilled)?;
    // SAFETY: `recv` returned `n`: the kernel stored `n` bytes at the start of the unfilled
    // part (socket2 returns the system call's count, which never exceeds the slice's
    // length), so those bytes are initialized.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok(n)
}

/// Receives a datagram and its source into `buf`'s unfilled part; marks it filled.
///
/// # Errors
///
/// As `recvfrom(2)`.
pub(crate) fn recv_from_read_buf(
    sock: SockRef<'_>,
    how: Recv,
    buf: &mut ReadBuf<'_>,
) -> io::Result<(usize, SockAddr)> {
    // SAFETY: as in `recv_read_buf`: the slice goes only to socket2's `recv_from` /
    // `peek_from`, which never write uninitialized bytes.
    let unfilled = unsafe { buf.unfilled_mut() };
    let (n, from) = match how {
        Recv::Plain => sock.recv_from(unfilled)?,
        Recv::Peek => sock.peek_from(unfilled)?,
    };
    // SAFETY: the kernel stored `n` bytes at the start of the unfilled part.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok((n, from))
}

/// Receives into `buf`'s spare capacity (growing it if it has none, as `BufMut::chunk_mut`
/// does) and advances it past the received bytes. Returns their count.
///
/// # Errors
///
/// As `recv(2)`.
pub(crate) fn recv_buf_mut<B: BufMut + ?Sized>(
    sock: SockRef<'_>,
    buf: &mut B,
) -> io::Result<usize> {
    let chunk = buf.chunk_mut();
    // SAFETY: `as_uninit_slice_mut` requires that no byte be de-initialized through the
    // slice; it goes only to socket2's `recv`, which never writes uninitialized bytes.
    let dst = unsafe { chunk.as_uninit_slice_mut() };
    let n = sock.recv(dst)?;
    // SAFETY: `advance_mut(n)` requires the next `n` bytes of the chunk to be initialized:
    // the kernel stored exactly `n` bytes there (`n <= dst.len()`).
    unsafe { buf.advance_mut(n) };
    Ok(n)
}

/// Receives a datagram and its source into `buf`'s spare capacity; advances `buf`.
///
/// # Errors
///
/// As `recvfrom(2)`.
pub(crate) fn recv_from_buf_mut<B: BufMut + ?Sized>(
    sock: SockRef<'_>,
    buf: &mut B,
) -> io::Result<(usize, SockAddr)> {
    let chunk = buf.chunk_mut();
    // SAFETY: as in `recv_buf_mut`: the slice goes only to socket2's `recv_from`.
    let dst = unsafe { chunk.as_uninit_slice_mut() };
    let (n, from) = sock.recv_from(dst)?;
    // SAFETY: the kernel stored exactly `n` bytes at the start of the chunk.
    unsafe { buf.advance_mut(n) };
    Ok((n, from))
}
