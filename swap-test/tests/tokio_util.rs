//! A tokio-style service built on tokio-util's codecs, with weft renamed as `tokio`: the
//! program below is what a tokio user writes, unchanged; `tokio::net` is weft's, and
//! tokio-util's `Framed` drives it through tokio's I/O traits, which weft's sockets implement.

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, LinesCodec};

/// Answers each line with it upper-cased, until the peer closes.
async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(1024));
            while let Some(Ok(line)) = lines.next().await {
                if lines.send(line.to_uppercase()).await.is_err() {
                    break;
                }
            }
        });
    }
}

#[tokio::test]
async fn a_lines_codec_service_runs_on_weft_renamed_as_tokio() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener));

    let mut clients = Vec::new();
    for c in 0..3 {
        clients.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut lines = Framed::new(stream, LinesCodec::new());
            let mut answers = Vec::new();
            for i in 0..5 {
                lines.send(format!("client {c} line {i}")).await.unwrap();
                answers.push(lines.next().await.unwrap().unwrap());
            }
            answers
        }));
    }
    for (c, client) in clients.into_iter().enumerate() {
        let answers = client.await.unwrap();
        let expected: Vec<String> = (0..5).map(|i| format!("CLIENT {c} LINE {i}")).collect();
        assert_eq!(answers, expected);
    }
    server.abort();
}

#[tokio::test]
async fn an_overlong_line_ends_that_connection_only() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener));

    // One client sends a line past the codec's limit and no newline: its connection ends.
    let mut bad = Framed::new(TcpStream::connect(addr).await.unwrap(), LinesCodec::new());
    bad.send("x".repeat(4096)).await.unwrap();
    let end = tokio::time::timeout(std::time::Duration::from_secs(10), bad.next()).await;
    assert!(
        matches!(end, Ok(None)),
        "the server drops that connection: {end:?}"
    );

    // Another client is served as usual.
    let mut good = Framed::new(TcpStream::connect(addr).await.unwrap(), LinesCodec::new());
    good.send("still here".to_string()).await.unwrap();
    assert_eq!(good.next().await.unwrap().unwrap(), "STILL HERE");
    server.abort();
}
