//! A TLS echo server on tokio-rustls, running on weft: `cargo run --example tls_echo -- 7443`.
//!
//! It makes a self-signed certificate for `localhost` when it starts (rcgen) and writes it
//! to `tls_echo.pem` in the temporary directory, so a client can trust it:
//! `openssl s_client -connect 127.0.0.1:7443 -CAfile /tmp/tls_echo.pem`. Each connection
//! gets back every byte it sends, until it closes.
//!
//! rustls' crypto provider is ring (see [`provider`] for why).

use std::sync::Arc;

use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

/// A self-signed certificate for `localhost` and its key.
pub struct Identity {
    /// The certificate (DER), which a client adds to its trusted roots.
    pub cert: CertificateDer<'static>,
    /// The certificate in PEM, for `openssl s_client -CAfile`.
    pub pem: String,
    key: PrivatePkcs8KeyDer<'static>,
}

/// Makes a new certificate for `localhost` (and 127.0.0.1).
///
/// # Panics
///
/// If rcgen cannot make a key pair (it cannot fail with these names).
pub fn identity() -> Identity {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(names).expect("a self-signed certificate");
    Identity {
        pem: cert.pem(),
        cert: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key_pair.serialize_der()),
    }
}

/// The ring crypto provider, named once for the server and the clients.
///
/// rustls 0.23.48 deprecates it because ring has no post-quantum key exchange
/// (X25519MLKEM768); a service on the open network would pick aws-lc-rs, rustls' default.
/// This example keeps ring because it builds with the C compiler alone, where aws-lc-rs
/// also wants cmake (absent on this project's machines) and takes far longer to build.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS acceptor presenting `id`.
///
/// # Errors
///
/// If rustls refuses the certificate or key.
pub fn acceptor(id: &Identity) -> Result<TlsAcceptor, rustls::Error> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![id.cert.clone()],
            PrivateKeyDer::Pkcs8(id.key.clone_key()),
        )?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections for ever, one weft task each.
pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        weft::spawn(async move {
            if let Err(e) = echo(&acceptor, stream).await {
                eprintln!("tls_echo: {peer}: {e}");
            }
        });
    }
}

/// The handshake, then every byte back until the client closes; then `close_notify`.
async fn echo(acceptor: &TlsAcceptor, stream: TcpStream) -> std::io::Result<()> {
    let mut tls = acceptor.accept(stream).await?;
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = tls.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        tls.write_all(&buf[..n]).await?;
    }
    tls.shutdown().await
}

#[allow(dead_code)] // tests include this file for `serve`, not `main`
#[weft::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(7443);
    let id = identity();
    let pem_path = std::env::temp_dir().join("tls_echo.pem");
    std::fs::write(&pem_path, &id.pem)?;
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "tls_echo: listening on {}, certificate in {}",
        listener.local_addr()?,
        pem_path.display()
    );
    serve(listener, acceptor(&id)?).await?;
    Ok(())
}
